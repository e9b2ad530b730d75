"""The minimal API: health, upload a batch, follow it, get a record — and `sohoa serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import app
from schemas import Batch, Record, Status
from store.services import Services, set_services
from tests.conftest import bearer
from tests.data.samples import get_spec, write_bad_files, write_digital_pdf, write_png
from worker.app import app as celery_app
from worker.app import configure

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def client(svc: Services, tmp_path: Path) -> Iterator[TestClient]:
    svc.settings.broker_url = f"filesystem://{tmp_path / 'broker'}"
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True  # a sent task runs here, at once
    set_services(svc)
    try:
        with TestClient(app, headers=bearer(svc)) as test_client:
            yield test_client
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}


def test_upload_follow_and_fetch(client: TestClient, tmp_path: Path) -> None:
    good = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx"))
    bad = write_bad_files(tmp_path / "bad")
    files = [
        ("files", ("cv.pdf", good.path.read_bytes(), "application/pdf")),
        ("files", ("again.pdf", good.path.read_bytes(), "application/pdf")),
        ("files", ("hỏng.pdf", bad["corrupt.pdf"].read_bytes(), "application/pdf")),
        ("files", ("../../etc/passwd", b"root:x:0:0", "text/plain")),
    ]
    response = client.post(
        "/api/v1/batches", files=files, data={"unit": "phong-noi-vu", "dossier": "H49.1"}
    )
    assert response.status_code == 202, response.text
    batch = Batch.model_validate(response.json())
    assert [e.outcome.value for e in batch.entries] == [
        "accepted", "duplicate", "accepted", "accepted",
    ]  # fmt: skip
    assert batch.entries[3].status is Status.failed
    assert batch.entries[3].error_code == "unsupported_type"
    assert batch.done  # the tasks ran eagerly, in this process
    batch = Batch.model_validate(client.get(f"/api/v1/batches/{batch.id}").json())
    assert batch.done
    assert batch.counts == {Status.digitized: 1, Status.failed: 2}
    record = Record.model_validate(
        client.get(f"/api/v1/records/{batch.entries[0].record_id}").json()
    )
    assert record.status is Status.digitized and record.unit == "phong-noi-vu"
    assert record.dossier == "H49.1"
    assert "Kính gửi" in (record.text or "")
    broken = client.get(f"/api/v1/records/{batch.entries[2].record_id}").json()
    assert broken["error"]["code"] == "corrupt_pdf"
    assert broken["source"]["filename"] == "hỏng.pdf"
    weird = client.get(f"/api/v1/records/{batch.entries[3].record_id}").json()
    assert weird["source"]["filename"] == "passwd"  # never a path


def test_bad_requests(client: TestClient) -> None:
    assert client.get("/api/v1/records/nope").status_code == 404
    assert client.get("/api/v1/batches/nope").status_code == 404
    no_files = client.post("/api/v1/batches", data={"unit": "phong-noi-vu"})
    assert no_files.status_code == 422
    unknown_unit = client.post(
        "/api/v1/batches", files=[("files", ("a.pdf", b"%PDF-1.4", "application/pdf"))],
        data={"unit": "no-such-unit"},
    )  # fmt: skip
    assert unknown_unit.status_code == 422
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "sohoa"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_serve_runs_api_and_worker_on_the_embedded_defaults(tmp_path: Path) -> None:
    """`sohoa serve` on a fresh folder: SQLite, var/objects, the filesystem broker."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--concurrency", "1"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        token = subprocess.run(
            [sys.executable, "-m", "cli.main", "token", "create", "scanner",
             "--scope", "batches:write", "--scope", "batches:read", "--scope", "records:read"],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
        ).stdout.splitlines()[-1]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/api/v1/batches/x", timeout=5).status_code == 401
        png = write_png(tmp_path / "in" / "tb.png", get_spec("tb-45-pnv"))
        response = httpx.post(
            f"{base}/api/v1/batches",
            files=[("files", ("tb.png", png.path.read_bytes(), "image/png"))],
            headers=auth,
            timeout=30,
        )
        assert response.status_code == 202, response.text
        batch_id = response.json()["id"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            batch = httpx.get(f"{base}/api/v1/batches/{batch_id}", headers=auth, timeout=5).json()
            if batch["done"]:
                break
            time.sleep(1)
        assert batch["done"], (tmp_path / "serve.log").read_text()[-3000:]
        record_url = f"{base}/api/v1/records/{batch['entries'][0]['record_id']}"
        record = httpx.get(record_url, headers=auth, timeout=5).json()
        assert record["status"] == "digitized"
        assert record["pages"][0]["method"] == "ocr"
        assert (tmp_path / "var" / "objects" / "records" / record["id"] / "searchable.pdf").exists()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
        log.close()
