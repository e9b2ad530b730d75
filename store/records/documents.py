"""State of documents in the database: creation, claiming, pages, final states.

Every transition is a guarded UPDATE, so two workers racing on one document (a redelivered
task, a re-enqueue by the reconciler) can never both win or undo each other's final state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from schemas.errors import ErrorCode
from schemas.record import FINAL_STATES, Status
from store.audit.trail import audit
from store.platform.db import rowcount
from store.platform.ids import new_id
from store.platform.models import (
    BatchEntryRow,
    BatchRow,
    DocumentRow,
    PageRow,
    utcnow,
)
from store.records.attempts import forget_attempts
from store.records.events import RecordEvent, record_changed

_FINAL = [s.value for s in FINAL_STATES]


def create_batch(
    session: Session,
    *,
    unit: str | None,
    dossier: str | None,
    label: str | None,
    source: str,
    actor: str,
) -> BatchRow:
    batch = BatchRow(
        id=new_id(), unit_code=unit, dossier=dossier, label=label, source=source, created_by=actor
    )
    session.add(batch)
    session.flush()
    audit(session, actor, "batch.create", batch_id=batch.id, detail={"source": source})
    return batch


def next_entry_position(session: Session, batch_id: str) -> int:
    last = session.scalar(
        select(func.max(BatchEntryRow.position)).where(BatchEntryRow.batch_id == batch_id)
    )
    return 0 if last is None else last + 1


def find_by_sha256(session: Session, sha256: str) -> DocumentRow | None:
    return session.scalar(select(DocumentRow).where(DocumentRow.sha256 == sha256))


@dataclass(frozen=True)
class Claim:
    document_id: str
    sha256: str
    media_type: str | None
    page_count: int | None


def claim(session: Session, document_id: str, holder: str, stale_after: timedelta) -> Claim | None:
    """Take a document for processing, or None when someone else is on it or it is done.

    A queued document is taken; a processing one only by the same holder (a redelivered task)
    or when its last heartbeat is older than `stale_after` (its worker died).
    """
    now = utcnow()
    result = session.execute(
        update(DocumentRow)
        .where(
            DocumentRow.id == document_id,
            or_(
                DocumentRow.status == Status.queued.value,
                and_(
                    DocumentRow.status == Status.processing.value,
                    or_(
                        DocumentRow.lease == holder,
                        DocumentRow.heartbeat_at.is_(None),
                        DocumentRow.heartbeat_at < now - stale_after,
                    ),
                ),
            ),
        )
        .values(
            status=Status.processing.value,
            lease=holder,
            heartbeat_at=now,
            updated_at=now,
            attempts=DocumentRow.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return None
    row = session.get(DocumentRow, document_id, populate_existing=True)
    assert row is not None
    return Claim(row.id, row.sha256, row.media_type, row.page_count)


def set_page_count(session: Session, document_id: str, pages: int, media_type: str) -> None:
    session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id)
        .values(page_count=pages, media_type=media_type)
    )


def done_pages(session: Session, document_id: str) -> set[int]:
    return set(session.scalars(select(PageRow.number).where(PageRow.document_id == document_id)))


def is_processing(session: Session, document_id: str) -> bool:
    status = session.scalar(select(DocumentRow.status).where(DocumentRow.id == document_id))
    return status == Status.processing.value


@dataclass(frozen=True)
class PageValues:
    number: int
    text: str
    method: str
    confidence: float | None
    rotation: int
    skew: float | None
    has_hocr: bool


def save_page(session: Session, document_id: str, page: PageValues) -> None:
    """Store one page's result (replacing an earlier run's) and beat the heartbeat."""
    row = session.get(PageRow, (document_id, page.number))
    if row is None:
        row = PageRow(document_id=document_id, number=page.number)
        session.add(row)
    row.text = page.text
    row.method = page.method
    row.confidence = page.confidence
    row.rotation = page.rotation
    row.skew = page.skew
    row.has_hocr = page.has_hocr
    heartbeat(session, document_id)


def renew_lease(session: Session, document_id: str) -> None:
    """The worker holding a processing document is alive (not a sign of progress: only
    `heartbeat_at` moves, `updated_at` keeps the time of the last page)."""
    session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id, DocumentRow.status == Status.processing.value)
        .values(heartbeat_at=utcnow())
    )


def expired_leases(
    session: Session, lease: timedelta, stuck_after: timedelta, *, limit: int = 500
) -> Sequence[str]:
    """Processing documents whose worker stopped renewing its lease (it died), or that made
    no progress for `stuck_after` (it hangs)."""
    now = utcnow()
    return session.scalars(
        select(DocumentRow.id)
        .where(
            DocumentRow.status == Status.processing.value,
            or_(
                DocumentRow.heartbeat_at < now - lease,
                DocumentRow.heartbeat_at.is_(None),
                DocumentRow.updated_at < now - stuck_after,
            ),
        )
        .order_by(DocumentRow.updated_at)
        .limit(limit)
    ).all()


def queued_before(session: Session, older_than: timedelta, *, limit: int = 5000) -> Sequence[str]:
    """Queued documents last sent (or created) more than `older_than` ago."""
    cutoff = utcnow() - older_than
    return session.scalars(
        select(DocumentRow.id)
        .where(
            DocumentRow.status == Status.queued.value,
            func.coalesce(DocumentRow.heartbeat_at, DocumentRow.updated_at) < cutoff,
        )
        .order_by(DocumentRow.updated_at)
        .limit(limit)
    ).all()


def unit_backlog(session: Session, document_id: str) -> int:
    """Documents of this document's unit waiting in the queue (documents without a unit
    share one count)."""
    unit = session.scalar(select(DocumentRow.unit_code).where(DocumentRow.id == document_id))
    same_unit = DocumentRow.unit_code.is_(None) if unit is None else DocumentRow.unit_code == unit
    count = session.scalar(
        select(func.count())
        .select_from(DocumentRow)
        .where(DocumentRow.status == Status.queued.value, same_unit)
    )
    return int(count or 0)


def heartbeat(session: Session, document_id: str) -> None:
    now = utcnow()
    session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id, DocumentRow.status == Status.processing.value)
        .values(heartbeat_at=now, updated_at=now)
    )


def mark_failed(
    session: Session, document_id: str, code: ErrorCode, message: str, actor: str = "worker"
) -> bool:
    """Final failure with a stable code; the original stays stored and can be retried."""
    now = utcnow()
    result = session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id, DocumentRow.status.not_in(_FINAL))
        .values(
            status=Status.failed.value,
            error_code=code.value,
            error_message=message[:2000],
            lease=None,
            heartbeat_at=None,
            updated_at=now,
            version=DocumentRow.version + 1,
        )
    )
    if rowcount(result):
        audit(session, actor, "document.failed", document_id=document_id, detail={"code": code})
        record_changed(session, document_id, RecordEvent.failed)
    return bool(rowcount(result))


def mark_published(
    session: Session,
    document_id: str,
    status: Status,
    document: dict[str, Any] | None,
    actor: str = "worker",
    *,
    classification: dict[str, Any] | None = None,
    archive: dict[str, Any] | None = None,
    unit: str | None = None,
    review: list[dict[str, Any]] | None = None,
    signatures: list[dict[str, Any]] | None = None,
) -> bool:
    """Digitized (or needs_review): only from processing, so a late duplicate changes nothing.

    `unit` is set only where the document has none (the uploader's choice wins).
    """
    now = utcnow()
    values: dict[str, Any] = dict(
        status=status.value,
        document=document,
        classification=classification,
        review=review or None,
        signatures=signatures or None,
        error_code=None,
        error_message=None,
        lease=None,
        heartbeat_at=None,
        digitized_at=now,
        updated_at=now,
        version=DocumentRow.version + 1,
    )
    if archive is not None:
        values["archive"] = archive
    result = session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id, DocumentRow.status == Status.processing.value)
        .values(**values)
    )
    if rowcount(result) and unit is not None:
        session.execute(
            update(DocumentRow)
            .where(DocumentRow.id == document_id, DocumentRow.unit_code.is_(None))
            .values(unit_code=unit)
        )
    if rowcount(result):
        audit(
            session,
            actor,
            "document.digitized" if status == Status.digitized else "document.needs_review",
            document_id=document_id,
        )
        record_changed(session, document_id, RecordEvent.digitized)
    return bool(rowcount(result))


def requeue(session: Session, document_id: str, actor: str) -> bool:
    """Put a failed document back in the queue (its pages are redone)."""
    now = utcnow()
    result = session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == document_id, DocumentRow.status == Status.failed.value)
        .values(
            status=Status.queued.value,
            error_code=None,
            error_message=None,
            heartbeat_at=now,
            updated_at=now,
            version=DocumentRow.version + 1,
        )
    )
    if rowcount(result):
        session.query(PageRow).filter(PageRow.document_id == document_id).delete()
        # retried by a person: the workers it killed before count no more
        forget_attempts(session, document_id)
        audit(session, actor, "document.retry", document_id=document_id)
    return bool(rowcount(result))


def stuck_documents(
    session: Session, older_than: timedelta, *, include_queued: bool = True, limit: int = 500
) -> Sequence[str]:
    """Documents processing (or, with include_queued, waiting) with no sign of life for
    `older_than`."""
    cutoff = utcnow() - older_than
    states = [Status.processing.value] + ([Status.queued.value] if include_queued else [])
    return session.scalars(
        select(DocumentRow.id)
        .where(
            DocumentRow.status.in_(states),
            or_(
                DocumentRow.heartbeat_at < cutoff,
                and_(DocumentRow.heartbeat_at.is_(None), DocumentRow.updated_at < cutoff),
            ),
        )
        .order_by(DocumentRow.updated_at)
        .limit(limit)
    ).all()


def mark_requeued(session: Session, document_ids: Sequence[str]) -> None:
    """Put stuck documents back to queued, timed now, so the next reconciler run waits a
    full period and any task may claim them."""
    if document_ids:
        now = utcnow()
        session.execute(
            update(DocumentRow)
            .where(
                DocumentRow.id.in_(document_ids),
                DocumentRow.status.in_([Status.queued.value, Status.processing.value]),
            )
            .values(status=Status.queued.value, lease=None, heartbeat_at=now, updated_at=now)
        )


def pages_of(session: Session, document_id: str) -> Sequence[PageRow]:
    return session.scalars(
        select(PageRow).where(PageRow.document_id == document_id).order_by(PageRow.number)
    ).all()
