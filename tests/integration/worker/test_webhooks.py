"""Webhooks end to end: a real HTTP receiver on 127.0.0.1, SQLite and PostgreSQL, the real
Celery tasks (eagerly, and once on a real worker with Redis), and the admin API."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

import store.webhooks.outbox
from api.app import app
from api.routes.webhooks import router as webhooks_router
from schemas.errors import ErrorCode
from schemas.record import Status
from store import unit_of_work
from store.platform.ids import new_id
from store.platform.models import AuditRow, DocumentRow, WebhookDeliveryRow, WebhookRow
from store.records.corrections import correct_document
from store.records.documents import PageValues, mark_failed, mark_published, save_page
from store.records.events import RecordEvent
from store.services import Services, set_services
from store.webhooks.outbox import create_webhook
from tests.celery_harness import WorkerProcess, wait_until
from tests.conftest import REDIS_URL, bearer, make_services
from tests.data.samples import get_spec, write_digital_pdf
from worker.app import app as celery_app
from worker.app import configure
from worker.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    deliver,
    sweep,
    verify_signature,
)

SECRET = "khoa-bi-mat-cua-dich-vu-0123456789"
TIMEOUT = 1  # settings.webhook_timeout in these tests
#: the test receivers listen on this machine: allowed explicitly, as an operator would
LOCAL_RECEIVERS = "127.0.0.0/8,::1/128"
MAX_ATTEMPTS = 3
HANG = 3.0  # seconds the receiver sleeps when told to hang: longer than TIMEOUT


# --- a real receiver ------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    def verifies(self, secret: str) -> bool:
        return verify_signature(
            secret,
            self.body,
            self.headers.get(TIMESTAMP_HEADER),
            self.headers.get(SIGNATURE_HEADER),
        )


class Receiver:
    """An HTTP server in a thread that records every POST and answers from a script:
    a status code, or "hang" (sleep longer than the sender's timeout). 200 when the script
    is used up."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[int | str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, {k: v for k, v in self.headers.items()}, body)
                    )
                    action = receiver.script.pop(0) if receiver.script else 200
                if action == "hang":
                    time.sleep(HANG)
                    action = 200
                try:
                    self.send_response(int(action))
                    answer = b"ok" if int(action) < 300 else "không nhận".encode()
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up waiting
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def answer(self, *actions: int | str) -> None:
        with self._lock:
            self.script.extend(actions)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


# --- services with eager Celery ---------------------------------------------------------------


@pytest.fixture
def hsvc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """Services on each database, Celery tasks run eagerly in this process."""
    svc = make_services(
        database_url,
        f"file://{tmp_path / 'objects'}",
        broker_url=f"filesystem://{tmp_path / 'broker'}",
        webhook_timeout=TIMEOUT,
        webhook_max_attempts=MAX_ATTEMPTS,
        webhook_allowed_networks=LOCAL_RECEIVERS,
    )
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True
    set_services(svc)
    try:
        yield svc
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False
        svc.close()


@pytest.fixture
def client(hsvc: Services) -> Iterator[TestClient]:
    with TestClient(app, headers=bearer(hsvc)) as test_client:
        yield test_client


def subscribe(
    svc: Services,
    url: str,
    events: list[str] | None = None,
    units: list[str] | None = None,
    secret: str = SECRET,
) -> int:
    with unit_of_work(svc.sessions) as session:
        hook = create_webhook(
            session,
            url=url,
            secret=secret,
            events=events or [e.value for e in RecordEvent],
            units=units,
            actor="test",
        )
        return hook.id


def new_document(svc: Services, unit: str | None = "phuong-co-nhue-1") -> str:
    """A document being processed, as a worker holds it before publishing."""
    doc_id = new_id()
    with unit_of_work(svc.sessions) as session:
        session.add(
            DocumentRow(
                id=doc_id,
                unit_code=unit,
                filename=f"{doc_id}.pdf",
                sha256=hashlib.sha256(doc_id.encode()).hexdigest(),
                media_type="application/pdf",
                size=1000,
                page_count=1,
                status=Status.processing.value,
            )
        )
    return doc_id


