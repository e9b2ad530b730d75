"""Batches after upload: lists, progress (pace and time left), retry, cancel, and the
idempotency keys that make a retried upload return the first batch.

Progress is always a query over documents and pages, never a counter kept by hand.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from schemas.auth import Principal
from schemas.batch import Batch
from schemas.errors import ErrorCode, error_message
from schemas.record import FINAL_STATES, Status
from store.audit.trail import audit
from store.platform.db import unit_of_work
from store.platform.models import (
    BatchEntryRow,
    BatchRow,
    DocumentRow,
    IdempotencyRow,
    PageRow,
    utcnow,
)
from store.records.documents import requeue
from store.records.events import RecordEvent, record_changed
from store.records.reads import batch_summary

#: a key whose request never finished (its process died) may be taken over after this long
KEY_STALE_AFTER = timedelta(hours=1)
MAX_KEY_LENGTH = 200
_NOT_FINAL = (Status.queued.value, Status.processing.value)


# --- idempotency keys -----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyClaim:
    """The outcome of claiming an Idempotency-Key.

    `claimed`: this request owns the key and goes on. Otherwise `batch_id` is the batch the
    first request made, or None while that request is still running.
    """

    claimed: bool
    batch_id: str | None = None


def claim_idempotency_key(
    sessions: sessionmaker[Session],
    actor: str,
    key: str,
    *,
    stale_after: timedelta = KEY_STALE_AFTER,
) -> KeyClaim:
    """Insert the key row in its own transaction before anything else is done.

    The primary key (actor, key) decides between concurrent requests: whoever inserts first
    owns it; the others see the first one's batch, or that it is still running.
    """
    for _attempt in range(3):
        try:
            with unit_of_work(sessions) as session:
                session.add(IdempotencyRow(actor=actor, key=key, batch_id=None))
            return KeyClaim(claimed=True)
        except IntegrityError:
            pass
        with unit_of_work(sessions) as session:
            row = session.get(IdempotencyRow, (actor, key))
            if row is None:
                continue  # released meanwhile: try to insert again
            if row.batch_id is not None:
                return KeyClaim(claimed=False, batch_id=row.batch_id)
            if row.created_at >= utcnow() - stale_after:
                return KeyClaim(claimed=False)
            # The request that owned it never finished: take it over, once.
            taken = session.execute(
                update(IdempotencyRow)
                .where(
                    IdempotencyRow.actor == actor,
                    IdempotencyRow.key == key,
                    IdempotencyRow.batch_id.is_(None),
                    IdempotencyRow.created_at == row.created_at,
                )
                .values(created_at=utcnow())
            )
            return KeyClaim(claimed=bool(taken.rowcount))
    return KeyClaim(claimed=False)


def touch_idempotency_key(sessions: sessionmaker[Session], actor: str, key: str) -> None:
    """Show that the request owning the key is still alive (a long upload)."""
    with unit_of_work(sessions) as session:
        session.execute(
            update(IdempotencyRow)
            .where(
                IdempotencyRow.actor == actor,
                IdempotencyRow.key == key,
                IdempotencyRow.batch_id.is_(None),
            )
            .values(created_at=utcnow())
        )


def finish_idempotency_key(session: Session, actor: str, key: str, batch_id: str) -> None:
    """Point the key at the batch its request made: later requests get that batch."""
    session.execute(
        update(IdempotencyRow)
        .where(IdempotencyRow.actor == actor, IdempotencyRow.key == key)
        .values(batch_id=batch_id)
    )


def release_idempotency_key(sessions: sessionmaker[Session], actor: str, key: str) -> None:
    """Forget a key whose request made no batch (refused, or the client went away), so the
    client may send it again."""
    with unit_of_work(sessions) as session:
        session.execute(
            delete(IdempotencyRow).where(
                IdempotencyRow.actor == actor,
                IdempotencyRow.key == key,
                IdempotencyRow.batch_id.is_(None),
            )
        )


def purge_idempotency_keys(session: Session, older_than: timedelta) -> int:
    """Drop keys older than `older_than`; returns how many."""
    result = session.execute(
        delete(IdempotencyRow).where(IdempotencyRow.created_at < utcnow() - older_than)
    )
    return int(result.rowcount or 0)


# --- who sees which batch -------------------------------------------------------------------


def batches_visible_to(principal: Principal) -> ColumnElement[bool]:
    """`Principal.may_use_unit` on the batch's unit, as SQL (a batch of no unit is only for
    callers of every unit)."""
    if principal.units is None:
        return true()
    return BatchRow.unit_code.in_(sorted(principal.units))


# --- progress -------------------------------------------------------------------------------


@dataclass
class _Tally:
    files: int = 0
    counts: dict[Status, int] | None = None
    pages_total: int = 0
    pages_done: int = 0
    open_docs: int = 0  # queued or processing
    open_counted: int = 0  # of those, with a known page count
    open_pages_total: int = 0
    open_pages_done: int = 0
    counted_docs: int = 0  # any state, with a known page count
    first_page: datetime | None = None
    last_page: datetime | None = None
    own_pages: int = 0


def _tallies(session: Session, batch_ids: list[str]) -> dict[str, _Tally]:
    """Counts, pages and pace of several batches in a few grouped queries."""
    tallies = {batch_id: _Tally(counts={}) for batch_id in batch_ids}
    if not batch_ids:
        return tallies
    for batch_id, files in session.execute(
        select(BatchEntryRow.batch_id, func.count())
        .where(BatchEntryRow.batch_id.in_(batch_ids))
        .group_by(BatchEntryRow.batch_id)
    ):
        tallies[batch_id].files = files
    # the distinct records each batch's entries point at (a duplicate counts once)
    pairs = (
        select(BatchEntryRow.batch_id, BatchEntryRow.document_id)
        .where(BatchEntryRow.batch_id.in_(batch_ids), BatchEntryRow.document_id.is_not(None))
        .distinct()
        .subquery()
    )
    for batch_id, status, docs, pages, counted in session.execute(
        select(
            pairs.c.batch_id,
            DocumentRow.status,
            func.count(),
            func.coalesce(func.sum(DocumentRow.page_count), 0),
            func.count(DocumentRow.page_count),
        )
        .join(DocumentRow, DocumentRow.id == pairs.c.document_id)
        .group_by(pairs.c.batch_id, DocumentRow.status)
    ):
        tally = tallies[batch_id]
        assert tally.counts is not None
        tally.counts[Status(status)] = docs
        tally.pages_total += int(pages)
        tally.counted_docs += counted
        if status in _NOT_FINAL:
            tally.open_docs += docs
            tally.open_counted += counted
            tally.open_pages_total += int(pages)
    for batch_id, status, done in session.execute(
        select(pairs.c.batch_id, DocumentRow.status, func.count())
        .select_from(pairs)
        .join(DocumentRow, DocumentRow.id == pairs.c.document_id)
        .join(PageRow, PageRow.document_id == pairs.c.document_id)
        .group_by(pairs.c.batch_id, DocumentRow.status)
    ):
        tally = tallies[batch_id]
        tally.pages_done += done
        if status in _NOT_FINAL:
            tally.open_pages_done += done
    # the pace: pages of the records this batch made (not older duplicates), by time
    for batch_id, first, last, count in session.execute(
        select(
            DocumentRow.batch_id,
            func.min(PageRow.created_at),
            func.max(PageRow.created_at),
            func.count(),
        )
        .join(PageRow, PageRow.document_id == DocumentRow.id)
        .where(DocumentRow.batch_id.in_(batch_ids))
        .group_by(DocumentRow.batch_id)
    ):
        tally = tallies[batch_id]
        tally.first_page, tally.last_page, tally.own_pages = _aware(first), _aware(last), count
    return tallies


def _aware(moment: Any) -> datetime | None:
    """Aggregates bypass the column type on SQLite: make them aware UTC datetimes again."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _pace(tally: _Tally, done: bool, now: datetime) -> tuple[float | None, int | None]:
    """(pages per minute, seconds left).

    The pace counts the pages done after the batch's first page, over the time since that
    page (up to the last page once the batch is done, so a finished batch keeps its figure).
    Pages of records not started yet are estimated from the batch's average page count.
    """
    rate = None
    if tally.own_pages >= 2 and tally.first_page is not None and tally.last_page is not None:
        end = tally.last_page if done else max(now, tally.last_page)
        minutes = (end - tally.first_page).total_seconds() / 60
        if minutes > 0:
            rate = round((tally.own_pages - 1) / minutes, 2)
    if done:
        return rate, 0
    if rate is None or rate <= 0:
        return rate, None
    unknown = tally.open_docs - tally.open_counted
    if unknown and not tally.counted_docs:
        return rate, None
    average = tally.pages_total / tally.counted_docs if tally.counted_docs else 0.0
    remaining = max(0.0, tally.open_pages_total - tally.open_pages_done + unknown * average)
    return rate, round(remaining / rate * 60)


