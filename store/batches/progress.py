"""Batches after upload: who sees which batch, lists, progress (pace and time left).

Progress is always a query over documents and pages, never a counter kept by hand.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from schemas.auth import Principal
from schemas.batch import Batch
from schemas.record import FINAL_STATES, Status
from store.platform.models import (
    BatchEntryRow,
    BatchRow,
    DocumentRow,
    PageRow,
    utcnow,
)
from store.records.reads import batch_summary

_NOT_FINAL = (Status.queued.value, Status.processing.value)


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
    for made_in, first, last, count in session.execute(
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
        assert made_in is not None  # one of batch_ids
        tally = tallies[made_in]
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
