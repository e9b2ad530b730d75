"""Snippets: where the query's words are found in a record's pages, highlighted."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from store.search.query import SearchQuery
from store.search.text import FOLD_TABLE, exact_form, fold, fold_with_offsets

#: pages and characters read per record to find snippets
SNIPPET_PAGES = 50
SNIPPET_CHARS = 200_000
MAX_SNIPPETS = 3


@dataclass(frozen=True)
class Snippet:
    page: int
    #: HTML: the text escaped, the matches in <mark>
    html: str


@lru_cache(maxsize=256)
def _highlighter(query: SearchQuery) -> re.Pattern[str]:
    """The query's words in folded text, not followed by a letter or digit (see
    `_whole_words` for the start)."""
    words = sorted(query.words, key=len, reverse=True)
    return re.compile(r"(?:" + "|".join(map(re.escape, words)) + r")(?![^\W_])")


def _whole_words(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    r"""Matches of `pattern` (words: letters and digits only) that start a word.

    The same as a `(?<![^\W_])` look-behind in the pattern, which would be tried at every
    position of the text and keep the regex engine from skipping ahead to the characters a
    word can start with (most of the cost of snippets). Nothing is missed: a match that does
    not start a word lies inside one, and no word starts before its end."""
    for match in pattern.finditer(text):
        start = match.start()
        if start == 0 or not text[start - 1].isalnum():
            yield match


#: folded character → every character that folds to it
_VARIANTS: dict[str, str] = {}
_DROPPED: re.Pattern[str] | None = None


@lru_cache(maxsize=256)
def _unfolding(query: SearchQuery) -> re.Pattern[str]:
    """The query's words in *unfolded* text (as `_highlighter`): each character stands for every
    character that folds to it (`d` for `[dDđĐðÐ]`). Right on text where folding keeps one
    character for one, which `_DROPPED` tells; it spares folding every page."""
    global _DROPPED
    if _DROPPED is None:
        variants: dict[str, list[str]] = {}
        dropped = []
        for code in range(0x10000):
            if 0xD800 <= code <= 0xDFFF:
                continue
            folded = FOLD_TABLE[code]
            if folded is None:
                dropped.append(chr(code))
            else:
                variants.setdefault(folded, []).append(chr(code))
        _VARIANTS.update({k: "".join(v) for k, v in variants.items()})
        _DROPPED = re.compile("[" + "".join(map(re.escape, dropped)) + "]")

    def one_of(variants: str) -> str:
        return "[" + "".join(map(re.escape, variants)) + "]"

    def chars(w: str) -> str:
        return "".join(one_of(_VARIANTS.get(c, c)) for c in w)

    # Written as [any first character](?:(?<=[first of word 1])rest of word 1|…): a pattern
    # that starts with one character class lets the regex engine skip ahead to the
    # characters a word can start with, where a choice of words, each starting with its own
    # class, is tried at every position of the page (measured: most of the cost of snippets)
    words = sorted(query.words, key=len, reverse=True)
    first = one_of("".join(sorted({c for w in words for c in _VARIANTS.get(w[0], w[0])})))
    alternatives = "|".join(f"(?<={chars(w[0])}){chars(w[1:])}" for w in words)
    return re.compile(f"{first}(?:{alternatives})(?![^\\W_])")


_JOIN_MARKS = re.compile(r"\s{1,10}|\s?[-/.]\s?")
_SPACES = re.compile(r"\s+")


#: stop reading pages once the best snippets are certain (off: read up to SNIPPET_CHARS)
_STOP_EARLY = True


def snippets(pages: Iterable[tuple[int, str]], query: SearchQuery) -> list[Snippet]:
    """Up to `MAX_SNIPPETS` pieces of the pages where the query's words are, best first:
    pages with more of the words (and their exact forms) before others."""
    pattern = _highlighter(query)
    unfolding = _unfolding(query)
    assert _DROPPED is not None
    # Pages come in order and ties go to the lower page number: once MAX_SNIPPETS pages have
    # every word and every exact form, no later page can take their place.
    best = (len(query.words), len(set(query.exact)))
    complete = 0
    found = []
    read = 0
    for number, page in pages:
        if read >= SNIPPET_CHARS:
            break
        page = page[: SNIPPET_CHARS - read]
        read += len(page)
        spans = []
        if _DROPPED.search(page) is None:  # one character for one: no need to fold
            for match in _whole_words(unfolding, page):
                spans.append((match.start(), match.end(), fold(match.group())))
        else:
            folded, offsets = fold_with_offsets(page)
            for match in _whole_words(pattern, folded):
                start, end = match.span()
                if offsets is not None:
                    start = offsets[start]
                    end = offsets[end] if end < len(offsets) else len(page)
                spans.append((start, end, match.group()))
        if not spans:
            continue
        exact = []
        forms = set()
        if query.exact:
            for span in spans:
                word = page[span[0] : span[1]]
                if not word.isascii():  # (the exact forms of a query carry diacritics)
                    form = exact_form(word)
                    if form in query.exact:
                        exact.append(span)
                        forms.add(form)
        score = (len({s[2] for s in spans}), len(forms))
        found.append((score, number, page, spans, exact))
        complete += score == best
        if complete == MAX_SNIPPETS and _STOP_EARLY:
            break
    found.sort(key=lambda f: (-f[0][0], -f[0][1], f[1]))
    return [
        Snippet(number, _render(page, spans, (exact or spans)[0][0]))
        for _, number, page, spans, exact in found[:MAX_SNIPPETS]
    ]


#: private-use characters standing for <mark> and </mark> while a snippet is made
_OPEN, _CLOSE = "\ue000", "\ue001"


def _render(page: str, spans: list[tuple[int, int, str]], anchor: int, width: int = 240) -> str:
    start = max(0, anchor - width // 3)
    if start:
        space = page.find(" ", start, anchor)
        start = space + 1 if space != -1 else start
    end = min(len(page), start + width)
    if end < len(page):
        space = page.rfind(" ", anchor, end)
        end = space if space > anchor else end
    marks: list[list[int]] = []
    for s, e, _ in spans:
        if s < start or e > end:
            continue
        if marks and _JOIN_MARKS.fullmatch(page[marks[-1][1] : s]):
            marks[-1][1] = e
        else:
            marks.append([s, e])
    parts: list[str] = []
    at = start
    for s, e in marks:
        parts += (page[at:s], _OPEN, page[s:e], _CLOSE)
        at = e
    parts.append(page[at:end])
    window = "".join(parts)
    if window.count(_OPEN) == len(marks) and window.count(_CLOSE) == len(marks):
        # spaces squeezed and the text escaped in one pass (marks start and end on letters
        # or digits: no run of spaces crosses one)
        body = _plain(window).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    else:  # the page itself holds those characters
        body = "".join(
            _plain(part) if i % 4 != 2 else "<mark>" + _plain(part) + "</mark>"
            for i, part in enumerate(parts)
            if i % 4 in (0, 2)
        )
    return (("…" if start else "") + body + ("…" if end < len(page) else "")).strip()


def _plain(value: str) -> str:
    return html.escape(_SPACES.sub(" ", value))
