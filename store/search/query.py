"""What a search box's text means: words and phrases, every one required."""

from __future__ import annotations

from dataclasses import dataclass

from store.search.text import Token, tokenize

#: a longer query is refused by the API
MAX_QUERY_CHARS = 500
#: tokens of a query beyond this many are ignored
MAX_QUERY_TOKENS = 16


@dataclass(frozen=True)
class Term:
    """A word, or a phrase of consecutive words (folded)."""

    tokens: tuple[str, ...]

    @property
    def is_phrase(self) -> bool:
        return len(self.tokens) > 1


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]
    #: exact forms of the query words typed with diacritics (for ranking)
    exact: tuple[str, ...]

    @property
    def words(self) -> set[str]:
        return {t for term in self.terms for t in term.tokens}


def parse_query(q: str) -> SearchQuery | None:
    """The terms of a query, or None when it has no word to look for.

    Text inside double quotes is a phrase; outside, each space-separated chunk is a term
    (a phrase when punctuation splits it, as in `251/KH-UBND`). Operators and quotes of
    FTS5 or tsquery are only separators here. At most `MAX_QUERY_TOKENS` tokens count.
    """
    parts = q[:MAX_QUERY_CHARS].split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one opens nothing
        last = parts.pop()
        parts[-1] += " " + last
    chunks: list[list[Token]] = []
    for i, part in enumerate(parts):
        if i % 2:
            chunks.append(tokenize(part))
        else:
            chunks.extend(tokenize(chunk) for chunk in part.split())
    terms: list[Term] = []
    exact: list[str] = []
    budget = MAX_QUERY_TOKENS
    for chunk in chunks:
        chunk = chunk[:budget]
        if not chunk:
            continue
        term = Term(tuple(t.folded for t in chunk))
        if term in terms:
            continue
        terms.append(term)
        budget -= len(chunk)
        exact.extend(t.exact for t in chunk if t.exact and t.exact not in exact)
        if budget <= 0:
            break
    if not terms:
        return None
    return SearchQuery(tuple(terms), tuple(exact))
