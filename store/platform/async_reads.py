"""Reads from the event loop: psycopg's own async connections on PostgreSQL.

A record by its id is the API's most frequent call, a list page the next, then searches (a
few statements each, written as steps: `store.platform.steps`). Through SQLAlchemy in a
worker thread the record's statement cost three times the CPU of the same statement sent by
psycopg from the event loop (measured in process: ~0.75 ms against ~0.23 ms): the thread hop
(two wake-ups a request) and the execution layer were most of it. Here a statement built
once by SQLAlchemy (`store.records.reads`, `store.records.listing`, `store.search`)
is compiled once, its expanding `IN` parameters filled in per call by SQLAlchemy, and sent
by psycopg; rows come back with the same names and values as through SQLAlchemy.

The connections are a small set per process, not bound to an event loop (an application may
be served by several loops over its life, as tests do). When all are busy, or on SQLite, the
read takes the usual path in a worker thread, so a burst never waits for a connection here.
A connection the server closed while idle is noticed before use (as `store.platform.db` does for its
pool) and replaced; a statement that fails because the server dropped the connection is
sent once more on a new one (one that fails otherwise, a statement timeout say, is not).
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import anyio.to_thread
import psycopg
import pydantic_core
from psycopg.rows import namedtuple_row
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from store.platform.db import planner_options, reading
from store.platform.steps import Read, Steps, Write, WriteRefused, database_of, one_read, run_steps

log = logging.getLogger(__name__)

#: connections kept per process (a process serves its requests one event loop at a time)
MAX_CONNECTIONS = 16

T = TypeVar("T")

_BEGIN, _COMMIT, _ROLLBACK = b"BEGIN", b"COMMIT", b"ROLLBACK"


class AsyncReads:
    """Reads as coroutines: from the event loop on PostgreSQL, else in a thread.

    `settings` are given to every connection (PostgreSQL settings, as `-c name=value`); the
    threaded path sets them in its transaction.

    With `generic_plans`, a statement read with `plan_once` (a record by its id) is prepared
    and PostgreSQL keeps a plan made once for it (`plan_cache_mode=auto`); every other
    statement is planned for its values each time, never prepared (left to `auto`, a
    prepared list statement would soon get a generic plan, made without the values, which
    reads far more rows: see `store.platform.db.PLANNER_SETTINGS`). Planning the record read anew
    each time was half of PostgreSQL's CPU for it (0.4 against 0.17 ms, measured under load)."""

    def __init__(
        self,
        engine: Engine,
        size: int = MAX_CONNECTIONS,
        settings: Mapping[str, str] | None = None,
        *,
        generic_plans: bool = False,
    ) -> None:
        self._engine = engine
        self._size = size
        self._generic_plans = generic_plans
        self._settings = dict(settings or {})
        self.database = database_of(engine)
        self._native = self.database.postgres
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._open = 0
        self._lock = threading.Lock()
        self._closed = False
        if self._native:
            planning = {"plan_cache_mode": "auto"} if generic_plans else {}
            self._conninfo = conninfo(engine, {**self._settings, **planning})
        self._compiled: dict[Executable, SQLCompiler] = {}

    async def fetch(
        self, stmt: Executable, values: dict[str, Any], *, plan_once: bool = False
    ) -> Sequence[Any]:
        """The rows of `stmt` with `values` as its parameters, read in autocommit (as
        `store.reading`). `stmt` is one built once and reused: it is compiled once.
        `plan_once`: see `store.platform.steps.Read`."""
        return await self.run(one_read(stmt, values, plan_once=plan_once))

    async def run(self, steps: Steps[T], *, transaction: bool = False) -> T:
        """Run `steps` (`store.platform.steps`) on one connection of this set, each statement in
        autocommit; in a thread when none is free (there, with settings, in a transaction).

        With `transaction`, the steps run in one transaction, committed before this returns
        (steps that write: the audit line of a read, `store.audit.reads`); their writes are
        sent with the commit. A refused write or commit raises `WriteRefused`."""
        conn = await self._take() if self._native else None
        if conn is None:
            return await anyio.to_thread.run_sync(self._run_in_thread, steps, transaction)
        try:
            if transaction:
                return await self._run_in_transaction(conn, steps)
            read = next(steps)
            while True:
                assert isinstance(read, Read), "steps that write run in a transaction"
                sql, params = self._expanded(read.stmt, read.values)
                try:
                    prepare = read.plan_once if self._generic_plans else None
                    rows = await (await conn.execute(sql, params, prepare=prepare)).fetchall()
                except psycopg.OperationalError:
                    if not conn.broken:  # the statement failed, not the connection
                        raise
                    # a kept connection the server dropped: once more on a new one
                    self._discard(conn)
                    conn = None
                    log.warning("a kept database connection failed; reading on a new one")
                    with self._lock:
                        self._open += 1
                    conn = await self._connect()
                    rows = await (await conn.execute(sql, params, prepare=prepare)).fetchall()
                read = steps.send(rows)
        except StopIteration as done:
            return done.value  # the step's own result type
        finally:
            if conn is not None:  # kept when still usable (the steps may have failed, not it)
                self._give_back(conn)

    async def _run_in_transaction(self, conn: psycopg.AsyncConnection[Any], steps: Steps[T]) -> T:
        """`steps` between BEGIN and COMMIT, in pipeline mode: BEGIN goes with the first
        read, and the writes (queued, not waited for) go with the COMMIT, so a read and its
        audit line cost two round trips, as a read and a separate write would. (psycopg's
        `transaction()` waits for BEGIN and again before COMMIT: four.) What fails once the
        first write is sent (a write, the commit) is raised as `WriteRefused`."""
        result: T
        writing = False
        try:
            async with conn.pipeline():
                await conn.execute(_BEGIN, prepare=False)
                try:
                    step = next(steps)
                    while True:
                        if isinstance(step, Write):
                            writing = True
                            sql, params = self._expanded(step.stmt, step.values, bind=True)
                            await conn.execute(sql, params, prepare=True)
                            step = steps.send(())
                            continue
                        sql, params = self._expanded(step.stmt, step.values)
                        prepare = step.plan_once if self._generic_plans else None
                        rows = await (await conn.execute(sql, params, prepare=prepare)).fetchall()
                        step = steps.send(rows)
                except StopIteration as done:
                    result = done.value
                    await conn.execute(_COMMIT, prepare=False)
                except BaseException:
                    if not conn.broken:
                        await conn.execute(_ROLLBACK, prepare=False)
                    raise
        except psycopg.Error as exc:
            # not kept: after an error in a pipeline, psycopg's record of the statements it
            # prepared may name one the server dropped (and the transaction is aborted)
            await conn.close()
            if writing:
                raise WriteRefused(str(exc)) from exc
            raise
        return result

    def close(self) -> None:
        """Close the idle connections (those in use are closed when given back)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for conn in idle:
            conn.pgconn.finish()

    # -- connections ---------------------------------------------------------------------

    async def _take(self) -> psycopg.AsyncConnection[Any] | None:
        """An idle connection, a new one while fewer than `size` are open, else None."""
        while True:
            with self._lock:
                if self._closed:
                    return None
                conn = self._idle.pop() if self._idle else None
                if conn is None:
                    if self._open >= self._size:
                        return None
                    self._open += 1
            if conn is None:
                return await self._connect()
            if _usable(conn):
                return conn
            self._discard(conn)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        """A new connection, counted in `_open` by the caller (and uncounted if it fails)."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, row_factory=namedtuple_row
            )
        except BaseException:
            with self._lock:
                self._open -= 1
            raise
        set_json_loads(pydantic_core.from_json, conn)  # as `store.platform.db` parses JSON columns
        return conn

    def _give_back(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if not _usable(conn):
            self._discard(conn)
            return
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
            self._open -= 1
        conn.pgconn.finish()

    def _discard(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with self._lock:
            self._open -= 1
        if not conn.closed:
            conn.pgconn.finish()

    def _expanded(
        self, stmt: Executable, values: dict[str, Any], *, bind: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """The SQL and parameters psycopg is sent, expanding parameters filled in; with
        `bind`, the values as the columns' types give them to the driver (a write's JSON and
        time columns; a read's parameters are plain values)."""
        compiled = self._compiled.get(stmt)
        if compiled is None:
            if len(self._compiled) > 1000:  # statements are built once: this stays small
                self._compiled.clear()
            assert isinstance(stmt, ClauseElement)  # every statement built here is one
            built = stmt.compile(dialect=self._engine.dialect)
            assert isinstance(built, SQLCompiler)
            self._compiled[stmt] = compiled = built
        state = compiled.construct_expanded_state(values)
        params = dict(state.parameters)
        if bind:
            for name, process in compiled._bind_processors.items():
                if name in params:
                    if not callable(process):  # a tuple type: one processor per element
                        raise TypeError(f"tuple-typed parameter {name!r} cannot be bound here")
                    params[name] = process(params[name])
        return state.statement, params

    def _run_in_thread(self, steps: Steps[T], transaction: bool = False) -> T:
        if transaction:
            with self._engine.connect() as conn:  # begins with its first statement
                result = run_steps(conn, steps, self._settings)  # (raises for the writes)
                try:
                    conn.commit()
                except DBAPIError as exc:
                    raise WriteRefused(str(exc.orig)) from exc
                return result
        if self._settings:  # settings of a transaction: in one
            with self._engine.begin() as conn:
                return run_steps(conn, steps, self._settings)
        with reading(self._engine) as conn:
            return run_steps(conn, steps)


def conninfo(engine: Engine, settings: Mapping[str, str] | None = None) -> str:
    """What psycopg connects with to the database of `engine` (PostgreSQL): its URL, the
    planner settings every connection gets, the time zone UTC (timestamps come back as UTC,
    as the ORM's), and `settings`."""
    url = engine.url
    options = [planner_options(url.query.get("options")), "-c timezone=UTC"]
    options += [f"-c {name}={value}" for name, value in (settings or {}).items()]
    query: dict[str, str] = {}
    for key, value in url.query.items():
        if key == "options":
            continue
        if not isinstance(value, str):  # ?a=1&a=2: psycopg takes one value a key
            raise ValueError(f"the database URL gives {key!r} more than once")
        query[key] = value
    return psycopg.conninfo.make_conninfo(
        "",
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        **query,
        options=" ".join(options),
    )


def _usable(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Open, idle, and with nothing to read: a server that closed the connection (a restart,
    a terminated backend) leaves it readable."""
    if conn.closed or conn.broken or conn.info.transaction_status.name != "IDLE":
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    return not poller.poll(0)
