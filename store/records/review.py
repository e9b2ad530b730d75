"""The review queue: records the machine was unsure of, waiting for a person's check.

A correction with changes (`store.records.corrections.correct_document`) already takes a record out
of the queue. A record the reviewer finds right as read is *accepted*: the same guarded,
audited, versioned transition (needs_review → digitized) without changing a field.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from schemas.auth import Principal
from schemas.record import Status
from store.audit.trail import audit
from store.platform.db import rowcount
from store.platform.models import DocumentRow, utcnow
from store.records.corrections import StaleVersion
from store.records.events import RecordEvent, record_changed
from store.records.visibility import visible_to

ACCEPT = "document.accept"
#: the longest queue a page lists at once
MAX_QUEUE = 500


class NotInReview(Exception):
    """The record is not waiting for review (already accepted, corrected, or not digitized)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the record is {status}, not needs_review")
        self.status = status


def review_queue(
    session: Session, principal: Principal, *, limit: int = 200
) -> Sequence[DocumentRow]:
    """Records waiting for review that `principal` may see, oldest first."""
    limit = max(1, min(limit, MAX_QUEUE))
    return session.scalars(
        select(DocumentRow)
        .where(DocumentRow.status == Status.needs_review.value, visible_to(principal))
        .order_by(DocumentRow.created_at, DocumentRow.id)
        .limit(limit)
    ).all()


def review_count(session: Session, principal: Principal) -> int:
    """How many records wait for review among those `principal` may see."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(DocumentRow)
            .where(DocumentRow.status == Status.needs_review.value, visible_to(principal))
        )
        or 0
    )


def accept_document(
    session: Session, document_id: str, *, actor: str, expected_version: int | None = None
) -> DocumentRow:
    """Mark a record waiting for review as checked and right: needs_review → digitized.

    Bumps the version (the record's ETag changes), writes `document.accept` to the audit log
    and emits `record.updated`. Raises KeyError for an unknown record, StaleVersion when
    `expected_version` is not the current one, NotInReview when it does not wait for review.
    """
    doc = session.get(DocumentRow, document_id, with_for_update=True)
    if doc is None:
        raise KeyError(document_id)
    if expected_version is not None and doc.version != expected_version:
        raise StaleVersion(f"version {doc.version}, not {expected_version}")
    result = session.execute(
        update(DocumentRow)
        .where(
            DocumentRow.id == document_id,
            DocumentRow.status == Status.needs_review.value,
            DocumentRow.version == doc.version,
        )
        .values(
            status=Status.digitized.value,
            review=None,
            version=DocumentRow.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if not rowcount(result):
        session.refresh(doc)
        if expected_version is not None and doc.version != expected_version:
            raise StaleVersion(f"version {doc.version}, not {expected_version}")
        raise NotInReview(doc.status)
    reasons = (doc.classification or {}).get("reasons") or []
    audit(session, actor, ACCEPT, document_id=document_id, detail={"reasons": reasons[:20]})
    record_changed(session, document_id, RecordEvent.updated)
    session.refresh(doc)
    return doc
