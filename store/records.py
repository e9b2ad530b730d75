"""Database rows → the contracts of schemas/ (records and batches)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.batch import Batch, BatchEntry, EntryOutcome
from schemas.errors import ErrorCode, error_message
from schemas.record import (
    FINAL_STATES,
    ArchiveInfo,
    DocumentInfo,
    Page,
    PageMethod,
    Record,
    RecordError,
    Source,
    Status,
)
from store.models import BatchEntryRow, BatchRow, DocumentRow, PageRow


def build_record(doc: DocumentRow, pages: list[PageRow] | None = None) -> Record:
    """The record of a document; `pages` defaults to the rows loaded with it."""
    pages = list(doc.pages) if pages is None else pages
    status = Status(doc.status)
    error = None
    if doc.error_code:
        code = ErrorCode(doc.error_code)
        error = RecordError(code=code, message=error_message(code), detail=doc.error_message)
    done = status in (Status.digitized, Status.needs_review)
    return Record(
        id=doc.id,
        status=status,
        unit=doc.unit_code,
        batch_id=doc.batch_id,
        dossier=doc.dossier,
        source=Source(
            filename=doc.filename,
            sha256=doc.sha256,
            media_type=doc.media_type,
            size=doc.size,
            pages=doc.page_count,
        ),
        text="\f".join(p.text for p in pages) if done else None,
        pages=[
            Page(
                number=p.number,
                text=p.text,
                method=PageMethod(p.method),
                confidence=p.confidence,
                rotation=p.rotation,
                skew=p.skew,
            )
            for p in pages
        ]
        if done
        else [],
        document=DocumentInfo.model_validate(doc.document or {}),
        archive=ArchiveInfo.model_validate(doc.archive or {}),
        error=error,
        created_at=doc.created_at,
        updated_at=doc.updated_at,
    )


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
                error_code=code,
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