DOCUMENT = {
    "type": "quyet_dinh",
    "number": "86/QĐ-UBND",
    "issued_on": "2023-05-29",
    "issuer": "Ủy ban nhân dân phường Cổ Nhuế 1",
    "subject": "Về việc phê duyệt danh sách",
    "signer": "Nguyễn Văn A",
}


def publish(svc: Services, doc_id: str, document: dict[str, Any] | None = None) -> None:
    with unit_of_work(svc.sessions) as session:
        assert mark_published(session, doc_id, Status.digitized, document or DOCUMENT)


def deliveries(svc: Services, **where: Any) -> list[WebhookDeliveryRow]:
    with unit_of_work(svc.sessions) as session:
        query = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)
        for name, value in where.items():
            query = query.where(getattr(WebhookDeliveryRow, name) == value)
        return list(session.scalars(query))


def one_delivery(svc: Services, **where: Any) -> WebhookDeliveryRow:
    (row,) = deliveries(svc, **where)
    return row


def make_due(svc: Services, delivery_id: int) -> None:
    """Let the clock run on to the next attempt (instead of sleeping through the backoff)."""
    with unit_of_work(svc.sessions) as session:
        session.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery_id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


# --- delivery ---------------------------------------------------------------------------------


def test_digitized_event_is_signed_and_carries_id_unit_link(
    hsvc: Services, receiver: Receiver
) -> None:
    hook_id = subscribe(hsvc, receiver.url())
    doc_id = new_document(hsvc)
    publish(hsvc, doc_id)  # the delivery is sent right after this commit

    (got,) = receiver.requests
    assert got.path == "/hook"
    assert got.verifies(SECRET)
    assert not got.verifies("a-different-secret-0123456789")
    # the documented recipe, computed independently of our helper
    ts = got.headers[TIMESTAMP_HEADER]
    mac = hmac.new(SECRET.encode(), ts.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers[SIGNATURE_HEADER] == "sha256=" + mac.hexdigest()
    assert abs(int(ts) - time.time()) < 3600
    assert got.headers[EVENT_HEADER] == "record.digitized"
    assert got.headers["Content-Type"].startswith("application/json")

    row = one_delivery(hsvc)
    assert got.headers[DELIVERY_HEADER] == str(row.id)
    assert got.body == row.body.encode()  # the stored body is what was signed and sent
    body = got.json
    assert body["event"] == "record.digitized"
    assert body["record_id"] == doc_id
    assert body["unit"] == "phuong-co-nhue-1"
    assert body["link"] == f"/api/v1/records/{doc_id}"
    assert body["status"] == "digitized"
    assert body["version"] == 2
    assert len(body["event_id"]) == 26
    assert body["occurred_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert (row.webhook_id, row.event, row.document_id) == (hook_id, "record.digitized", doc_id)
    assert row.status == "delivered" and row.attempts == 1
    assert row.last_status_code == 200 and row.last_error is None
    assert row.delivered_at is not None and row.next_attempt_at is None


def test_events_are_filtered_by_type_and_unit(hsvc: Services, receiver: Receiver) -> None:
    everything = subscribe(hsvc, receiver.url("/all"), ["record.digitized"])
    ward_failures = subscribe(hsvc, receiver.url("/ward"), ["record.failed"], ["phuong-co-nhue-1"])
    office = subscribe(
        hsvc, receiver.url("/office"), ["record.updated", "record.digitized"], ["phong-noi-vu"]
    )
    off = subscribe(hsvc, receiver.url("/off"))
    with unit_of_work(hsvc.sessions) as session:
        session.execute(update(WebhookRow).where(WebhookRow.id == off).values(active=False))

    ward_doc = new_document(hsvc, "phuong-co-nhue-1")
    publish(hsvc, ward_doc)
    failed_doc = new_document(hsvc, "phuong-co-nhue-1")
    other_ward_failed = new_document(hsvc, "phuong-co-nhue-2")
    no_unit_failed = new_document(hsvc, None)
    with unit_of_work(hsvc.sessions) as session:
        for doc_id in (failed_doc, other_ward_failed, no_unit_failed):
            assert mark_failed(session, doc_id, ErrorCode.corrupt_pdf, "hỏng")
    office_doc = new_document(hsvc, "phong-noi-vu")
    publish(hsvc, office_doc)
    with unit_of_work(hsvc.sessions) as session:
        correct_document(session, office_doc, {"subject": "Sửa trích yếu"}, actor="user:a")

    sent = {(r.path, r.json["event"], r.json["record_id"]) for r in receiver.requests}
    assert sent == {
        ("/all", "record.digitized", ward_doc),
        ("/all", "record.digitized", office_doc),
        ("/ward", "record.failed", failed_doc),
        ("/office", "record.digitized", office_doc),
        ("/office", "record.updated", office_doc),
    }
    assert len(receiver.requests) == 5
    by_hook = {
        hook: {(d.event, d.document_id) for d in deliveries(hsvc, webhook_id=hook)}
        for hook in (everything, ward_failures, office, off)
    }
    assert by_hook[off] == set()
    assert by_hook[ward_failures] == {("record.failed", failed_doc)}
    assert all(d.status == "delivered" for d in deliveries(hsvc))


def test_a_record_moved_to_another_unit_is_told_to_both_units(
    hsvc: Services, receiver: Receiver
) -> None:
    subscribe(hsvc, receiver.url("/old"), ["record.updated"], ["phuong-co-nhue-1"])
    subscribe(hsvc, receiver.url("/new"), ["record.updated"], ["phuong-co-nhue-2"])
    subscribe(hsvc, receiver.url("/third"), ["record.updated"], ["phong-noi-vu"])
    doc_id = new_document(hsvc, "phuong-co-nhue-1")
    publish(hsvc, doc_id)
    with unit_of_work(hsvc.sessions) as session:
        correct_document(session, doc_id, {"unit": "phuong-co-nhue-2"}, actor="user:a")
    sent = {(r.path, r.json["unit"]) for r in receiver.requests}
    # the old unit's subscriber learns that the record now belongs elsewhere
    assert sent == {("/old", "phuong-co-nhue-2"), ("/new", "phuong-co-nhue-2")}
    receiver.requests.clear()
    with unit_of_work(hsvc.sessions) as session:  # a change that does not move it
        correct_document(session, doc_id, {"subject": "Sửa trích yếu"}, actor="user:a")
    assert {r.path for r in receiver.requests} == {"/new"}


def test_rolled_back_change_makes_no_delivery(hsvc: Services, receiver: Receiver) -> None:
    subscribe(hsvc, receiver.url())
    doc_id = new_document(hsvc)
    with pytest.raises(RuntimeError), unit_of_work(hsvc.sessions) as session:
        assert mark_published(session, doc_id, Status.digitized, DOCUMENT)
        # the outbox row is written in the same transaction as the change...
        assert session.scalar(select(func.count()).select_from(WebhookDeliveryRow)) == 1
        raise RuntimeError("the publishing step failed after the update")
    # ...so it goes with it
    assert deliveries(hsvc) == []
    assert receiver.requests == []
    with unit_of_work(hsvc.sessions) as session:
        assert session.get(DocumentRow, doc_id).status == "processing"  # type: ignore[union-attr]


def test_secret_record_event_carries_no_content(
    hsvc: Services, receiver: Receiver, client: TestClient
) -> None:
    subscribe(hsvc, receiver.url())
    doc_id = new_document(hsvc)
    secret_words = "Kế hoạch phòng thủ bí mật số 7"
    document = {**DOCUMENT, "secrecy": "mat", "subject": secret_words, "signer": "Trần Thị Mật"}
    with unit_of_work(hsvc.sessions) as session:
        save_page(
            session,
            doc_id,
            PageValues(1, f"Nội dung: {secret_words}", "text-layer", 0.99, 0, None, False),
        )
        assert mark_published(session, doc_id, Status.digitized, document)
    with unit_of_work(hsvc.sessions) as session:
        correct_document(session, doc_id, {"urgency": "khan"}, actor="user:a")

    assert [r.json["event"] for r in receiver.requests] == ["record.digitized", "record.updated"]
    for got in receiver.requests:
        assert set(got.json) == {
            "event_id", "event", "occurred_at", "record_id", "unit", "status", "version",
            "updated_at", "link",
        }  # fmt: skip
        raw = got.body.decode()
        for word in (secret_words, "Trần Thị Mật", "86/QĐ-UBND", "mat", "quyet_dinh", "khan"):
            assert word not in raw
    # the link works only for a token that may read secret records
    link = receiver.requests[0].json["link"]
    plain = bearer(hsvc, "records:read")
    assert client.get(link, headers=plain).status_code == 404
    allowed = bearer(hsvc, "records:read", "records:secret")
    assert client.get(link, headers=allowed).json()["document"]["subject"] == secret_words


def test_failures_are_retried_with_growing_backoff_then_delivered(
    hsvc: Services, receiver: Receiver
) -> None:
    subscribe(hsvc, receiver.url())
    receiver.answer(500, 503)
    doc_id = new_document(hsvc)

    before = datetime.now(UTC)
    publish(hsvc, doc_id)
    after = datetime.now(UTC)
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error is not None and row.last_error.startswith("HTTP 500")
    assert "không nhận" not in row.last_error  # what a receiver says is never shown
    # first retry between 5 and 10 s later (base 10 s, jitter down to half)
    assert before + timedelta(seconds=5) <= row.next_attempt_at <= after + timedelta(seconds=10)  # type: ignore[operator]

    sweep.delay()  # not due yet: nothing is sent
    assert len(receiver.requests) == 1

    make_due(hsvc, row.id)
    before = datetime.now(UTC)
    sweep.delay()
    after = datetime.now(UTC)
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 2, 503)
    # the second wait is longer: between 10 and 20 s
    assert before + timedelta(seconds=10) <= row.next_attempt_at <= after + timedelta(seconds=20)  # type: ignore[operator]

    make_due(hsvc, row.id)
    sweep.delay()
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    assert row.last_error is None and row.next_attempt_at is None
    assert len(receiver.requests) == 3
    # every attempt: the same delivery id and body, each freshly signed
    assert {r.headers[DELIVERY_HEADER] for r in receiver.requests} == {str(row.id)}
    assert {r.body for r in receiver.requests} == {row.body.encode()}
    assert all(r.verifies(SECRET) for r in receiver.requests)


def test_gives_up_after_max_attempts_and_replay_succeeds(
    hsvc: Services, receiver: Receiver, client: TestClient
) -> None:
    subscribe(hsvc, receiver.url())
    receiver.answer(*[502] * MAX_ATTEMPTS)
    publish(hsvc, new_document(hsvc))
    for _ in range(MAX_ATTEMPTS - 1):
        make_due(hsvc, one_delivery(hsvc).id)
        sweep.delay()
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", MAX_ATTEMPTS, 502)
    assert row.next_attempt_at is None and row.delivered_at is None
    sweep.delay()  # a failed delivery is not picked up again on its own
    assert len(receiver.requests) == MAX_ATTEMPTS

    answer = client.post(f"/api/v1/webhooks/deliveries/{row.id}/replay")
    assert answer.status_code == 202, answer.text
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    assert len(receiver.requests) == MAX_ATTEMPTS + 1
    assert receiver.requests[-1].headers[DELIVERY_HEADER] == str(row.id)
    assert receiver.requests[-1].verifies(SECRET)
    with unit_of_work(hsvc.sessions) as session:
        replayed = session.scalars(select(AuditRow).where(AuditRow.action == "webhook.replay"))
        (entry,) = list(replayed)
    assert entry.detail["before"]["status"] == "failed"  # type: ignore[index]
    assert entry.detail["before"]["attempts"] == MAX_ATTEMPTS  # type: ignore[index]
    assert entry.actor.startswith("token:")

    # a delivered one can be replayed too; a pending one cannot
    assert client.post(f"/api/v1/webhooks/deliveries/{row.id}/replay").status_code == 202
    assert len(receiver.requests) == MAX_ATTEMPTS + 2
    receiver.answer(500)
    client.post(f"/api/v1/webhooks/deliveries/{row.id}/replay")
    assert one_delivery(hsvc).status == "pending"
    assert client.post(f"/api/v1/webhooks/deliveries/{row.id}/replay").status_code == 409
    assert client.post("/api/v1/webhooks/deliveries/999999/replay").status_code == 404


def test_410_gone_turns_the_subscription_off(
    hsvc: Services, receiver: Receiver, client: TestClient
) -> None:
    hook_id = subscribe(hsvc, receiver.url())
    receiver.answer(410)
    publish(hsvc, new_document(hsvc))
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, 410)
    hook = client.get(f"/api/v1/webhooks/{hook_id}").json()
    assert hook["active"] is False
    publish(hsvc, new_document(hsvc))  # nothing more is written for it
    assert len(deliveries(hsvc)) == 1 and len(receiver.requests) == 1
    assert client.post(f"/api/v1/webhooks/{hook_id}/test").status_code == 409
    assert client.post(f"/api/v1/webhooks/deliveries/{row.id}/replay").status_code == 409
    # switched on again by an admin, the failed delivery can be replayed
    assert client.patch(f"/api/v1/webhooks/{hook_id}", json={"active": True}).status_code == 200
    assert client.post(f"/api/v1/webhooks/deliveries/{row.id}/replay").status_code == 202
    assert one_delivery(hsvc).status == "delivered"


