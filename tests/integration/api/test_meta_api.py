"""The service's own routes: units, the record's JSON Schema, health, readiness (database,
broker, storage) and Prometheus metrics, on both databases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import app
from schemas.jsonschema import SCHEMA_PATH, record_json_schema
from schemas.settings import get_settings
from schemas.vocab import default_units
from store.services import Services, set_services
from tests.conftest import REDIS_URL, bearer, make_services
from tests.data.samples import get_spec, write_digital_pdf
from worker.app import app as celery_app
from worker.app import configure

#: the code under test, whatever is installed
ROOT = Path(__file__).resolve().parents[3]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    svc = make_services(
        database_url, f"file://{tmp_path / 'objects'}", broker_url=f"filesystem://{tmp_path / 'b'}"
    )
    configure(celery_app, svc.settings)
    set_services(svc)
    try:
        yield svc
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False
        configure(celery_app, get_settings())
        svc.close()


@pytest.fixture
def anonymous(services: Services) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def test_units(services: Services, anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/units").status_code == 401
    response = anonymous.get("/api/v1/units", headers=bearer(services, "batches:read"))
    assert response.status_code == 200
    units = {u["code"]: u for u in response.json()}
    assert set(units) == {u.code for u in default_units()}
    ward = next(u for u in default_units() if u.parent is not None)
    assert units[ward.code]["name"] == ward.name
    assert units[ward.code]["parent"] == ward.parent
    assert units[ward.code]["kind"] == ward.kind.value


def test_record_schema(services: Services, anonymous: TestClient) -> None:
    url = "/api/v1/schemas/record.json"
    assert anonymous.get(url).status_code == 401
    headers = bearer(services, "records:read")
    response = anonymous.get(url, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    assert response.content == SCHEMA_PATH.read_bytes()
    schema = response.json()
    assert schema == json.loads(json.dumps(record_json_schema()))
    assert schema["$id"] == "/api/v1/schemas/record.json"
    assert "document" in schema["properties"]
    etag = response.headers["etag"]
    cached = anonymous.get(url, headers={**headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""


def test_health_is_open_and_readiness_checks_everything(
    services: Services, anonymous: TestClient
) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "ready": True,
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


def test_readiness_with_redis(database_url: str, tmp_path: Path) -> None:
    for broker, code, state in (
        (REDIS_URL, 200, "ok"),
        (f"redis://127.0.0.1:{_closed_port()}/0", 503, "error: ConnectionError"),
    ):
        svc = make_services(database_url, f"file://{tmp_path / 'objects'}", broker_url=broker)
        set_services(svc)
        try:
            with TestClient(app) as client:
                ready = client.get("/readyz")
        finally:
            set_services(None)
            svc.close()
        assert ready.status_code == code
        assert ready.json()["checks"] == {"database": "ok", "broker": state, "storage": "ok"}
        assert ready.json()["ready"] is (code == 200)
        assert "127.0.0.1" not in ready.text  # no URL in an open answer


def test_readiness_without_the_broker_folder(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "b"
    svc = make_services(
        database_url, f"file://{tmp_path / 'objects'}", broker_url=f"filesystem://{folder}"
    )
    set_services(svc)
    try:
        with TestClient(app) as client:
            ready = client.get("/readyz")
    finally:
        set_services(None)
        svc.close()
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"] == "error: broker folder missing"


def _scrape(client: TestClient, headers: dict[str, str]) -> dict[str, list]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


def _value(samples: list, name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


def test_metrics(services: Services, anonymous: TestClient, tmp_path: Path) -> None:
    assert anonymous.get("/metrics").status_code == 401
    assert anonymous.get("/metrics", headers=bearer(services, "records:read")).status_code == 403
    reports = bearer(services, "reports:read")
    assert anonymous.get("/metrics", headers=bearer(services, "admin")).status_code == 200

    empty = _scrape(anonymous, reports)
    for state in ("queued", "processing", "digitized", "needs_review", "failed"):
        assert _value(empty["sohoa_documents"], "sohoa_documents", state=state) == 0
    assert _value(empty["sohoa_queue_length"], "sohoa_queue_length", queue="sohoa.ocr") == 0

    uploader = bearer(services)
    good = write_digital_pdf(tmp_path / "kh.pdf", get_spec("kh-251-ubnd"))
    later = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx"))
    celery_app.conf.task_always_eager = True  # digitized at once, here
    batch = anonymous.post(
        "/api/v1/batches",
        files=[
            ("files", ("kh.pdf", good.path.read_bytes(), "application/pdf")),
            ("files", ("bad.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 50, "application/pdf")),
        ],
        data={"unit": "phong-noi-vu"},
        headers=uploader,
    ).json()
    celery_app.conf.task_always_eager = False  # this one waits in the (filesystem) queue
    anonymous.post(
        "/api/v1/batches",
        files=[("files", ("cv.pdf", later.path.read_bytes(), "application/pdf"))],
        headers=uploader,
    )
    record = anonymous.get(f"/api/v1/records/{batch['entries'][0]['record_id']}", headers=uploader)
    state, pages = record.json()["status"], record.json()["source"]["pages"]
    assert state in ("digitized", "needs_review") and pages >= 1
    anonymous.get("/api/v1/units", headers=uploader)
    anonymous.get("/no/such/path/" + uuid.uuid4().hex)

    scraped = _scrape(anonymous, reports)
    documents = scraped["sohoa_documents"]
    expected = {"queued": 1, "processing": 0, "digitized": 0, "needs_review": 0, "failed": 1}
    expected[state] = 1
    for name, count in expected.items():
        assert _value(documents, "sohoa_documents", state=name) == count, name
    assert _value(scraped["sohoa_pages_digitized"], "sohoa_pages_digitized") == pages
    recent = scraped["sohoa_pages_digitized_last_10m"]
    assert _value(recent, "sohoa_pages_digitized_last_10m") == pages
    per_minute = _value(scraped["sohoa_pages_per_minute"], "sohoa_pages_per_minute")
    assert per_minute == pytest.approx(pages / 10)
    assert _value(scraped["sohoa_queue_length"], "sohoa_queue_length", queue="sohoa.ocr") == 1
    assert _value(scraped["sohoa_queue_length"], "sohoa_queue_length", queue="sohoa") == 0
    assert _value(scraped["sohoa_broker_up"], "sohoa_broker_up") == 1
    turnaround = scraped["sohoa_document_turnaround_seconds"]
    assert _value(turnaround, "sohoa_document_turnaround_seconds_count") == 1  # not the failed
    assert _value(turnaround, "sohoa_document_turnaround_seconds_bucket", le="+Inf") == 1

    requests = scraped["sohoa_http_request_duration_seconds"]
    units = _value(
        requests,
        "sohoa_http_request_duration_seconds_count",
        method="GET",
        route="/api/v1/units",
        status="200",
    )
    assert units >= 1
    routes = {s.labels.get("route") for s in requests}
    assert "unmatched" in routes and "/api/v1/records/{record_id}" in routes
    assert not any("no/such/path" in (r or "") for r in routes)


_OBSERVE = """
import asyncio, sys
from api.metrics import MetricsMiddleware

