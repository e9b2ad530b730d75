"""What one account has waiting and has stored lately: the measure of its upload quotas.

An account's documents are those of the batches it created. Waiting means queued or being
worked on; stored lately means new records of the last hour (a duplicate makes none, so it
costs nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.record import Status
from store.platform.models import BatchRow, DocumentRow, utcnow

#: the window of the bytes quota
QUOTA_WINDOW = timedelta(hours=1)
_WAITING = (Status.queued.value, Status.processing.value)


@dataclass(frozen=True)
class AccountUsage:
    waiting_documents: int
    bytes_in_window: int
    #: when the oldest upload counted in the window leaves it (None: nothing counted)
    window_frees_at: datetime | None


def account_usage(session: Session, actor: str, now: datetime | None = None) -> AccountUsage:
    now = now or utcnow()
    since = now - QUOTA_WINDOW
    mine = select(BatchRow.id).where(BatchRow.created_by == actor)
    waiting = session.scalar(
        select(func.count())
        .select_from(DocumentRow)
        .where(DocumentRow.batch_id.in_(mine), DocumentRow.status.in_(_WAITING))
    )
    recent = mine.where(BatchRow.created_at >= since - timedelta(days=1))
    size, oldest = session.execute(
        select(
            func.coalesce(func.sum(DocumentRow.size), 0), func.min(DocumentRow.created_at)
        ).where(DocumentRow.batch_id.in_(recent), DocumentRow.created_at >= since)
    ).one()
    return AccountUsage(
        waiting_documents=int(waiting or 0),
        bytes_in_window=int(size or 0),
        window_frees_at=oldest + QUOTA_WINDOW if oldest is not None else None,
    )