def test_timeout_is_recorded_and_retried(hsvc: Services, receiver: Receiver) -> None:
    subscribe(hsvc, receiver.url())
    receiver.answer("hang")
    publish(hsvc, new_document(hsvc))
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert row.last_error == f"timeout: no answer within {TIMEOUT} s"
    make_due(hsvc, row.id)
    sweep.delay()
    assert one_delivery(hsvc).status == "delivered"


def test_unreachable_receiver_is_an_error_not_a_crash(hsvc: Services) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subscribe(hsvc, f"http://127.0.0.1:{port}/hook")
    publish(hsvc, new_document(hsvc))
    row = one_delivery(hsvc)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert row.last_error is not None and row.last_error.startswith("connection failed")


def test_two_workers_never_send_one_delivery_twice(hsvc: Services, receiver: Receiver) -> None:
    subscribe(hsvc, receiver.url())
    previous = store.webhooks.outbox.set_dispatcher(None)  # the broker message is "lost"
    try:
        publish(hsvc, new_document(hsvc))
    finally:
        store.webhooks.outbox.set_dispatcher(previous)
    row = one_delivery(hsvc)
    assert row.status == "pending" and receiver.requests == []
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(deliver(row.id))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(receiver.requests) == 1
    assert one_delivery(hsvc).attempts == 1