async def answer(scope, receive, send):
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

async def ignore(message):
    pass

for _ in range(int(sys.argv[1])):
    asyncio.run(MetricsMiddleware(answer)({"type": "http", "method": "GET"}, None, ignore))
"""


def test_a_scrape_sums_the_requests_of_every_api_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several API processes (prometheus_client's multiprocess mode), whichever process
    answers the scrape reports the requests of all of them."""
    from api import metrics

    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen([sys.executable, "-c", _OBSERVE, str(n)], env=env) for n in (3, 4)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0]

    def requests(text: str) -> float:
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert ("process_cpu_seconds" in families) is ("PROMETHEUS_MULTIPROC_DIR" not in os.environ)
        samples = families["sohoa_http_request_duration_seconds"].samples
        return _value(
            samples,
            "sohoa_http_request_duration_seconds_count",
            method="GET",
            route="unmatched",
            status="204",
        )

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    assert requests(metrics._of_the_processes().decode()) == 7
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")  # one process: its own, and its CPU, memory
    metrics.REQUEST_SECONDS.labels("GET", "unmatched", "204").observe(0.001)
    assert requests(metrics._of_the_processes().decode()) >= 1


def test_queue_length_from_redis(database_url: str, tmp_path: Path) -> None:
    """Real messages in Redis (a queue of its own, so no worker takes them)."""
    queue = f"sohoa-test-{uuid.uuid4().hex[:8]}"
    svc = make_services(
        database_url, f"file://{tmp_path / 'objects'}", broker_url=REDIS_URL, task_queue=queue
    )
    configure(celery_app, svc.settings)
    set_services(svc)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        from worker.tasks import process_document, publish_document

        for n in range(3):
            process_document.apply_async(args=[f"doc-{n}"])
        publish_document.apply_async(args=["doc-x"], priority=9)
        with TestClient(app) as api:
            scraped = _scrape(api, bearer(svc, "reports:read"))
        lengths = scraped["sohoa_queue_length"]
        assert _value(lengths, "sohoa_queue_length", queue=f"{queue}.ocr") == 3
        assert _value(lengths, "sohoa_queue_length", queue=queue) == 1
    finally:
        set_services(None)
        client.delete(*[k for k in client.scan_iter(f"{queue}*")] or [f"{queue}.none"])
        client.close()
        configure(celery_app, get_settings())
        svc.close()


def test_metrics_when_the_broker_is_down(database_url: str, tmp_path: Path) -> None:
    svc = make_services(
        database_url,
        f"file://{tmp_path / 'objects'}",
        broker_url=f"redis://127.0.0.1:{_closed_port()}/0",
    )
    set_services(svc)
    try:
        with TestClient(app) as client:
            scraped = _scrape(client, bearer(svc, "admin"))
    finally:
        set_services(None)
        svc.close()
    assert _value(scraped["sohoa_broker_up"], "sohoa_broker_up") == 0
    assert "sohoa_queue_length" not in scraped
    assert _value(scraped["sohoa_documents"], "sohoa_documents", state="queued") == 0


@pytest.mark.slow
def test_readiness_names_frozen_storage_within_a_second(tmp_path: Path) -> None:
    """A storage server that accepts connections and never answers (SIGSTOP): /readyz still
    answers, with 503 and storage named; a second probe during the freeze starts no new
    check; after the thaw it is ready again."""
    from tests.s3process import S3Process

    s3 = S3Process()
    db = f"sqlite:///{tmp_path / 'ready.db'}"
    svc = make_services(db, f"s3://{s3.endpoint}/ready", broker_url=REDIS_URL)
    set_services(svc)
    try:
        with TestClient(app) as client:
            assert client.get("/readyz").status_code == 200
            with s3.frozen():
                first = client.get("/readyz")
                second = client.get("/readyz")
            again = client.get("/readyz")
            for _ in range(60):  # the check left hanging ends once the server answers
                if again.status_code == 200:
                    break
                time.sleep(0.5)
                again = client.get("/readyz")
    finally:
        set_services(None)
        svc.close()
        s3.stop()
    assert first.status_code == 503
    assert first.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "storage": "error: timeout",
    }
    assert second.json()["checks"]["storage"] == "error: timeout (still waiting)"
    assert again.json() == {"ready": True, "checks": {k: "ok" for k in first.json()["checks"]}}
