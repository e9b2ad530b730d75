"""An API process killed outright (`kill -9`) right after answering audited reads: every
line is in the database, since each was committed before its answer left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import app
from store.audit.reads import READ
from store.platform.models import AuditRow
from store.services import Services, set_services
from tests.conftest import bearer, make_services
from tests.integration.api.test_api import _free_port
from tests.integration.api.test_api_server import _wait_healthy
from tests.integration.api.test_record_api import upload
from worker.app import app as celery_app
from worker.app import configure

#: audited reads made before the kill
READS = 60
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    services = make_services(
        database_url, f"file://{tmp_path / 'objects'}", broker_url=f"filesystem://{tmp_path}/b"
    )
    yield services
    services.close()


def _a_digitized_record(svc: Services, tmp_path: Path) -> str:
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True  # digitized here, at once
    set_services(svc)
    try:
        with TestClient(app, headers=bearer(svc)) as client:
            return upload(client, tmp_path)
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False


@pytest.mark.slow
def test_a_killed_api_process_loses_no_audit_line(svc: Services, tmp_path: Path) -> None:
    record_id = _a_digitized_record(svc, tmp_path)
    before = len(_read_lines(svc, record_id))
    headers = bearer(svc, "records:read")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env.update(
        SOHOA_DATABASE_URL=svc.settings.database_url,
        SOHOA_STORAGE_URL=svc.settings.storage_url,
        PYTHONPATH=str(ROOT),  # this checkout's code, whatever the environment installed
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--api-processes", "1",
         "--no-worker", "--no-migrate", "--no-access-log"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    url = f"/api/v1/records/{record_id}"
    try:
        _wait_healthy(base)
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            etag = client.get(url).headers["etag"]
            kinds = [
                (url, {}, "record", 200),
                (url, {"If-None-Match": etag}, "record", 304),
                (f"{url}/text", {}, "text", 200),
                (f"{url}/pdf", {"Range": "bytes=0-9"}, "pdf", 206),
                (f"{url}/original", {}, "original", 200),
                (f"{url}/history", {}, "history", 200),
            ]
            made = [kinds[n % len(kinds)] for n in range(READS)]
            for path, extra, _, status in made:
                assert client.get(path, headers=extra).status_code == status
            # right after the last answer, before anything else can run in the server
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    details = _read_lines(svc, record_id)[before:]
    # the read of the ETag, then every one of the reads, in order
    assert [(d["what"], d["status"]) for d in details[1:]] == [
        (what, status) for _, _, what, status in made
    ]
    assert len(details) == READS + 1


def _read_lines(svc: Services, record_id: str) -> list[dict[str, Any]]:
    with svc.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditRow.detail)
                .where(AuditRow.action == READ, AuditRow.document_id == record_id)
                .order_by(AuditRow.id)
            )
        )