def test_sweep_sends_what_the_broker_lost(hsvc: Services, receiver: Receiver) -> None:
    subscribe(hsvc, receiver.url())
    previous = store.webhooks.outbox.set_dispatcher(None)
    try:
        publish(hsvc, new_document(hsvc))
    finally:
        store.webhooks.outbox.set_dispatcher(previous)
    assert receiver.requests == []
    assert sweep.delay().get() == {"sent": [one_delivery(hsvc).id]}
    assert len(receiver.requests) == 1 and one_delivery(hsvc).status == "delivered"
    assert "webhooks" in celery_app.conf.beat_schedule
    assert celery_app.conf.beat_schedule["webhooks"]["task"] == sweep.name


def test_upload_through_the_api_notifies_with_a_link_that_works(
    hsvc: Services, receiver: Receiver, client: TestClient, tmp_path: Path
) -> None:
    created = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url(), "events": ["record.digitized"], "units": ["phong-noi-vu"]},
    ).json()
    pdf = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx"))
    answer = client.post(
        "/api/v1/batches",
        files=[("files", ("cv.pdf", pdf.path.read_bytes(), "application/pdf"))],
        data={"unit": "phong-noi-vu"},
    )
    assert answer.status_code == 202, answer.text
    record_id = answer.json()["entries"][0]["record_id"]
    (got,) = receiver.requests
    assert got.verifies(created["secret"])
    assert got.json["record_id"] == record_id and got.json["unit"] == "phong-noi-vu"
    record = client.get(got.json["link"])  # the receiver joins the path to its base URL
    assert record.status_code == 200 and record.json()["id"] == record_id


