"""`store.audit.reads`: the audit line of a read by a service is committed in the read's own
transaction before the answer leaves; a read whose line the database refuses is answered 503,
not 200. On both databases, on both ways a read runs (steps from the event loop or in a
thread, and an ORM session)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from api.app import app
from api.errors import AUDIT_REFUSED
from store import make_engine
from store.audit.reads import READ, ReadLine, audited
from store.bootstrap import prepare_database
from store.platform.async_reads import AsyncReads
from store.platform.models import AuditRow
from store.platform.steps import WriteRefused
from store.records.reads import record_steps
from store.services import Services, set_services
from tests.conftest import bearer, make_services
from tests.integration.api.test_record_api import upload
from worker.app import app as celery_app
from worker.app import configure

MISSING = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    prepare_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[tuple[Services, TestClient]]:
    svc = make_services(
        database_url, f"file://{tmp_path / 'objects'}", broker_url=f"filesystem://{tmp_path}/b"
    )
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True  # uploads are digitized here, at once
    set_services(svc)
    try:
        with TestClient(app, headers=bearer(svc)) as client:
            yield svc, client
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False
        svc.close()


def _lines(engine: Engine) -> list[tuple[str | None, dict[str, Any] | None]]:
    """The read lines as another connection sees them (committed, nothing else)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditRow.document_id, AuditRow.detail)
            .where(AuditRow.action == READ)
            .order_by(AuditRow.id)
        ).all()
    return [(doc, detail) for doc, detail in rows]


def _rename_audit_log(engine: Engine, old: str, new: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def _reads(record_id: str, etag: str) -> list[tuple[str, dict[str, str]]]:
    url = f"/api/v1/records/{record_id}"
    return [
        (url, {}),
        (url, {"If-None-Match": etag}),
        (f"{url}/text", {}),
        (f"{url}/pdf", {"Range": "bytes=0-9"}),
        (f"{url}/original", {}),
        (f"{url}/history", {}),
    ]


def test_each_read_is_committed_before_its_answer_arrives(
    env: tuple[Services, TestClient], tmp_path: Path
) -> None:
    svc, client = env
    record_id = upload(client, tmp_path)
    etag = client.get(f"/api/v1/records/{record_id}").headers["etag"]
    before = len(_lines(svc.engine))
    for n, (url, headers) in enumerate(_reads(record_id, etag), start=1):
        assert client.get(url, headers=headers).status_code in (200, 206, 304)
        assert len(_lines(svc.engine)) == before + n, url  # no wait, no flush
    details = [detail for _, detail in _lines(svc.engine)[before:]]
    assert [(d["what"], d["status"]) for d in details] == [
        ("record", 200), ("record", 304), ("text", 200), ("pdf", 206), ("original", 200),
        ("history", 200),
    ]  # fmt: skip


def test_a_read_whose_line_is_refused_answers_503(
    env: tuple[Services, TestClient], tmp_path: Path
) -> None:
    svc, client = env
    record_id = upload(client, tmp_path)
    etag = client.get(f"/api/v1/records/{record_id}").headers["etag"]
    before = len(_lines(svc.engine))
    _rename_audit_log(svc.engine, "audit_log", "audit_log_away")
    try:
        # (the history is read from the audit log itself: without it, nothing is read)
        for url, headers in _reads(record_id, etag)[:-1]:
            response = client.get(url, headers=headers)
            assert response.status_code == 503, (url, response.status_code)
            assert response.json() == {"detail": AUDIT_REFUSED, "code": "audit_refused"}
            assert response.headers["retry-after"] == "30"
        # what is not audited is answered as before; a missing record stays 404
        assert client.get(f"/api/v1/records/{MISSING}").status_code == 404
    finally:
        _rename_audit_log(svc.engine, "audit_log_away", "audit_log")
    assert len(_lines(svc.engine)) == before
    # the connections that were refused serve the next reads
    for url, headers in _reads(record_id, etag):
        assert client.get(url, headers=headers).status_code in (200, 206, 304)
    assert len(_lines(svc.engine)) == before + 6


def _line_for(found: Any) -> tuple[str, ReadLine | None]:
    return ("found" if found else "none"), ReadLine("token:t", MISSING, {"what": "record"})


@pytest.mark.parametrize("connections", [4, 0], ids=["from-the-loop", "in-a-thread"])
def test_steps_and_their_line_commit_together(engine: Engine, connections: int) -> None:
    """From the event loop (PostgreSQL) or in a thread (SQLite, or every connection busy):
    the line is committed by `run`, not written when the steps fail, and a refusal raises
    `WriteRefused` and leaves the connections usable."""
    reads = AsyncReads(engine, connections, generic_plans=True)

    def refuse(found: Any) -> tuple[str, ReadLine | None]:
        raise LookupError("not visible")

    async def scenario() -> None:
        assert await reads.run(audited(record_steps(MISSING), _line_for), transaction=True) == (
            "none"
        )
        assert len(_lines(engine)) == 1
        with pytest.raises(LookupError):
            await reads.run(audited(record_steps(MISSING), refuse), transaction=True)
        assert len(_lines(engine)) == 1
        _rename_audit_log(engine, "audit_log", "audit_log_away")
        try:
            for _ in range(3):
                with pytest.raises(WriteRefused):
                    await reads.run(audited(record_steps(MISSING), _line_for), transaction=True)
        finally:
            _rename_audit_log(engine, "audit_log_away", "audit_log")
        assert await reads.run(audited(record_steps(MISSING), _line_for), transaction=True)
        assert len(_lines(engine)) == 2

    try:
        asyncio.run(scenario())
    finally:
        reads.close()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AuditRow)) == 2
