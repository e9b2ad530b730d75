"""Counting the deaths of worker processes per piece of work: poison files end failed.

`begin_attempt` runs in its own committed transaction before the work starts, `end_attempt`
after it ends, however it ends (done, failed, retried later). A process killed in between
(kill -9, the kernel's OOM killer, a segfault in a native library) leaves its row, and the
broker hands the work to the next worker: after `limit` such starts the work is refused and
the document fails with `worker_crashed`, instead of killing worker after worker.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.platform.models import JobAttemptRow, utcnow


def begin_attempt(session: Session, document_id: str, job: str, limit: int) -> bool:
    """Count a start of `job`; False when `limit` earlier starts never ended."""
    row = session.execute(
        select(JobAttemptRow)
        .where(JobAttemptRow.document_id == document_id, JobAttemptRow.job == job)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        try:
            with session.begin_nested():  # another worker may insert the same row: both run
                session.add(
                    JobAttemptRow(document_id=document_id, job=job, starts=1, started_at=utcnow())
                )
        except IntegrityError:
            pass
        return True
    if row.starts >= limit:
        return False
    row.starts += 1
    row.started_at = utcnow()
    return True


def end_attempt(session: Session, document_id: str, job: str) -> None:
    session.execute(
        delete(JobAttemptRow).where(
            JobAttemptRow.document_id == document_id, JobAttemptRow.job == job
        )
    )


def forget_attempts(session: Session, document_id: str) -> None:
    """Forget the deaths counted for a document (a person retries it on purpose)."""
    session.execute(delete(JobAttemptRow).where(JobAttemptRow.document_id == document_id))