# --- the admin API --------------------------------------------------------------------------


def test_create_list_update_delete(hsvc: Services, client: TestClient, receiver: Receiver) -> None:
    answer = client.post(
        "/api/v1/webhooks",
        json={
            "url": receiver.url(),
            "events": ["record.failed", "record.digitized", "record.failed"],
            "units": ["phuong-co-nhue-1"],
        },
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    generated = created["secret"]
    assert len(generated) >= 32
    assert created["events"] == ["record.digitized", "record.failed"]
    assert created["units"] == ["phuong-co-nhue-1"] and created["active"] is True
    assert created["created_by"].startswith("token:")
    hook_id = created["id"]

    chosen = "mot-bi-mat-rat-dai-do-admin-chon-42"
    other = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url("/b"), "events": ["record.updated"], "secret": chosen},
    ).json()
    assert other["secret"] == chosen and other["units"] is None

    listed = client.get("/api/v1/webhooks")
    one = client.get(f"/api/v1/webhooks/{hook_id}")
    assert [h["id"] for h in listed.json()] == [hook_id, other["id"]]
    assert one.json()["url"] == receiver.url()
    changed = client.patch(f"/api/v1/webhooks/{hook_id}", json={"events": ["record.updated"]})
    assert changed.json()["units"] == ["phuong-co-nhue-1"]  # absent: unchanged
    changed = client.patch(f"/api/v1/webhooks/{hook_id}", json={"units": None})
    assert changed.json()["units"] is None  # null: every unit
    assert changed.json()["events"] == ["record.updated"]
    changed = client.patch(
        f"/api/v1/webhooks/{hook_id}", json={"url": receiver.url("/new"), "active": False}
    )
    assert changed.json()["url"] == receiver.url("/new") and changed.json()["active"] is False
    deliveries_page = client.get(f"/api/v1/webhooks/{hook_id}/deliveries")
    for response in (listed, one, changed, deliveries_page):
        assert response.status_code == 200
        assert generated not in response.text and chosen not in response.text
        assert "secret" not in response.text
    with unit_of_work(hsvc.sessions) as session:
        audit_text = json.dumps([a.detail for a in session.scalars(select(AuditRow))])
    assert "webhook.create" in {a for a in _actions(hsvc)}
    assert generated not in audit_text and chosen not in audit_text

    assert client.delete(f"/api/v1/webhooks/{hook_id}").status_code == 204
    assert client.get(f"/api/v1/webhooks/{hook_id}").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook_id}").status_code == 404
    assert client.patch(f"/api/v1/webhooks/{hook_id}", json={"active": True}).status_code == 404
    assert [h["id"] for h in client.get("/api/v1/webhooks").json()] == [other["id"]]


