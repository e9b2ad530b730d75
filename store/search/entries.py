"""One record's index entry: its folded streams within PostgreSQL's limits."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from store.search.text import segment

#: PostgreSQL's tsvector limits, applied to both databases
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 256
#: bytes of one record's index entry (a tsvector can hold at most 1 MB)
MAX_ENTRY_BYTES = 900_000
#: metadata fields longer than this are cut before indexing
MAX_FIELD_CHARS = 2000


#: in FTS5 columns, an empty position (between fields, or a dropped occurrence): a token
#: character of the `ascii` tokenizer that no text or query ever yields as a token
GAP = "\u00b6"


@dataclass
class IndexEntry:
    """What one record contributes to the index (the same for both databases)."""

    #: folded tokens, metadata first; None is an empty position
    stream: list[str | None] = field(default_factory=list)
    #: the metadata part of the stream alone
    meta: list[str | None] = field(default_factory=list)
    #: tokens only found past the positional limits (words, not phrases)
    tail: list[str] = field(default_factory=list)
    #: exact forms with diacritics
    exact: list[str] = field(default_factory=list)


def metadata_fields(
    document: dict[str, Any] | None,
    archive: dict[str, Any] | None,
    filename: str | None,
    dossier: str | None,
) -> list[str]:
    """The metadata search looks at, in a fixed order."""
    info = document or {}
    values: list[Any] = [
        info.get("number"),
        info.get("type_label"),
        info.get("subject"),
        info.get("issuer"),
        info.get("signer"),
        info.get("signer_title"),
        info.get("place"),
        filename,
        dossier,
        *((archive or {}).get("keywords") or []),
    ]
    return [str(v)[:MAX_FIELD_CHARS] for v in values if v]


def build_entry(fields: Sequence[str], pages: Iterable[str]) -> IndexEntry:
    """The index entry of a record with metadata `fields` and page texts `pages`."""
    segments: list[tuple[list[str], list[str]]] = []
    total = 0
    rest = iter(pages)
    for value in itertools.chain(fields, rest):
        segments.append(segment(value))
        total += len(segments[-1][0]) + 1
        if total > MAX_POSITION:  # a long record: the rest is read page by page
            return _build_bounded(itertools.chain(segments, map(segment, rest)), len(fields))
    entry = IndexEntry()
    exact: list[str] = []
    for index, (words, forms) in enumerate(segments):
        if not words:
            continue
        if entry.stream:
            entry.stream.append(None)
            if index < len(fields):
                entry.meta.append(None)
        entry.stream.extend(words)
        if index < len(fields):
            entry.meta.extend(words)
        exact.extend(forms)
    entry.exact = list(dict.fromkeys(exact))
    counts = Counter(entry.stream)
    counts.pop(None, None)
    size = 2 * len(entry.stream) + sum(len(w.encode()) + 6 for w in counts if w is not None)
    size += sum(len(e.encode()) + 6 for e in entry.exact)
    if max(counts.values(), default=0) <= MAX_POSITIONS_PER_LEXEME and size <= MAX_ENTRY_BYTES:
        return entry
    return _build_bounded(iter(segments), len(fields))


def _build_bounded(segments: Iterator[tuple[list[str], list[str]]], n_meta: int) -> IndexEntry:
    """`build_entry` for a record past a limit, in the same order: token by token until the
    positions are used up, then only the words and exact forms not seen yet."""
    entry = IndexEntry()
    seen: set[str] = set()
    exact_seen: set[str] = set()
    counts: dict[str, int] = {}
    budget = MAX_ENTRY_BYTES
    for index, (words, forms) in enumerate(segments):
        if budget <= 0:
            break
        is_meta = index < n_meta
        if not words:
            continue
        if len(entry.stream) >= MAX_POSITION:  # words only, in order of first appearance
            for word in dict.fromkeys(words):
                if word not in seen:
                    budget -= len(word.encode()) + 6
                    if budget <= 0:
                        break
                    seen.add(word)
                    entry.tail.append(word)
        else:
            if entry.stream:
                entry.stream.append(None)
                if is_meta:
                    entry.meta.append(None)
            for word in words:
                if word not in seen:
                    budget -= len(word.encode()) + 6
                    if budget <= 0:
                        break
                    seen.add(word)
                    if len(entry.stream) >= MAX_POSITION:
                        entry.tail.append(word)
                if len(entry.stream) < MAX_POSITION:
                    budget -= 2
                    counts[word] = count = counts.get(word, 0) + 1
                    kept = word if count <= MAX_POSITIONS_PER_LEXEME else None
                    entry.stream.append(kept)
                    if is_meta:
                        entry.meta.append(kept)
        for form in dict.fromkeys(forms):
            if form not in exact_seen and budget > 0:
                budget -= len(form.encode()) + 6
                exact_seen.add(form)
                entry.exact.append(form)
    for stream in (entry.stream, entry.meta):
        while stream and stream[-1] is None:
            stream.pop()
    return entry
