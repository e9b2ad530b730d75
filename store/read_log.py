"""Audit lines of reads, written a batch at a time by one thread of the process.

Every read of a record by a service leaves an audit line. Written by the request itself, the
line was a second statement and a second round trip for the most frequent call of the API
(a fifth of its CPU and a third of PostgreSQL's, measured under load). Here a read notes its
line in memory, with the moment of the read, and a thread of the process writes what has
gathered every `INTERVAL` seconds (or sooner when `BATCH` lines wait), in one transaction.

What this costs: a line waits up to `INTERVAL` before it is in the database. It is written
at the latest when the process stops (application shutdown, `close`, interpreter exit); only
a process killed outright loses the last fraction of a second of lines — the same window
PostgreSQL already allowed for them, since the commit of a read's line never waited for its
disk flush. A failed write keeps the lines for the next try. Lines keep their order.

Changes (corrections, uploads, users) are audited in their own transaction, not here.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, insert, text

from store.models import AuditRow, utcnow

log = logging.getLogger(__name__)

#: seconds a noted line waits at most before the thread writes it
INTERVAL = 0.2
#: lines that wake the thread before the interval is over
BATCH = 500
#: lines kept while the database refuses them; beyond, the oldest are dropped (and counted)
MAX_PENDING = 200_000

_INSERT = insert(AuditRow.__table__)
_RELAXED = text("SET LOCAL synchronous_commit = off")
_COPY = "COPY audit_log (at, actor, action, document_id, detail) FROM STDIN"
_all: weakref.WeakSet[ReadLog] = weakref.WeakSet()


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
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="sohoa-read-log", daemon=True
                    )
                    self._thread.start()
        if closed:  # after close (a late request at shutdown): written by the caller
            self._write([line])
        elif waiting >= BATCH:
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
            with self._lock:
                self._pending[:0] = lines
                excess = len(self._pending) - MAX_PENDING
                if excess > 0:
                    del self._pending[:excess]
                    self.dropped += excess
                    log.error("%d audit lines of reads dropped: the database refuses them", excess)
            raise

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
                for line in lines:
                    copy.write_row(
                        (
                            line["at"],
                            line["actor"],
                            line["action"],
                            line["document_id"],
                            None if line["detail"] is None else json.dumps(line["detail"]),
                        )
                    )

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent writes the lines it noted; the child starts empty
        (its copy of the parent's thread does not run)."""
        self._pending = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._thread = None


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