def _finish(batch: Batch, row: BatchRow, tally: _Tally, now: datetime) -> Batch:
    rate, eta = _pace(tally, batch.done, now)
    return batch.model_copy(
        update={
            "source": row.source,
            "created_by": row.created_by,
            "files": tally.files,
            "pages_per_minute": rate,
            "eta_seconds": eta,
        }
    )


def _summary_without_entries(row: BatchRow, tally: _Tally) -> Batch:
    counts = tally.counts or {}
    return Batch(
        id=row.id,
        unit=row.unit_code,
        dossier=row.dossier,
        label=row.label,
        created_at=row.created_at,
        counts=counts,
        pages_total=tally.pages_total,
        pages_done=tally.pages_done,
        done=all(status in FINAL_STATES for status in counts),
    )


def batch_progress(
    session: Session, batch_id: str, *, entries: bool = True, now: datetime | None = None
) -> Batch | None:
    """A batch with counts per state, pages, pace and time left; with `entries`, one entry
    per uploaded file too."""
    row = session.get(BatchRow, batch_id)
    if row is None:
        return None
    tally = _tallies(session, [batch_id])[batch_id]
    if entries:
        summary = batch_summary(session, batch_id)
        assert summary is not None
    else:
        summary = _summary_without_entries(row, tally)
    return _finish(summary, row, tally, now or utcnow())


def list_batches(
    session: Session, principal: Principal, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Batch], str | None]:
    """The batches `principal` may see, newest first (ids are time-ordered ULIDs), without
    entries; and the cursor of the next page, or None."""
    query = select(BatchRow).where(batches_visible_to(principal))
    if cursor:
        query = query.where(BatchRow.id < cursor)
    rows = list(session.scalars(query.order_by(BatchRow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    tallies = _tallies(session, [r.id for r in rows])
    now = utcnow()
    items = [
        _finish(_summary_without_entries(r, tallies[r.id]), r, tallies[r.id], now) for r in rows
    ]
    return items, (rows[-1].id if more and rows else None)


def progress_fingerprint(batch: Batch) -> str:
    """Changes whenever the state of the batch changes (not with the clock: pace and time
    left move every second and are left out)."""
    state = {
        "counts": {str(k): v for k, v in sorted(batch.counts.items())},
        "pages_total": batch.pages_total,
        "pages_done": batch.pages_done,
        "files": batch.files,
        "done": batch.done,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]


# --- retry and cancel -----------------------------------------------------------------------


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
    if not result.rowcount:
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
