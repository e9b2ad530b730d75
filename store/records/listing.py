"""The record list behind `GET /api/v1/records`: filters, keyset pagination, and search.

Only the records the caller may see are ever read (`store.records.visibility` is part of
every query), so pages are full and nothing about hidden records leaks, snippets included.

**The list without `q`** is in the order of the records' last change, `(updated_at, id)`
ascending (`order="desc"`: newest change first). The cursor holds the `(updated_at, id)` of
the last record of a page and the next page starts right after it — a keyset, not an offset —
backed by the indexes `(updated_at, id)`, `(unit_code, updated_at, id)` and
`(status, updated_at, id)`. Hence, in ascending order:

* a record added while a client pages through the list comes later (its updated_at is the
  newest), never skipped and never twice;
* a record changed while a client pages moves to the end with its new updated_at: it is not
  skipped; if the client had already seen it, it comes again with its new version.

This is what incremental sync by other services relies on: page with `updated_since` until
`next_cursor` is null, remember the largest `updated_at` received, next time start from it
(`updated_since` is inclusive; records are recognised by `id` and `version`). A change is
stamped when its transaction starts writing and becomes visible when it commits; to be safe
against a transaction that commits while a client reads, start the next sync a minute
before the remembered time — the overlap only repeats records.

**Search (`q`)** orders by relevance (see `store.search`): the newest matches in blocks of
`store.search.ranked.RANK_WINDOW`, each block ranked (exact diacritics, then metadata, then newest).
The cursor holds the block's upper bound and the position in it; records added later are
newer than every bound and never shift a later page. A record changed between two pages
may move inside its block (search is not the tool for sync).

A cursor is opaque (base64 of JSON) and tied to the filters and query it came from; a cursor
that is malformed or belongs to another query raises `InvalidCursor` (422 in the API).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from schemas.auth import Principal
from schemas.listing import RecordList
from schemas.record import Status
from store.platform.async_reads import AsyncReads
from store.platform.models import DocumentRow, PageRow, UTCDateTime
from store.platform.steps import Database, Read, Steps, database_of, run_steps
from store.records.reads import error_of
from store.records.visibility import VisibilityShape, visibility, visibility_clause
from store.search.query import SearchQuery, parse_query
from store.search.ranked import SEARCH_SETTINGS, Where, id_values, ids_in, ranked_block
from store.search.snippets import SNIPPET_PAGES, snippets

Order = Literal["asc", "desc"]
MAX_LIMIT = 200
_CURSOR_VERSION = 1


#: a page as plain data, `RecordList` in shape: validated (and serialized) in one call
Page = dict[str, Any]
_PAGE = TypeAdapter(RecordList)


class InvalidCursor(ValueError):
    """A cursor that is not one of ours, or not for this query."""


@dataclass(frozen=True)
class RecordFilters:
    """Filters of the list; several values of one filter mean any of them."""

    units: tuple[str, ...] = ()
    #: dossier codes (mã hồ sơ)
    dossiers: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    statuses: tuple[Status, ...] = ()
    issued_from: date | None = None
    issued_to: date | None = None
    #: changed at or after this instant
    updated_since: datetime | None = None

    def parameters(self) -> dict[str, Any]:
        """The filters that are set, as the parameters of `filter_clauses`."""
        values = {
            "units": list(self.units),
            "dossiers": list(self.dossiers),
            "types": list(self.types),
            "statuses": [s.value for s in self.statuses],
            "issued_from": self.issued_from,
            "issued_to": self.issued_to,
            "updated_since": self.updated_since,
        }
        return {name: value for name, value in values.items() if value not in (None, [])}

    def key(self) -> list[Any]:
        return [
            sorted(self.units),
            sorted(self.dossiers),
            sorted(self.types),
            sorted(s.value for s in self.statuses),
            self.issued_from,
            self.issued_to,
            self.updated_since,
        ]


@cache
def filter_clauses(names: frozenset[str]) -> tuple[ColumnElement[bool], ...]:
    """The clauses of the filters `names`, their values as parameters of the same names."""
    out: list[ColumnElement[bool]] = []
    if "units" in names:
        out.append(DocumentRow.unit_code.in_(bindparam("units", expanding=True)))
    if "dossiers" in names:
        out.append(DocumentRow.dossier.in_(bindparam("dossiers", expanding=True)))
    if "types" in names:
        out.append(DocumentRow.doc_type.in_(bindparam("types", expanding=True)))
    if "statuses" in names:
        out.append(DocumentRow.status.in_(bindparam("statuses", expanding=True)))
    if "issued_from" in names:
        out.append(DocumentRow.issued_on >= bindparam("issued_from", type_=Date()))
    if "issued_to" in names:
        out.append(DocumentRow.issued_on <= bindparam("issued_to", type_=Date()))
    if "updated_since" in names:
        out.append(DocumentRow.updated_at >= bindparam("updated_since", type_=UTCDateTime()))
    return tuple(out)


def list_records(
    session: Session,
    principal: Principal,
    filters: RecordFilters,
    *,
    q: str | None = None,
    order: Order = "asc",
    limit: int = 50,
    cursor: str | None = None,
) -> RecordList:
    """One page of the records `principal` may see; with `q`, of those matching it."""
    page = _page(session, principal, filters, q=q, order=order, limit=limit, cursor=cursor)
    return _PAGE.validate_python(page)


def list_records_json(
    session: Session,
    principal: Principal,
    filters: RecordFilters,
    *,
    q: str | None = None,
    order: Order = "asc",
    limit: int = 50,
    cursor: str | None = None,
) -> bytes:
    """`list_records` as the JSON of `RecordList`, validated and serialized in one pass each
    (no model object per record: for an API answer, that was most of the cost)."""
    page = _page(session, principal, filters, q=q, order=order, limit=limit, cursor=cursor)
    return _PAGE.dump_json(_PAGE.validate_python(page))


async def list_page_json(
    reads: AsyncReads,
    principal: Principal,
    filters: RecordFilters,
    *,
    order: Order = "asc",
    limit: int = 50,
    cursor: str | None = None,
) -> bytes:
    """A list page without `q`, as `list_records_json` gives it, read from the event loop
    (`store.platform.async_reads`: lists are the API's most frequent call after the record)."""
    limit = max(1, min(limit, MAX_LIMIT))
    stmt, values, fingerprint = _list_query(principal, filters, order, limit, cursor)
    page = _list_page(await reads.fetch(stmt, values), limit, fingerprint)
    return _PAGE.dump_json(_PAGE.validate_python(page))


def _page(
    session: Session,
    principal: Principal,
    filters: RecordFilters,
    *,
    q: str | None,
    order: Order,
    limit: int,
    cursor: str | None,
) -> Page:
    limit = max(1, min(limit, MAX_LIMIT))
    if q is not None and q.strip():
        steps = _search_steps(
            database_of(session.get_bind().engine), principal, filters, q, limit, cursor
        )
        return run_steps(session.connection(), steps, SEARCH_SETTINGS)
    stmt, values, fingerprint = _list_query(principal, filters, order, limit, cursor)
    return _list_page(session.connection().execute(stmt, values).all(), limit, fingerprint)


async def search_page_json(
    reads: AsyncReads,
    principal: Principal,
    filters: RecordFilters,
    q: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> bytes:
    """A page of a search, as `list_records_json` gives it, its statements sent from the event
    loop (`reads` made with `store.search.ranked.SEARCH_SETTINGS`)."""
    limit = max(1, min(limit, MAX_LIMIT))
    steps = _search_steps(reads.database, principal, filters, q, limit, cursor)
    page = await reads.run(steps)
    return _PAGE.dump_json(_PAGE.validate_python(page))


# --------------------------------------------------------------------------------------------


#: what a list item shows, in the order `_item` unpacks (plain rows: no ORM objects)
_ITEM_COLUMNS = (
    DocumentRow.id,
    DocumentRow.batch_id,
    DocumentRow.unit_code,
    DocumentRow.dossier,
    DocumentRow.filename,
    DocumentRow.media_type,
    DocumentRow.size,
    DocumentRow.page_count,
    DocumentRow.status,
    DocumentRow.error_code,
    DocumentRow.error_message,
    DocumentRow.document,
    DocumentRow.version,
    DocumentRow.created_at,
    DocumentRow.updated_at,
    DocumentRow.digitized_at,
)


@cache
def _list_statement(
    visible: VisibilityShape, filters: frozenset[str], order: Order, after: bool
) -> Select[Any]:
    """The statement of a list page, built once per shape of the caller's visibility and
    filters (building it anew cost a tenth of a page); values are its parameters."""
    stmt = select(*_ITEM_COLUMNS).where(visibility_clause(visible), *filter_clauses(filters))
    if after:
        key = tuple_(DocumentRow.updated_at, DocumentRow.id)
        bound = tuple_(
            bindparam("after_updated", type_=UTCDateTime()), bindparam("after_id", type_=String())
        )
        stmt = stmt.where(key > bound if order == "asc" else key < bound)
    if order == "asc":
        stmt = stmt.order_by(DocumentRow.updated_at.asc(), DocumentRow.id.asc())
    else:
        stmt = stmt.order_by(DocumentRow.updated_at.desc(), DocumentRow.id.desc())
    return stmt.limit(bindparam("page_size", type_=Integer()))


def _shape(
    principal: Principal, filters: RecordFilters
) -> tuple[VisibilityShape, frozenset[str], dict[str, Any]]:
    """The caller's visibility shape, the filters that are set, and the values of both's
    parameters: what a statement built once per shape is run with."""
    visible, values = visibility(principal)
    given = filters.parameters()
    values.update(given)
    return visible, frozenset(given), values


def _list_query(
    principal: Principal,
    filters: RecordFilters,
    order: Order,
    limit: int,
    cursor: str | None,
) -> tuple[Select[Any], dict[str, Any], str]:
    """The statement of a list page (one more row than `limit`), its values, and the
    fingerprint its cursors carry."""
    fingerprint = _fingerprint("list", filters.key(), order)
    after = _decode(cursor, "l", fingerprint)
    visible, names, values = _shape(principal, filters)
    stmt = _list_statement(visible, names, order, after is not None)
    values["page_size"] = limit + 1
    if after is not None:
        values["after_updated"] = after["u"]
        values["after_id"] = after["i"]
    return stmt, values, fingerprint


def _list_page(rows: Sequence[Any], limit: int, fingerprint: str) -> Page:
    """The page of `_list_query`'s rows (plain rows, no ORM objects)."""
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = _encode(
            {"k": "l", "u": last.updated_at.isoformat(), "i": last.id, "f": fingerprint}
        )
    return {"items": [_item(doc) for doc in rows], "next_cursor": next_cursor}


def _search_steps(
    db: Database,
    principal: Principal,
    filters: RecordFilters,
    q: str,
    limit: int,
    cursor: str | None,
) -> Steps[Page]:
    """A page of the search `q`, as steps (`store.platform.steps`)."""
    query = parse_query(q)
    fingerprint = _fingerprint("search", filters.key(), query)
    position = _decode(cursor, "s", fingerprint)
    if query is None:  # only punctuation: nothing can match
        return {"items": [], "next_cursor": None}
    visible, names, values = _shape(principal, filters)
    where = Where((visibility_clause(visible), *filter_clauses(names)), values)
    hi: str | None = position["h"] if position else None
    after: tuple[int, str] | None = (position["t"], position["i"]) if position else None
    picked: list[tuple[str, int, str]] = []  # (block bound, tier, id)
    more = False
    while True:
        block = yield from ranked_block(db, query, where, hi)
        if not block.members:
            break
        if hi is None:
            hi = max(m.id for m in block.members)  # later records never join this block
        members = block.members
        if after is not None:
            tier, last = after
            members = [m for m in members if m.tier > tier or (m.tier == tier and m.id < last)]
        room = limit - len(picked)
        picked.extend((hi, m.tier, m.id) for m in members[:room])
        if len(picked) == limit:
            more = len(members) > room or block.next_hi is not None
            break
        if block.next_hi is None:
            break
        hi, after = block.next_hi, None
    next_cursor = None
    if more:
        bound, tier, last = picked[-1]
        next_cursor = _encode({"k": "s", "h": bound, "t": tier, "i": last, "f": fingerprint})
    if not picked:
        return {"items": [], "next_cursor": next_cursor}
    # the rule again: a record may have changed since it was picked
    picked_ids = [p[2] for p in picked]
    rows = yield Read(
        _picked_rows(db.postgres, where.clauses),
        {**values, "ids": id_values(db.postgres, picked_ids)},
    )
    docs = {d[0]: d for d in rows}
    ids = [i for i in picked_ids if i in docs]
    pages: dict[str, list[tuple[int, str]]] = {i: [] for i in ids}
    if ids:
        for doc_id, number, page_text in (
            yield Read(_picked_pages(db.postgres), {"ids": id_values(db.postgres, ids)})
        ):
            pages[doc_id].append((number, page_text))
    items = []
    for doc_id in ids:
        found = snippets(pages[doc_id], query)
        item = _item(docs[doc_id])
        item["snippets"] = [{"page": s.page, "text": s.html} for s in found]
        items.append(item)
    return {"items": items, "next_cursor": next_cursor}


@cache
def _picked_rows(postgres: bool, clauses: tuple[ColumnElement[bool], ...]) -> Select[Any]:
    """The list items of the records `ids` that `clauses` keep."""
    return select(*_ITEM_COLUMNS).where(ids_in(postgres, DocumentRow.id), *clauses)


@cache
def _picked_pages(postgres: bool) -> Select[str, int, str]:
    """The pages snippets are looked for in, of the records `ids`, in order."""
    return (
        select(PageRow.document_id, PageRow.number, PageRow.text)
        .where(ids_in(postgres, PageRow.document_id), PageRow.number <= SNIPPET_PAGES)
        .order_by(PageRow.document_id, PageRow.number)
    )


def _item(doc: Row[*tuple[Any, ...]]) -> dict[str, Any]:
    """A `RecordListItem` as plain data (validated with the whole page). The row is unpacked
    in `_ITEM_COLUMNS` order: by position, not by name, which costs a row ten times less."""
    (
        doc_id, batch_id, unit_code, dossier, filename, media_type, size, page_count, status,
        error_code, error_message, document, version, created_at, updated_at, digitized_at,
    ) = doc  # fmt: skip
    return {
        "id": doc_id,
        "status": status,
        "unit": unit_code,
        "batch_id": batch_id,
        "dossier": dossier,
        "filename": filename,
        "media_type": media_type,
        "size": size,
        "pages": page_count,
        "document": document or {},
        "error": error_of(error_code, error_message),
        "version": version,
        "created_at": created_at,
        "updated_at": updated_at,
        "digitized_at": digitized_at,
    }


# --------------------------------------------------------------------------------------------
# Cursors


def _fingerprint(kind: str, filters: list[Any], extra: SearchQuery | str | None) -> str:
    if isinstance(extra, SearchQuery):
        extra = json.dumps([[list(t.tokens) for t in extra.terms], list(extra.exact)])
    raw = json.dumps([kind, filters, extra], default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps({"v": _CURSOR_VERSION, **payload}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _decode(cursor: str | None, kind: str, fingerprint: str) -> dict[str, Any] | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor("malformed cursor") from None
    if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION or data.get("k") != kind:
        raise InvalidCursor("not a cursor of this list")
    if data.get("f") != fingerprint:
        raise InvalidCursor("the cursor belongs to other filters or another query")
    try:
        if kind == "l":
            updated = datetime.fromisoformat(data["u"])
            if updated.tzinfo is None:
                raise ValueError
            return {"u": updated, "i": _id(data["i"])}
        tier = data["t"]
        if type(tier) is not int or not 0 <= tier <= 3:
            raise ValueError
        return {"h": _id(data["h"]), "t": tier, "i": _id(data["i"])}
    except (KeyError, TypeError, ValueError):
        raise InvalidCursor("malformed cursor") from None


def _id(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 40:
        raise ValueError
    return value


__all__: Sequence[str] = [
    "InvalidCursor",
    "RecordFilters",
    "list_page_json",
    "list_records",
    "list_records_json",
    "search_page_json",
]
