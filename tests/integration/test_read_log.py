"""`store.read_log`: audit lines of reads are written a moment later, in order, by a thread
or by an API process's event loop — and none is lost at a normal stop, on a failed write or
in a forked child."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

import worker.services
from api.app import app
from store import make_engine
from store import read_log as read_log_module
from store.migrate import prepare_database
from store.models import AuditRow, utcnow
from store.read_log import ReadLog
from tests.conftest import bearer, make_services


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    prepare_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def held_log(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReadLog]:
    """A read log whose thread would wait a minute: only the test writes its lines."""
    monkeypatch.setattr(read_log_module, "INTERVAL", 60.0)
    log = ReadLog(engine)
    yield log
    log.close()


def _lines(engine: Engine) -> list[tuple[str, str | None, dict | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditRow.actor, AuditRow.document_id, AuditRow.detail)
            .where(AuditRow.action == "record.read")
            .order_by(AuditRow.id)
        ).all()
    return [tuple(r) for r in rows]


def _wait_for(engine: Engine, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(_lines(engine)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_lines_are_written_a_moment_later_in_order_with_the_time_of_the_read(
    engine: Engine,
) -> None:
    log = ReadLog(engine)
    try:
        before = utcnow()
        for n in range(30):
            log.note("token:a", "record.read", document_id=f"doc-{n:02d}", detail={"n": n})
        _wait_for(engine, 30)  # no flush: the thread writes them
        assert [doc for _, doc, _ in _lines(engine)] == [f"doc-{n:02d}" for n in range(30)]
        with engine.connect() as conn:
            first_at = conn.scalar(select(AuditRow.at).order_by(AuditRow.id).limit(1))
        assert before <= first_at <= utcnow()
        assert log.pending() == 0
    finally:
        log.close()


def test_close_writes_what_waits_and_later_lines_at_once(engine: Engine, held_log: ReadLog) -> None:
    log = held_log
    log.note("token:a", "record.read", document_id="one")
    log.note("token:a", "record.read", document_id="two")
    assert _lines(engine) == []
    log.close()
    assert [doc for _, doc, _ in _lines(engine)] == ["one", "two"]
    log.note("token:a", "record.read", document_id="late")  # a request finishing at shutdown
    assert [doc for _, doc, _ in _lines(engine)] == ["one", "two", "late"]


def test_a_refused_write_keeps_the_lines_for_the_next_try(
    engine: Engine, held_log: ReadLog
) -> None:
    held_log.note("token:a", "record.read", document_id="first")
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    try:
        held_log.note("token:a", "record.read", document_id="second")
        with pytest.raises(Exception, match="audit_log"):
            held_log.flush()
        assert held_log.pending() == 2
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    held_log.note("token:a", "record.read", document_id="third")
    held_log.flush()
    assert [doc for _, doc, _ in _lines(engine)] == ["first", "second", "third"]


def test_a_forked_child_does_not_write_its_parents_lines_again(
    engine: Engine, held_log: ReadLog
) -> None:
    held_log.note("token:a", "record.read", document_id="parent")
    pid = os.fork()
    if pid == 0:  # the child: what the parent noted is not its to write
        code = 0 if held_log.pending() == 0 else 1
        read_log_module.flush_all()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    held_log.flush()
    assert [doc for _, doc, _ in _lines(engine)] == ["parent"]


def test_the_application_writes_the_last_reads_when_it_stops(
    database_url: str, storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_log_module, "INTERVAL", 60.0)
    svc = make_services(database_url, storage_url)
    worker.services._current = svc
    try:
        with TestClient(app, headers=bearer(svc, "records:read")) as client:
            assert client.get("/api/v1/records/01ZZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404
            svc.read_log.note("token:x", "record.read", document_id="seen")  # as a read does
            assert _lines(svc.engine) == []
        # the application's shutdown wrote it, without a flush from here
        assert [(actor, doc) for actor, doc, _ in _lines(svc.engine)] == [("token:x", "seen")]
    finally:
        worker.services._current = None
        svc.close()


def test_inside_an_api_process_the_event_loop_writes_them(engine: Engine) -> None:
    """Notes from the loop and from a worker thread alike: written by the loop a moment
    later, in order, without a thread of the log's own; what waits at the end is written."""
    log = ReadLog(engine)

    async def serve() -> tuple[list[str], bool]:
        async with read_log_module.written_from_this_loop():
            for n in range(20):
                log.note("token:a", "record.read", document_id=f"doc-{n:02d}")
                if n == 10:  # a route run in a worker thread
                    await asyncio.to_thread(
                        log.note, "token:a", "record.read", document_id="from-a-thread"
                    )
            deadline = time.monotonic() + 10
            while len(_lines(engine)) < 21 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            written = [doc for _, doc, _ in _lines(engine)]
            log.note("token:a", "record.read", document_id="last")
            return written, log._thread is None

    try:
        written, no_thread = asyncio.run(serve())
        expected = [f"doc-{n:02d}" for n in range(11)] + ["from-a-thread"]
        assert written == expected + [f"doc-{n:02d}" for n in range(11, 20)]
        assert no_thread
        assert [doc for _, doc, _ in _lines(engine)][-1] == "last"  # written on the way out
        assert log.pending() == 0
    finally:
        log.close()


def test_from_the_loop_a_refused_write_keeps_the_lines(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_log_module, "INTERVAL", 0.05)
    log = ReadLog(engine)

    async def serve() -> int:
        async with read_log_module.written_from_this_loop():
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
            try:
                log.note("token:a", "record.read", document_id="first")
                await asyncio.sleep(0.5)  # several turns, each refused
                kept = log.pending()
            finally:
                with engine.begin() as conn:
                    conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
            log.note("token:a", "record.read", document_id="second")
            return kept

    try:
        assert asyncio.run(serve()) == 1
        assert [doc for _, doc, _ in _lines(engine)] == ["first", "second"]
    finally:
        log.close()
