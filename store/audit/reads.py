"""Audit lines of reads, committed in the read's own transaction.

Every read of a record by a service leaves a line in the audit log: who read which record,
when, and what was read. For an archive that log must not lose lines, so a line is written
in the transaction that read the record and committed before the answer is sent: an API
process killed outright loses none, and a read whose line the database refuses is not
answered (`WriteRefused`, answered 503 by the API).

Two ways in, one for each way a read is run:
- a read written as steps (`store.platform.steps`, run by
  `store.platform.async_reads.AsyncReads.run` with `transaction=True`): `audited` appends
  the line as a `Write`, which the driver sends with the commit (on PostgreSQL, one round
  trip for both);
- a read in an ORM session (`store.unit_of_work`): `audit_read` inserts the line in the
  session's transaction, which commits when the unit of work ends.

What it costs (API latency benchmark, 100,000 records, 16 clients, two API processes on two
cores, against the lines batched in memory): per record read, 0.3 ms more of the API
process's CPU (BEGIN, INSERT and COMMIT through psycopg's pipeline) and 0.17 ms more of
PostgreSQL's (the INSERT, a commit that waits for its WAL flush); record p95 24-25 ms became
38-43 ms on that loaded machine. Kept: the audit of an archive must not be lossy, and the
batching writer it replaces (globals, fork and exit hooks, a connection of its own) was the
harder code to get right.

Changes (corrections, uploads, users) are audited in their own transaction elsewhere
(`store.audit.trail.audit`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from store.platform.models import AuditRow, utcnow
from store.platform.steps import Steps, Write, WriteRefused

#: the action of a read's line
READ = "record.read"

T = TypeVar("T")
R = TypeVar("R")

#: built once (`store.platform.async_reads` compiles a statement once); `inline`: no RETURNING
_TABLE = AuditRow.__table__
assert isinstance(_TABLE, Table)  # a class mapped by __tablename__ has a Table
_INSERT = (
    insert(_TABLE)
    .values({name: bindparam(name) for name in ("at", "actor", "action", "document_id", "detail")})
    .inline()
)


@dataclass(frozen=True)
class ReadLine:
    """Who read which record, and what of it (`detail`: the resource, the HTTP status…)."""

    actor: str
    document_id: str
    detail: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The line's row, with the moment of the read."""
        return {
            "at": utcnow(),
            "actor": self.actor,
            "action": READ,
            "document_id": self.document_id,
            "detail": self.detail,
        }


def audited(steps: Steps[T], answer: Callable[[T], tuple[R, ReadLine | None]]) -> Steps[R]:
    """`steps`, then `answer` made of what they read, with the audit line `answer` gives (if
    any) written in the same transaction. Run with `AsyncReads.run(..., transaction=True)`.

    `answer` may raise (a record the caller may not see): nothing is written then."""
    found = yield from steps
    result, line = answer(found)
    if line is not None:
        yield Write(_INSERT, line.values())
    return result


def audit_read(session: Session, line: ReadLine | None) -> None:
    """Insert `line` (if any) in the session's transaction, now: a refusal is raised here as
    `WriteRefused`, before anything is answered; the line is committed with the session."""
    if line is None:
        return
    try:
        session.execute(_INSERT, line.values())
    except DBAPIError as exc:
        raise WriteRefused(str(exc.orig)) from exc
