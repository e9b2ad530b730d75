"""Reads in several statements, each chosen from what the last returned, written once and run
either on a SQLAlchemy connection in a thread (`run_steps`) or from the event loop
(`store.platform.async_reads.AsyncReads.run`).

The reads are *steps*: a generator that yields a `Read` (a statement built once, with the
values of its parameters) and is sent back the statement's rows, until it returns its
result. Nothing in the steps knows how a statement is sent; the driver knows nothing of what
the steps compute. A search (`store.search`, `store.records.listing`) is written this way.

Steps may also yield a `Write` (the audit line of a read: `store.audit.reads`). Steps that
write are run in one transaction, and the driver may send a write with the commit rather
than at once: a refused write (or commit) is raised as `WriteRefused` once the steps have
returned, and their result must then not be used.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, text
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")


@dataclass(frozen=True)
class Database:
    """What steps know of the database they read: its kind, and a name for what they cache
    about it."""

    key: str
    postgres: bool


def database_of(engine: Engine) -> Database:
    return Database(str(engine.url), engine.dialect.name == "postgresql")


@dataclass(frozen=True, eq=False)
class Read:
    """One statement to run and the values of its parameters."""

    stmt: Executable
    values: dict[str, Any]
    #: its best plan is the same whatever the values (a row by its primary key): a driver
    #: may plan it once and keep the plan
    plan_once: bool = False


@dataclass(frozen=True, eq=False)
class Write:
    """One statement that changes rows, committed with the reads of its steps; it is sent
    back no rows."""

    stmt: Executable
    values: dict[str, Any]


class WriteRefused(Exception):
    """The database refused the writes of steps, or their commit: nothing they wrote is
    kept, and what they read must not be answered as if it had been."""


#: steps ending with a T: they yield reads (and writes) and are sent each one's rows
Steps = Generator[Read | Write, Sequence[Any], T]


_SET_LOCAL = text("SELECT set_config(:name, :value, true)")


def one_read(
    stmt: Executable, values: dict[str, Any], *, plan_once: bool = False
) -> Steps[Sequence[Any]]:
    """The rows of one statement, as steps."""
    return (yield Read(stmt, values, plan_once))


def run_steps(conn: Connection, steps: Steps[T], settings: Mapping[str, str] | None = None) -> T:
    """Run `steps` on `conn`, one statement after the other, and return their result; on
    PostgreSQL with `settings` for the rest of the connection's transaction. A write is sent
    at once (the caller commits); if refused, `WriteRefused` is raised."""
    if settings and conn.dialect.name == "postgresql":
        for name, value in settings.items():
            conn.execute(_SET_LOCAL, {"name": name, "value": value})
    try:
        step = next(steps)
        while True:
            if isinstance(step, Write):
                try:
                    conn.execute(step.stmt, step.values)
                except DBAPIError as exc:
                    raise WriteRefused(str(exc.orig)) from exc
                step = steps.send(())
            else:
                step = steps.send(conn.execute(step.stmt, step.values).all())
    except StopIteration as done:
        return done.value  # the step's own result type
