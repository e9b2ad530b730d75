"""Audit lines of reads, written a batch at a time.

Every read of a record by a service leaves an audit line. Written by the request itself, the
line was a second statement and a second round trip for the most frequent call of the API
(a fifth of its CPU and a third of PostgreSQL's, measured under load). Here a read notes its
line in memory, with the moment of the read, and what has gathered is written every
`INTERVAL` seconds, in one transaction: by the API process's event loop (inside
`written_from_this_loop`, which the application's lifespan enters), else by a thread of the
process (woken sooner when `BATCH` lines wait).

Why the event loop, in an API process: a thread writing beside it competes for the
interpreter lock with the loop, which serves every request; each time the thread woke to
write, requests in flight waited for the lock (record reads under load: p95 22-24 ms with the
thread, 18 ms with the same writes made from the loop, the median alike). From the loop the
batch is one COPY sent by psycopg's async connection, between requests.

What this costs: a line waits up to `INTERVAL` before it is in the database. It is written
at the latest when the process stops (application shutdown, `close`, interpreter exit); only
a process killed outright loses the last fraction of a second of lines — the same window
PostgreSQL already allowed for them, since the commit of a read's line never waited for its
disk flush. A failed write keeps the lines for the next try. Lines keep their order.

Changes (corrections, uploads, users) are audited in their own transaction, not here.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Any

import anyio.to_thread
import psycopg
from sqlalchemy import Engine, insert, text

from store.async_reads import conninfo
from store.models import AuditRow, utcnow

log = logging.getLogger(__name__)

#: seconds a noted line waits at most before it is written
INTERVAL = 0.2
#: lines that wake the thread before the interval is over
BATCH = 500
#: lines kept while the database refuses them; beyond, the oldest are dropped (and counted)
MAX_PENDING = 200_000

_INSERT = insert(AuditRow.__table__)
_RELAXED = text("SET LOCAL synchronous_commit = off")
_COPY = "COPY audit_log (at, actor, action, document_id, detail) FROM STDIN"
_all: weakref.WeakSet[ReadLog] = weakref.WeakSet()
#: connections a forked child inherited: kept referenced, never closed from the child (that
#: would end the parent's session)
_inherited: list[Any] = []
#: the event loop that writes the read logs of this process (`written_from_this_loop`)
_writer_loop: asyncio.AbstractEventLoop | None = None
#: (read log, its stop signal, its writing task) on that loop
_loop_writers: list[tuple[ReadLog, asyncio.Event, asyncio.Task[None]]] = []


@contextlib.asynccontextmanager
async def written_from_this_loop() -> AsyncIterator[None]:
    """While inside, the read logs of this process are written by the running event loop
    (an API process: see the module's docstring), not by threads; on the way out, what
    is pending is written."""
    global _writer_loop
    _writer_loop = asyncio.get_running_loop()
    try:
        yield
    finally:
        _writer_loop = None
        writers = list(_loop_writers)
        _loop_writers.clear()
        for _, stop, _ in writers:
            stop.set()
        for _, _, task in writers:
            with contextlib.suppress(Exception):
                await task
        flush_all()


class ReadLog:
    """Audit lines noted now, written in batches: `note` from any thread, `flush` to write
    at once, `close` to write and stop."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._relaxed = engine.dialect.name == "postgresql"
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards _pending and the thread
        self._writing = threading.Lock()  # one writer at a time: lines stay in order
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_loop = False  # written by the writer loop's task: no thread
        self._loop_conn: psycopg.AsyncConnection[Any] | None = None
        self._closed = False
        self.dropped = 0
        _all.add(self)

    def note(
        self,
        actor: str,
        action: str,
        *,
        document_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        line = {
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "document_id": document_id,
            "batch_id": None,
            "detail": detail,
        }
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._pending.append(line)
                waiting = len(self._pending)
                if self._thread is None and not self._on_loop:
                    writer_loop = _writer_loop
                    if writer_loop is not None:
                        self._on_loop = True
                        writer_loop.call_soon_threadsafe(self._start_on_loop)
                    else:
                        self._start_thread()
        if closed:  # after close (a late request at shutdown): written by the caller
            self._write([line])
        elif waiting >= BATCH and not self._on_loop:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> None:
        """Write every line noted so far, now (raises if the database refuses them; they
        are kept for the next try)."""
        with self._writing:
            with self._lock:
                lines, self._pending = self._pending, []
            if lines:
                self._write_or_keep(lines)

    def _start_thread(self) -> None:
        """(with `_lock` held)"""
        self._thread = threading.Thread(target=self._run, name="sohoa-read-log", daemon=True)
        self._thread.start()

    def _start_on_loop(self) -> None:
        """On the writer loop: its task writing this log (a thread if the loop has just
        stopped being the writer)."""
        loop = asyncio.get_running_loop()
        if _writer_loop is not loop:
            with self._lock:
                self._on_loop = False
                if self._thread is None and not self._closed:
                    self._start_thread()
            return
        stop = asyncio.Event()
        _loop_writers.append((self, stop, loop.create_task(self._write_from_loop(stop))))

    async def _write_from_loop(self, stop: asyncio.Event) -> None:
        """Write the noted lines every `INTERVAL` until `stop` is set, then what is pending.
        On SQLite the writes themselves go to a thread (they may wait for the database's
        lock)."""
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), INTERVAL)
                try:
                    await self._flush_from_loop()
                except Exception:
                    log.exception("audit lines of reads not written yet; retrying")
        finally:
            self._on_loop = False
            conn, self._loop_conn = self._loop_conn, None
            if conn is not None:
                await conn.close()

    async def _flush_from_loop(self) -> None:
        """(It holds `_writing` across its awaits: on the writer loop itself, `flush` and
        `close` wait for its task to end first, as `written_from_this_loop` does.)"""
        if not self._relaxed:
            await anyio.to_thread.run_sync(self.flush)
            return
        if not self._writing.acquire(blocking=False):
            return  # a flush in another thread (a test, a shutdown): the next turn
        try:
            with self._lock:
                lines, self._pending = self._pending, []
            if not lines:
                return
            try:
                await self._copy_from_loop(lines)
            except BaseException:
                self._keep(lines)
                raise
        finally:
            self._writing.release()

    async def _copy_from_loop(self, lines: list[dict[str, Any]]) -> None:
        conn = self._loop_conn
        if conn is None or conn.closed or conn.broken:
            settings = {"synchronous_commit": "off"}  # (see `_write`)
            conn = await psycopg.AsyncConnection.connect(conninfo(self._engine, settings))
            self._loop_conn = conn
        try:
            async with conn.transaction(), conn.cursor().copy(_COPY) as copy:
                for row in _copy_rows(lines):
                    await copy.write_row(row)
        except Exception:
            self._loop_conn = None
            await conn.close()
            raise

    def close(self) -> None:
        """Write what is pending and stop the thread; later notes are written at once."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        try:
            self.flush()
        except Exception:
            log.exception("audit lines of reads could not be written at close")

    def _run(self) -> None:
        while True:
            self._wake.wait(INTERVAL)
            self._wake.clear()
            with self._lock:
                if self._closed:
                    return
            try:
                self.flush()
            except Exception:
                log.exception("audit lines of reads not written yet; retrying")

    def _write_or_keep(self, lines: list[dict[str, Any]]) -> None:
        try:
            self._write(lines)
        except Exception:
            self._keep(lines)
            raise

    def _keep(self, lines: list[dict[str, Any]]) -> None:
        """Lines a write did not take, back before the others (within `MAX_PENDING`)."""
        with self._lock:
            self._pending[:0] = lines
            excess = len(self._pending) - MAX_PENDING
            if excess > 0:
                del self._pending[:excess]
                self.dropped += excess
                log.error("%d audit lines of reads dropped: the database refuses them", excess)

    def _write(self, lines: list[dict[str, Any]]) -> None:
        with self._engine.begin() as conn:
            if not self._relaxed:
                conn.execute(_INSERT, lines)
                return
            conn.execute(_RELAXED)
            # COPY, formatted by psycopg in C: the thread holds the interpreter a fraction of
            # what an INSERT per line did, and the API's requests wait on it less
            # (~25 µs a line through executemany stalled every request in flight each flush)
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(_COPY) as copy:
                for row in _copy_rows(lines):
                    copy.write_row(row)

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent writes the lines it noted; the child starts empty
        (its copy of the parent's thread does not run)."""
        self._pending = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        self._on_loop = False
        if self._loop_conn is not None:
            _inherited.append(self._loop_conn)
            self._loop_conn = None


def _copy_rows(lines: Iterable[dict[str, Any]]) -> Iterable[tuple[Any, ...]]:
    for line in lines:
        detail = line["detail"]
        yield (
            line["at"],
            line["actor"],
            line["action"],
            line["document_id"],
            None if detail is None else json.dumps(detail),
        )


def flush_all() -> None:
    """Write the pending lines of every read log of this process (at shutdown)."""
    for read_log in list(_all):
        try:
            read_log.flush()
        except Exception:
            log.exception("audit lines of reads could not be written")


def _after_fork_in_child() -> None:
    for read_log in list(_all):
        read_log._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(flush_all)
