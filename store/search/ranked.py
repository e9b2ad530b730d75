"""Finding the matches of a query and ranking them block by block."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import True_

from store.platform.models import DocumentRow
from store.platform.steps import Database, Read, Steps
from store.search.index import LITE_INDEX, PG_INDEX
from store.search.literals import (
    exact_tsquery_literal,
    fts_exact_match,
    fts_match,
    ts_match,
    tsquery_literal,
)
from store.search.query import SearchQuery

#: matches ranked together (see the module docstring)
RANK_WINDOW = 100
#: newest records a block is first looked for in, by primary key (PostgreSQL)
RECENT_SLICE = 1000
#: the second slice is this many times as wide as the first
WIDE_SLICE_FACTOR = 10

#
# A search reads in several statements, each chosen from what the last returned: written as
# steps (`store.platform.steps`), run in a thread on a session's connection or from the event loop.
# Statements are built once per shape (which clauses, which bounds) and take their values as
# parameters, so SQLAlchemy, psycopg and PostgreSQL each reuse their compiled forms.

#: settings a search's statements run with on PostgreSQL: in the transaction of a threaded
#: search, or as the settings of the event loop's search connections. Sequential scans off:
#: PostgreSQL's estimates leave out reading each tsvector, and a sequential scan over them is
#: ruinous always; what a search runs besides (ranking bits, rows and pages by id) is read
#: by index either way.
SEARCH_SETTINGS = {"enable_seqscan": "off"}


@dataclass(frozen=True, eq=False)
class Where:
    """What a search keeps to, as clauses on `documents` (the visibility rule, the filters)
    made once per shape, with the values of their parameters."""

    clauses: tuple[ColumnElement[bool], ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class Ranked:
    id: str
    #: 0 exact and in the metadata, 1 exact, 2 in the metadata, 3 the rest
    tier: int


@dataclass(frozen=True)
class Block:
    """Up to `RANK_WINDOW` matches, in the order they are shown."""

    members: list[Ranked]
    #: where the next block starts (an inclusive upper bound of ids), None after the last
    next_hi: str | None


def ranked_block(db: Database, query: SearchQuery, where: Where, hi: str | None) -> Steps[Block]:
    """The newest `RANK_WINDOW` records matching `query` and `where` with ids up to `hi`, in
    ranked order. On PostgreSQL, run with `SEARCH_SETTINGS`."""
    ids = yield from _candidates(db, query, where, hi, RANK_WINDOW + 1)
    next_hi = ids[RANK_WINDOW] if len(ids) > RANK_WINDOW else None
    ids = ids[:RANK_WINDOW]
    exact, meta = yield from _bits(db, query, ids)
    members = [Ranked(i, (0 if i in exact else 2) + (0 if i in meta else 1)) for i in ids]
    members.sort(key=lambda m: m.tier)  # stable: newest first within a tier
    return Block(members, next_hi)


def ids_in(
    postgres: bool, key: ColumnElement[str] | QueryableAttribute[str]
) -> ColumnElement[bool]:
    """`key IN :ids`, the parameter's value from `id_values`. On PostgreSQL one parameter,
    so the statement's text does not change with the number of ids and the compiled forms
    (SQLAlchemy's, psycopg's, the server's prepared plan) are reused instead of made again
    per search: the ids in one string, split by the server (psycopg formats a list of
    strings as an array in Python, ~3 µs an id: a tenth of a search's CPU)."""
    if postgres:
        return key == any_(func.string_to_array(bindparam("ids", type_=String), " "))
    return key.in_(bindparam("ids", expanding=True))


def id_values(postgres: bool, ids: Sequence[str]) -> str | list[str]:
    """The value of `ids_in`'s parameter for `ids` (record ids: letters and digits)."""
    if not postgres:
        return list(ids)
    joined = " ".join(ids)
    if joined.count(" ") != max(len(ids) - 1, 0):
        raise ValueError("a record id with a space")
    return joined


def _candidates(
    db: Database, query: SearchQuery, where: Where, hi: str | None, n: int
) -> Steps[list[str]]:
    """Ids of the newest `n` matches up to `hi`, newest first."""
    clauses = tuple(c for c in where.clauses if not isinstance(c, True_))
    if not db.postgres:
        values = {**where.values, "m": fts_match(query), "n": n}
        if hi is not None:
            values["top"] = hi
        rows = yield Read(_lite_candidates(clauses, hi is not None), values)
        return [r[0] for r in rows]
    # PostgreSQL's estimates leave out reading each tsvector, which is most of the cost:
    # walking the primary key (newest first) is cheap while matches are dense and ruinous
    # when they are rare. So the plan is chosen here (`_slices`): slices of the newest
    # records first, the rest (or everything, for rare words) by the GIN index, sorted on an
    # expression the primary key cannot serve. Which way is taken never changes the result,
    # only its cost.
    values = {**where.values, "tsq": tsquery_literal(query)}
    ids: list[str] = []
    top = hi  # inclusive upper bound of what is left to look at
    for size, walk in (yield from _slices(db, query, n)):
        floor = yield from _floor(db, hi, size)
        if floor is not None and top is not None and floor >= top:
            continue  # (floors a few seconds apart in age) nothing new in this slice
        # dense: down the primary key until the block is full; sparse: the slice's
        # matches from the GIN index and the key's range together, then sorted
        stmt = _pg_slice(clauses, top is not None, floor is not None, walk)
        rows = yield Read(stmt, {**values, "top": top, "floor": floor, "n": n - len(ids)})
        ids.extend(r[0] for r in rows)
        if floor is None or len(ids) >= n:  # the slice held every record, or enough
            return ids
        top = floor
    if len(ids) < n:
        rows = yield Read(
            _pg_rest(clauses, top is not None), {**values, "top": top, "n": n - len(ids)}
        )
        ids.extend(r[0] for r in rows)
    return ids


#: the key as an expression the primary key's index cannot serve (see `_candidates`)
_unordered = literal_column("(search_docs.document_id || '')", String)


def _pg_matches(clauses: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    key = PG_INDEX.c.document_id
    stmt = select(key).where(ts_match(PG_INDEX.c.tsv, "tsq"))
    if clauses:  # the visibility rule and the filters; nothing to join for an unlimited caller
        stmt = stmt.join(DocumentRow, DocumentRow.id == key).where(*clauses)
    return stmt


@cache
def _pg_slice(
    clauses: tuple[ColumnElement[bool], ...], below_top: bool, above_floor: bool, walk: bool
) -> Select[Any]:
    key = PG_INDEX.c.document_id
    stmt = _pg_matches(clauses)
    if below_top:
        stmt = stmt.where(key <= bindparam("top", type_=String))
    if above_floor:
        stmt = stmt.where(key > bindparam("floor", type_=String))
    order = key.desc() if walk else _unordered.desc()
    return stmt.order_by(order).limit(bindparam("n", type_=Integer))


@cache
def _pg_rest(clauses: tuple[ColumnElement[bool], ...], below_top: bool) -> Select[Any]:
    stmt = _pg_matches(clauses)
    if below_top:
        stmt = stmt.where(_unordered <= bindparam("top", type_=String))
    return stmt.order_by(_unordered.desc()).limit(bindparam("n", type_=Integer))


@cache
def _lite_candidates(clauses: tuple[ColumnElement[bool], ...], below_top: bool) -> Select[Any]:
    fts = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m")
    stmt = (
        select(DocumentRow.id)
        .join(LITE_INDEX, LITE_INDEX.c.document_id == DocumentRow.id)
        .where(LITE_INDEX.c.id.in_(fts.columns(column("rowid", Integer))), *clauses)
    )
    if below_top:
        stmt = stmt.where(DocumentRow.id <= bindparam("top", type_=String))
    return stmt.order_by(DocumentRow.id.desc()).limit(bindparam("n", type_=Integer))


def _slices(db: Database, query: SearchQuery, n: int) -> Steps[list[tuple[int, bool]]]:
    """How many of the newest records (below the bound) to look at before the GIN index
    takes the rest, and whether to walk them by primary key.

    The newest `RECENT_SLICE` records are walked when the query's words are common enough
    to fill the block there (the walk stops once it is full); the next, ten times as wide,
    when they are common enough to fill it there, or when the first slice fell short: not
    walked (a walk reads the tsvector of every record it passes, 3,000 of them for a rare
    phrase like `kh-ubnd`) but read through the GIN index within the slice's key range, so
    only the slice's matches are read."""
    density = yield from _density(db, query)
    wide = RECENT_SLICE * WIDE_SLICE_FACTOR
    if density * RECENT_SLICE >= n:
        return [(RECENT_SLICE, True), (wide, False)]
    if density * wide >= n:
        return [(wide, False)]
    return []


#: per database: (when read, frequency of the most common lexemes, frequency of the others)
_FREQUENCIES: dict[str, tuple[float, dict[str, float], float]] = {}
#: per database and slice size: (when read, the id below the newest records of that many)
_FLOORS: dict[tuple[str, int], tuple[float, str | None]] = {}
_STATS_SECONDS = 300.0
_FLOOR_SECONDS = 10.0

_LEXEME_STATS = text(
    "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = 'search_docs' AND attname = 'tsv'"
)
_FLOOR_ANY = (
    select(PG_INDEX.c.document_id)
    .order_by(PG_INDEX.c.document_id.desc())
    .offset(bindparam("size", type_=Integer))
    .limit(bindparam("one", type_=Integer))
)
_FLOOR_BELOW = _FLOOR_ANY.where(PG_INDEX.c.document_id <= bindparam("hi", type_=String))


def _density(db: Database, query: SearchQuery) -> Steps[float]:
    """At most how many records in one match `query`: as many as contain its rarest word
    (ANALYZE statistics; 1 when unknown)."""
    cached = _FREQUENCIES.get(db.key)
    if cached is None or time.monotonic() - cached[0] > _STATS_SECONDS:
        rows = yield Read(_LEXEME_STATS, {})
        if not rows or not rows[0][0]:
            cached = (time.monotonic(), {}, 1.0)
        else:
            freqs = dict(zip(rows[0][0], rows[0][1], strict=False))
            cached = (time.monotonic(), freqs, min(freqs.values()))
        _FREQUENCIES[db.key] = cached
    _, freqs, others = cached
    return min(freqs.get(w, others) for w in query.words)


def _floor(db: Database, hi: str | None, size: int) -> Steps[str | None]:
    """The id just below the newest `size` records up to `hi` (None: fewer records).

    Only where the work is split depends on it, so for the first block (`hi` None) a value a
    few seconds old does as well."""
    if hi is not None:
        rows = yield Read(_FLOOR_BELOW, {"hi": hi, "size": size, "one": 1})
        return rows[0][0] if rows else None
    key = (db.key, size)
    cached = _FLOORS.get(key)
    if cached is None or time.monotonic() - cached[0] > _FLOOR_SECONDS:
        rows = yield Read(_FLOOR_ANY, {"size": size, "one": 1})
        cached = (time.monotonic(), rows[0][0] if rows else None)
        _FLOORS[key] = cached
    return cached[1]


@cache
def _pg_bits(exact: bool) -> Select[Any]:
    exact_sql = ts_match(PG_INDEX.c.exact, "exact_tsq") if exact else true()
    meta_sql = ts_match(PG_INDEX.c.meta, "tsq")
    return select(PG_INDEX.c.document_id, exact_sql, meta_sql).where(
        ids_in(True, PG_INDEX.c.document_id)
    )


_LITE_BITS = text(
    "SELECT s.document_id FROM search_docs s WHERE s.document_id IN :ids AND s.id IN "
    "(SELECT rowid FROM search_fts WHERE search_fts MATCH :m)"
).bindparams(bindparam("ids", expanding=True))


def _bits(db: Database, query: SearchQuery, ids: list[str]) -> Steps[tuple[set[str], set[str]]]:
    """(ids matching the exact forms, ids matching every term in the metadata)."""
    if not ids:
        return set(), set()
    if db.postgres:
        values = {"ids": id_values(True, ids), "tsq": tsquery_literal(query)}
        if query.exact:
            values["exact_tsq"] = exact_tsquery_literal(query)
        rows = yield Read(_pg_bits(bool(query.exact)), values)
        return {r[0] for r in rows if r[1]}, {r[0] for r in rows if r[2]}
    exact = set(ids)
    if query.exact:
        rows = yield Read(_LITE_BITS, {"ids": ids, "m": fts_exact_match(query)})
        exact = {r[0] for r in rows}
    rows = yield Read(_LITE_BITS, {"ids": ids, "m": fts_match(query, meta=True)})
    return exact, {r[0] for r in rows}
