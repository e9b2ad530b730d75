"""Retry and cancel: what staff do to a batch or one of its documents, audited."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from schemas.auth import Principal
from schemas.errors import ErrorCode, error_message
from schemas.record import Status
from store.audit.trail import audit
from store.platform.db import rowcount
from store.platform.models import (
    BatchEntryRow,
    DocumentRow,
    utcnow,
)
from store.records.documents import requeue
from store.records.events import RecordEvent, record_changed


def batch_documents(
    session: Session, batch_id: str, status: Status
) -> list[tuple[str, str | None]]:
    """(id, unit) of the distinct records the batch's entries point at, in `status`."""
    rows = session.execute(
        select(DocumentRow.id, DocumentRow.unit_code)
        .where(
            DocumentRow.id.in_(
                select(BatchEntryRow.document_id).where(BatchEntryRow.batch_id == batch_id)
            ),
            DocumentRow.status == status.value,
        )
        .order_by(DocumentRow.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def retry_batch(session: Session, batch_id: str, principal: Principal) -> list[str]:
    """Put every failed record of the batch (that `principal` may act on) back in the queue;
    returns their ids. The caller sends them to the workers after commit."""
    requeued = []
    for document_id, unit in batch_documents(session, batch_id, Status.failed):
        if principal.may_use_unit(unit) and requeue(session, document_id, principal.actor):
            requeued.append(document_id)
    if requeued:
        audit(
            session,
            principal.actor,
            "batch.retry",
            batch_id=batch_id,
            detail={"records": len(requeued)},
        )
    return requeued


def cancel_document(session: Session, document_id: str, actor: str) -> bool:
    """A queued record becomes failed with the code `cancelled` (it can be retried later).

    Guarded like every transition: a record a worker has already claimed is left to finish.
    """
    result = session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id, DocumentRow.status == Status.queued.value)
        .values(
            status=Status.failed.value,
            error_code=ErrorCode.cancelled.value,
            error_message=error_message(ErrorCode.cancelled, "en"),
            lease=None,
            heartbeat_at=None,
            updated_at=utcnow(),
            version=DocumentRow.version + 1,
        )
    )
    if not rowcount(result):
        return False
    audit(session, actor, "document.cancelled", document_id=document_id)
    record_changed(session, document_id, RecordEvent.failed)
    return True


def cancel_batch(session: Session, batch_id: str, principal: Principal) -> list[str]:
    """Cancel the records this batch made that are still queued; returns their ids."""
    rows = session.execute(
        select(DocumentRow.id, DocumentRow.unit_code)
        .where(DocumentRow.batch_id == batch_id, DocumentRow.status == Status.queued.value)
        .order_by(DocumentRow.id)
    ).all()
    cancelled = [
        doc_id
        for doc_id, unit in rows
        if principal.may_use_unit(unit) and cancel_document(session, doc_id, principal.actor)
    ]
    audit(
        session,
        principal.actor,
        "batch.cancel",
        batch_id=batch_id,
        detail={"records": len(cancelled)},
    )
    return cancelled