def _actions(svc: Services) -> list[str]:
    with unit_of_work(svc.sessions) as session:
        return list(session.scalars(select(AuditRow.action)))


def test_ping_and_paginated_deliveries(client: TestClient, receiver: Receiver) -> None:
    created = client.post(
        "/api/v1/webhooks", json={"url": receiver.url(), "events": ["record.digitized"]}
    ).json()
    hook_id = created["id"]
    receiver.answer(200, 500, 200, 200, 200)
    sent = [client.post(f"/api/v1/webhooks/{hook_id}/test") for _ in range(5)]
    assert {r.status_code for r in sent} == {202}
    assert [r.json()["event"] for r in sent] == ["ping"] * 5
    assert len(receiver.requests) == 5
    ping = receiver.requests[0]
    assert ping.headers[EVENT_HEADER] == "ping" and ping.verifies(created["secret"])
    assert ping.json["webhook_id"] == hook_id and ping.json["event"] == "ping"

    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", params=params).json()
        seen += [d["id"] for d in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == sorted(seen, reverse=True) and len(set(seen)) == 5
    pending = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"status": "pending"})
    (retrying,) = pending.json()["items"]
    assert retrying["id"] == sent[1].json()["id"]
    assert retrying["last_status_code"] == 500 and retrying["attempts"] == 1
    assert retrying["payload"]["event"] == "ping"
    failed = client.get(f"/api/v1/webhooks/{hook_id}/deliveries?status=failed").json()
    assert failed == {"items": [], "next_cursor": None}
    for bad in ("status=lost", "limit=0", "limit=100000", "cursor=abc", "cursor=-1"):
        answer = client.get(f"/api/v1/webhooks/{hook_id}/deliveries?{bad}")
        assert answer.status_code == 422, bad
    assert client.get("/api/v1/webhooks/999999/deliveries").status_code == 404
    assert client.post("/api/v1/webhooks/999999/test").status_code == 404


