"""Database rows → the contracts of schemas/ (records and batches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select
from sqlalchemy.orm import Session

from schemas.batch import Batch, BatchEntry, EntryOutcome
from schemas.errors import ErrorCode, error_message
from schemas.record import FINAL_STATES, Record, Status
from schemas.review import ReviewCode
from store.platform.models import BatchEntryRow, BatchRow, DocumentRow, PageRow
from store.platform.steps import Read, Steps

_HAS_CONTENT = (Status.digitized.value, Status.needs_review.value)


def build_record(doc: DocumentRow, pages: list[PageRow] | None = None) -> Record:
    """The record of a document; `pages` defaults to the rows loaded with it."""
    return Record.model_validate(record_data(doc, list(doc.pages) if pages is None else pages))


def error_of(error_code: str | None, detail: str | None) -> dict[str, Any] | None:
    """A record's `error` as plain data; a code this version does not know reads as
    `internal_error` instead of failing the read."""
    if not error_code:
        return None
    try:
        code = ErrorCode(error_code)
    except ValueError:
        code = ErrorCode.internal_error
    return {"code": code, "message": error_message(code), "detail": detail}


def review_of(stored: list[Any] | None) -> list[dict[str, Any]]:
    """A record's `review` as plain data; a code this version does not know is left out."""
    known = {code.value for code in ReviewCode}
    return [r for r in stored or [] if isinstance(r, dict) and r.get("code") in known]


def record_data(doc: Any, pages: Sequence[Any]) -> dict[str, Any]:
    """A `Record` as plain data, from a documents row and its page rows (ORM objects or
    plain rows with the same attribute names), in page order; validated by the caller."""
    error = error_of(doc.error_code, doc.error_message)
    done = doc.status in _HAS_CONTENT
    return {
        "id": doc.id,
        "status": doc.status,
        "unit": doc.unit_code,
        "batch_id": doc.batch_id,
        "dossier": doc.dossier,
        "dossier_ordinal": doc.dossier_ordinal,
        "source": {
            "filename": doc.filename,
            "sha256": doc.sha256,
            "media_type": doc.media_type,
            "size": doc.size,
            "pages": doc.page_count,
        },
        "text": "\f".join(p.text for p in pages) if done else None,
        "pages": [
            {
                "number": p.number,
                "text": p.text,
                "method": p.method,
                "confidence": p.confidence,
                "rotation": p.rotation,
                "skew": p.skew,
            }
            for p in pages
        ]
        if done
        else [],
        "document": doc.document or {},
        "archive": doc.archive or {},
        "signatures": doc.signatures or [],
        "review": review_of(doc.review) if doc.status == Status.needs_review else [],
        "error": error,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


#: what `record_data` reads of a document, and of each page (`record_rows`)
RECORD_COLUMNS = (
    DocumentRow.id,
    DocumentRow.status,
    DocumentRow.unit_code,
    DocumentRow.batch_id,
    DocumentRow.dossier,
    DocumentRow.dossier_ordinal,
    DocumentRow.filename,
    DocumentRow.sha256,
    DocumentRow.media_type,
    DocumentRow.size,
    DocumentRow.page_count,
    DocumentRow.document,
    DocumentRow.archive,
    DocumentRow.signatures,
    DocumentRow.review,
    DocumentRow.error_code,
    DocumentRow.error_message,
    DocumentRow.version,
    DocumentRow.secrecy,
    DocumentRow.created_at,
    DocumentRow.updated_at,
)
_PAGE_COLUMNS = (
    PageRow.number,
    PageRow.text,
    PageRow.method,
    PageRow.confidence,
    PageRow.rotation,
    PageRow.skew,
)


#: the record and its pages in one query, built once (a document without pages: one row,
#: its page columns null); plain rows are all `record_data` needs, no ORM objects
RECORD_ROWS = (
    select(*RECORD_COLUMNS, *_PAGE_COLUMNS)
    .outerjoin(PageRow, PageRow.document_id == DocumentRow.id)
    .where(DocumentRow.id == bindparam("document_id"))
    .order_by(PageRow.number)
)


def record_rows(conn: Connection, document_id: str) -> tuple[Row[Any], list[Row[Any]]] | None:
    """(the document's row, its page rows in order) for `record_data`, in one query and
    without ORM objects; None when there is no such document."""
    return split_record_rows(conn.execute(RECORD_ROWS, {"document_id": document_id}).all())


def record_steps(document_id: str) -> Steps[tuple[Any, list[Any]] | None]:
    """`record_rows` as steps (`store.platform.steps`), for a driver of its own choice; its plan is
    the same for every id."""
    rows = yield Read(RECORD_ROWS, {"document_id": document_id}, plan_once=True)
    return split_record_rows(rows)


def split_record_rows(rows: Sequence[Any]) -> tuple[Any, list[Any]] | None:
    """The rows of `RECORD_ROWS` as (the document's row, its page rows), or None."""
    if not rows:
        return None
    return rows[0], [r for r in rows if r.number is not None]


def load_record(session: Session, document_id: str) -> Record | None:
    doc = session.get(DocumentRow, document_id)
    return None if doc is None else build_record(doc)


def batch_summary(session: Session, batch_id: str) -> Batch | None:
    """A batch with counts per state, pages done and one entry per uploaded file."""
    batch = session.get(BatchRow, batch_id)
    if batch is None:
        return None
    entries = session.execute(
        select(BatchEntryRow, DocumentRow)
        .outerjoin(DocumentRow, BatchEntryRow.document_id == DocumentRow.id)
        .where(BatchEntryRow.batch_id == batch_id)
        .order_by(BatchEntryRow.position)
    ).all()
    counts: dict[Status, int] = {}
    doc_ids = set()
    pages_total = 0
    out: list[BatchEntry] = []
    for entry, doc in entries:
        status = Status(doc.status) if doc is not None else None
        if doc is not None and doc.id not in doc_ids:
            doc_ids.add(doc.id)
            counts[status] = counts.get(status, 0) + 1
            pages_total += doc.page_count or 0
        code = entry.error_code or (doc.error_code if doc is not None else None)
        out.append(
            BatchEntry(
                filename=entry.filename,
                outcome=EntryOutcome(entry.outcome),
                record_id=entry.document_id,
                status=status,
                sha256=entry.sha256,
                error_code=ErrorCode(code) if code else None,
                error_message=error_message(code) if code else None,
            )
        )
    pages_done = 0
    if doc_ids:
        pages_done = (
            session.scalar(
                select(func.count()).select_from(PageRow).where(PageRow.document_id.in_(doc_ids))
            )
            or 0
        )
    done = all(s in FINAL_STATES for s in counts) and all(
        e.outcome == EntryOutcome.rejected or e.status in FINAL_STATES for e in out
    )
    return Batch(
        id=batch.id,
        unit=batch.unit_code,
        dossier=batch.dossier,
        label=batch.label,
        created_at=batch.created_at,
        counts=counts,
        pages_total=pages_total,
        pages_done=pages_done,
        done=done,
        entries=out,
    )
