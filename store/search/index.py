"""The index in the database, kept in the record's own transaction."""

from __future__ import annotations

from sqlalchemy import (
    Integer,
    String,
    column,
    delete,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Session

from schemas.record import Status
from store.platform.models import DocumentRow, PageRow
from store.search.entries import IndexEntry, build_entry, metadata_fields
from store.search.literals import fts_text, tsvector_literal

#: statuses whose records have content to search
SEARCHABLE = (Status.digitized.value, Status.needs_review.value)


PG_INDEX = table(
    "search_docs",
    column("document_id", String),
    column("tsv", TSVECTOR),
    column("meta", TSVECTOR),
    column("exact", TSVECTOR),
)
LITE_INDEX = table("search_docs", column("id", Integer), column("document_id", String))

#: the GIN index of the stream: no pending list, so a search never scans unmerged entries
PG_STREAM_INDEX = (
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv) WITH (fastupdate = off)"
)

_PG_UPSERT = text(
    "INSERT INTO search_docs (document_id, tsv, meta, exact) VALUES (:id, CAST(:tsv AS "
    "tsvector), CAST(:meta AS tsvector), CAST(:exact AS tsvector)) ON CONFLICT (document_id) "
    "DO UPDATE SET tsv = EXCLUDED.tsv, meta = EXCLUDED.meta, exact = EXCLUDED.exact"
)
_FTS_INSERT = text(
    "INSERT INTO search_fts (rowid, meta, stream, tail, exact) "
    "VALUES (:rowid, :meta, :stream, :tail, :exact)"
)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def index_document(session: Session, document_id: str) -> None:
    """Bring the index entry of one record up to date, in the caller's transaction.

    Called by `store.records.events.record_changed` on every change of a record; a record that
    is not digitized or needs_review (any more) leaves the index.
    """
    doc = session.get(DocumentRow, document_id)
    if doc is None or doc.status not in SEARCHABLE:
        _remove(session, document_id)
        return
    pages = session.scalars(
        select(PageRow.text).where(PageRow.document_id == document_id).order_by(PageRow.number)
    ).all()
    fields = metadata_fields(doc.document, doc.archive, doc.filename, doc.dossier)
    _write(session, [(document_id, build_entry(fields, pages))], fresh=False)


def _remove(session: Session, document_id: str) -> None:
    if _is_pg(session):
        session.execute(delete(PG_INDEX).where(PG_INDEX.c.document_id == document_id))
        return
    rowid = session.scalar(select(LITE_INDEX.c.id).where(LITE_INDEX.c.document_id == document_id))
    if rowid is not None:
        session.execute(text("DELETE FROM search_fts WHERE rowid = :r"), {"r": rowid})
        session.execute(delete(LITE_INDEX).where(LITE_INDEX.c.id == rowid))


def _write(session: Session, entries: list[tuple[str, IndexEntry]], *, fresh: bool) -> None:
    """Store entries; `fresh` when none of them is in the index yet (a rebuild)."""
    if not entries:
        return
    if _is_pg(session):
        session.execute(
            _PG_UPSERT,
            [
                {
                    "id": doc_id,
                    "tsv": tsvector_literal(e.stream, e.tail),
                    "meta": tsvector_literal(e.meta),
                    "exact": tsvector_literal((), e.exact),
                }
                for doc_id, e in entries
            ],
        )
        return
    rows = []
    for doc_id, entry in entries:
        rowid = None
        if not fresh:
            rowid = session.scalar(
                select(LITE_INDEX.c.id).where(LITE_INDEX.c.document_id == doc_id)
            )
        if rowid is None:
            rowid = session.execute(
                text("INSERT INTO search_docs (document_id) VALUES (:d) RETURNING id"),
                {"d": doc_id},
            ).scalar_one()
        if not fresh:  # also an entry left behind by a record deleted with its row
            session.execute(text("DELETE FROM search_fts WHERE rowid = :r"), {"r": rowid})
        rows.append(
            {
                "rowid": rowid,
                "meta": fts_text(entry.meta),
                "stream": fts_text(entry.stream),
                "tail": " ".join(entry.tail),
                "exact": " ".join(entry.exact),
            }
        )
    session.execute(_FTS_INSERT, rows)


def reindex_all(session: Session, batch: int = 500) -> int:
    """Rebuild the whole index from the records (in the caller's transaction); the number of
    records indexed. Searches wait for it to commit: on PostgreSQL the table is truncated
    and its GIN index built again after the rows are in, which is much faster than keeping
    it up to date row by row."""
    pg = _is_pg(session)
    if pg:
        session.execute(text("TRUNCATE search_docs"))
        session.execute(text("DROP INDEX IF EXISTS ix_search_docs_tsv"))
    else:
        session.execute(text("DELETE FROM search_fts"))
        session.execute(delete(LITE_INDEX))
    total = 0
    after = ""
    while True:
        docs = session.execute(
            select(
                DocumentRow.id,
                DocumentRow.document,
                DocumentRow.archive,
                DocumentRow.filename,
                DocumentRow.dossier,
            )
            .where(DocumentRow.status.in_(SEARCHABLE), DocumentRow.id > after)
            .order_by(DocumentRow.id)
            .limit(batch)
        ).all()
        if not docs:
            break
        pages: dict[str, list[str]] = {d.id: [] for d in docs}
        for doc_id, page_text in session.execute(
            select(PageRow.document_id, PageRow.text)
            .where(PageRow.document_id.in_(list(pages)))
            .order_by(PageRow.document_id, PageRow.number)
        ):
            pages[doc_id].append(page_text)
        entries = [(d.id, build_entry(metadata_fields(*d[1:]), pages[d.id])) for d in docs]
        _write(session, entries, fresh=True)
        total += len(docs)
        after = docs[-1].id
    if pg:
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        session.execute(text(PG_STREAM_INDEX))
        session.execute(text("ANALYZE search_docs"))
    return total