BAD_URLS = [
    "ftp://example.org/hook",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://example.org/" + "a" * 2100,
    "https://" + "a" * 100_000 + ".org/",
    "http://",
    "https:///hook",
    "/api/hook",
    "example.org/hook",
    "",
    "http://user:password@example.org/hook",
    "http://example.org/ho ok",
    "http://example.org/hook\n",
    "http://example.org:99999/hook",
    "http://example.org/hook#top",
    "gopher://127.0.0.1:6379/_FLUSHALL",
]


@pytest.mark.parametrize("url", BAD_URLS, ids=lambda u: u[:30])
def test_bad_urls_are_refused(client: TestClient, url: str) -> None:
    answer = client.post("/api/v1/webhooks", json={"url": url, "events": ["record.digitized"]})
    assert answer.status_code == 422, answer.text


def test_bad_input_is_refused(client: TestClient, receiver: Receiver) -> None:
    good = {"url": receiver.url(), "events": ["record.digitized"]}
    for body in (
        {**good, "url": 12},
        {**good, "events": []},
        {**good, "events": ["record.deleted"]},
        {**good, "events": "record.digitized"},
        {**good, "units": []},
        {**good, "units": ["no-such-unit"]},
        {**good, "units": ["x" * 65]},
        {**good, "secret": "short"},
        {**good, "secret": "s" * 201},
        {**good, "active": False, "extra": 1},
        {"events": ["record.digitized"]},
        {"url": receiver.url()},
    ):
        answer = client.post("/api/v1/webhooks", json=body)
        assert answer.status_code == 422, (body, answer.text)
    answer = client.post(
        "/api/v1/webhooks", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    hook_id = client.post("/api/v1/webhooks", json=good).json()["id"]
    for change in (
        {"url": None},
        {"events": None},
        {"active": None},
        {"url": "ftp://example.org/"},
        {"secret": "a-new-secret-0123456789"},
        {"units": ["no-such-unit"]},
    ):
        answer = client.patch(f"/api/v1/webhooks/{hook_id}", json=change)
        assert answer.status_code == 422, (change, answer.text)
    assert client.get(f"/api/v1/webhooks/{hook_id}").json()["url"] == receiver.url()
    for path in ("/api/v1/webhooks/abc", "/api/v1/webhooks/0", f"/api/v1/webhooks/{2**40}"):
        assert client.get(path).status_code == 422


def _every_route(hook_id: int, delivery_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", "/api/v1/webhooks", {"url": "http://127.0.0.1:9/", "events": ["record.failed"]}),
        ("GET", "/api/v1/webhooks", None),
        ("GET", f"/api/v1/webhooks/{hook_id}", None),
        ("PATCH", f"/api/v1/webhooks/{hook_id}", {"active": False}),
        ("DELETE", f"/api/v1/webhooks/{hook_id}", None),
        ("GET", f"/api/v1/webhooks/{hook_id}/deliveries", None),
        ("POST", f"/api/v1/webhooks/deliveries/{delivery_id}/replay", None),
        ("POST", f"/api/v1/webhooks/{hook_id}/test", None),
    ]


def test_only_admins_may_use_webhook_routes(
    hsvc: Services, client: TestClient, receiver: Receiver
) -> None:
    hook_id = subscribe(hsvc, receiver.url())
    publish(hsvc, new_document(hsvc))
    delivery_id = one_delivery(hsvc).id
    routes = _every_route(hook_id, delivery_id)
    declared = {(m, r.path) for r in webhooks_router.routes for m in r.methods}  # type: ignore[attr-defined]
    assert len(declared) == len(routes)  # every route of the router is checked here

    everything_but_admin = bearer(
        hsvc, *(s for s in ("records:read", "records:write", "records:secret", "batches:read",
                            "batches:write", "reports:read"))
    )  # fmt: skip
    anonymous = TestClient(app)
    for method, path, body in routes:
        denied = client.request(method, path, json=body, headers=everything_but_admin)
        assert denied.status_code == 403, (method, path, denied.text)
        nobody = anonymous.request(method, path, json=body)
        assert nobody.status_code == 401, (method, path, nobody.text)
        assert SECRET not in denied.text and SECRET not in nobody.text
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/webhooks", headers=bad_token).status_code == 401
    # nothing was changed or sent by the refused calls
    assert client.get(f"/api/v1/webhooks/{hook_id}").json()["active"] is True
    assert len(client.get("/api/v1/webhooks").json()) == 1
    assert len(receiver.requests) == 1


def test_receivers_inside_the_network_are_refused(
    hsvc: Services, client: TestClient, receiver: Receiver
) -> None:
    hsvc.settings.webhook_allowed_networks = ""  # the default: public addresses only
    for url in (
        "http://127.0.0.1:8000/hook",  # the service's own ports
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata and credentials
        "http://10.1.2.3/hook", "http://192.168.1.10/hook", "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook", "http://localhost:6379/", "http://0.0.0.0/",
    ):  # fmt: skip
        answer = client.post("/api/v1/webhooks", json={"url": url, "events": ["ping"]})
        assert answer.status_code == 422, (url, answer.text)
    assert client.get("/api/v1/webhooks").json() == []
    # allowed once, then the network is closed again: the delivery is refused, not sent
    hsvc.settings.webhook_allowed_networks = LOCAL_RECEIVERS
    hook_id = subscribe(hsvc, receiver.url())
    hsvc.settings.webhook_allowed_networks = ""
    moved = client.patch(f"/api/v1/webhooks/{hook_id}", json={"url": "http://127.0.0.2/x"})
    assert moved.status_code == 422
    publish(hsvc, new_document(hsvc))
    row = one_delivery(hsvc)
    assert row.last_error is not None and row.last_error.startswith("refused:"), row.last_error
    assert receiver.requests == []


# --- a real worker ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_real_worker_delivers_after_commit_and_beat_sweeps(
    pg_server: str, tmp_path: Path, receiver: Receiver
) -> None:
    from tests.conftest import _reset_pg

    _reset_pg(pg_server)
    queue = f"sohoa-test-{uuid.uuid4().hex[:8]}"
    svc = make_services(
        pg_server,
        f"file://{tmp_path / 'objects'}",
        broker_url=REDIS_URL,
        task_queue=queue,
        reconcile_every=1,
        webhook_allowed_networks=LOCAL_RECEIVERS,
    )
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = False
    worker_process = WorkerProcess(svc.settings, tmp_path / "worker.log")
    try:
        subscribe(svc, receiver.url())
        publish(svc, new_document(svc))  # the commit sends the task through Redis
        wait_until(
            lambda: one_delivery(svc).status == "delivered", 60, "the delivery by the worker"
        )
        assert len(receiver.requests) == 1 and receiver.requests[0].verifies(SECRET)
    finally:
        worker_process.stop()

    # A change whose message is lost: only the periodic sweep (beat) can send it.
    previous = store.webhooks.outbox.set_dispatcher(None)
    try:
        second = new_document(svc)
        publish(svc, second)
    finally:
        store.webhooks.outbox.set_dispatcher(previous)
    assert one_delivery(svc, document_id=second).status == "pending"
    worker_process = WorkerProcess(svc.settings, tmp_path / "worker-beat.log", beat=True)
    try:
        wait_until(
            lambda: one_delivery(svc, document_id=second).status == "delivered",
            60,
            "the sweep to send the lost delivery",
        )
        assert [r.json["record_id"] for r in receiver.requests][-1] == second
        assert len(receiver.requests) == 2
    finally:
        worker_process.stop()
        svc.close()
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(queue, f"{queue}.ocr")
        client.close()


def test_a_file_refused_at_upload_is_announced_as_failed(
    receiver: Receiver, client: TestClient
) -> None:
    client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url(), "events": ["record.failed"], "units": ["phong-noi-vu"]},
    )
    answer = client.post(
        "/api/v1/batches",
        files=[("files", ("rong.pdf", b"", "application/pdf"))],
        data={"unit": "phong-noi-vu"},
    )
    assert answer.status_code == 202, answer.text
    record_id = answer.json()["entries"][0]["record_id"]
    (got,) = receiver.requests
    assert got.json["event"] == "record.failed" and got.json["record_id"] == record_id
