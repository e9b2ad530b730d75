"""Entries and queries written for each database: tsvector/tsquery literals, FTS5 text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    String,
    bindparam,
    cast,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from store.search.entries import GAP, MAX_POSITION
from store.search.query import SearchQuery


def _quote(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return "'" + lexeme + "'"


_POSITIONS = [str(i) for i in range(MAX_POSITION + 1)]


def tsvector_literal(stream: Sequence[str | None], extra: Iterable[str] = ()) -> str:
    """A tsvector literal: each token of `stream` at its position (from 1), then `extra`
    lexemes without positions (PostgreSQL never matches those in a phrase)."""
    positions: dict[str, list[str]] = {}
    for i, word in enumerate(stream, start=1):
        if word is not None:
            at = positions.get(word)
            if at is None:
                positions[word] = [_POSITIONS[i]]
            else:
                at.append(_POSITIONS[i])
    words = [w for w in extra if w not in positions]
    parts = [f"'{w}':{','.join(p)}" for w, p in positions.items()]
    parts.extend(f"'{w}'" for w in words)
    literal = " ".join(parts)
    if "\\" in literal or literal.count("'") != 2 * len(parts):  # never from our tokens
        parts = [f"{_quote(w)}:{','.join(p)}" for w, p in positions.items()]
        parts.extend(_quote(w) for w in words)
        literal = " ".join(parts)
    return literal


def fts_text(stream: Sequence[str | None]) -> str:
    """An FTS5 column value: one token per position, `GAP` for an empty one."""
    return " ".join(GAP if w is None else w for w in stream)


def tsquery_literal(query: SearchQuery) -> str:
    """Every term of the query, as a tsquery literal (a phrase with `<->`)."""
    parts = []
    for term in query.terms:
        if term.is_phrase:
            parts.append("(" + " <-> ".join(_quote(t) for t in term.tokens) + ")")
        else:
            parts.append(_quote(term.tokens[0]))
    return " & ".join(parts)


def exact_tsquery_literal(query: SearchQuery) -> str:
    return " & ".join(_quote(e) for e in query.exact)


def fts_match(query: SearchQuery, *, meta: bool = False) -> str:
    """Every term of the query as an FTS5 expression: in the whole record (words also in the
    tail, phrases only in the positional stream), or with `meta` in the metadata. Every
    token is quoted, so nothing of the user's text is FTS5 syntax."""
    parts = []
    for term in query.terms:
        columns = "meta" if meta else "stream" if term.is_phrase else "{stream tail}"
        parts.append(f'{columns} : "{" ".join(term.tokens)}"')
    return " AND ".join(parts)


def fts_exact_match(query: SearchQuery) -> str:
    return " AND ".join(f'exact : "{e}"' for e in query.exact)


def ts_match(tsvector: ColumnElement[Any], parameter: str) -> ColumnElement[bool]:
    """`tsvector @@ CAST(:parameter AS tsquery)`: the query (a tsquery literal) a value."""
    return tsvector.op("@@", return_type=Boolean)(cast(bindparam(parameter, type_=String), TSQUERY))
