"""Limits per request and per account, and what a caller may not bend: the client's address
behind proxies, a body that trickles, reports and streams of a limited or revoked token,
webhook delivery ids.

Each test is a finding of an attack on the running service, closed.
"""

from __future__ import annotations

import io
import socket
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import delete, select

import api.routes.batches
from api.app import app
from schemas.auth import Role
from schemas.settings import Settings
from store import original_key, unit_of_work
from store.accounts.auth import create_user, revoke_token
from store.platform.models import ApiTokenRow, AuditRow, WebhookDeliveryRow
from store.services import Services
from store.webhooks.outbox import create_webhook
from tests.conftest import bearer
from tests.integration.api.test_batch_events import events
from tests.integration.api.test_progress import _docs
from tests.integration.api.test_uploads import (
    UNIT,
    LiveServer,
    batches_count,
    by_name,
    documents_count,
    multipart,
    pdf_bytes,
    post,
    serving,
)

OTHER_UNIT = "phuong-co-nhue-1"
PASSWORD = "mật-khẩu-đủ-dài-1"


@pytest.fixture
def served(svc: Services, tmp_path: Path) -> Iterator[Services]:
    """`svc` serving the API, its uploads left queued."""
    with serving(svc, tmp_path, eager=False):
        yield svc


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --- the client's address ---------------------------------------------------------------------


def _fail_login(client: TestClient, name: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = client.post(
        "/api/v1/auth/login", json={"username": name, "password": "sai-mật-khẩu"}, headers=headers
    )
    return response.status_code


def _clients_seen(svc: Services) -> list[str | None]:
    with unit_of_work(svc.sessions) as session:
        rows = session.scalars(
            select(AuditRow.detail)
            .where(AuditRow.action == "user.login_failed")
            .order_by(AuditRow.id)
        ).all()
    return [row["client"] for row in rows]


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(served: Services) -> None:
    with TestClient(app) as client:  # its requests come from the peer "testclient"
        _fail_login(client, "an", "203.0.113.7")
        served.settings.trusted_proxies = "testclient"
        _fail_login(client, "an", "203.0.113.7")
        # a client writing its own header only adds entries left of the proxy's: the
        # right-most hop that is not a proxy is the client
        _fail_login(client, "an", "198.51.100.1, 203.0.113.8")
        served.settings.trusted_proxies = "testclient,10.0.0.0/8"
        _fail_login(client, "an", "198.51.100.1, 203.0.113.9, 10.1.2.3")
    assert _clients_seen(served) == ["testclient", "203.0.113.7", "203.0.113.8", "203.0.113.9"]


def test_a_forged_header_does_not_get_round_the_login_throttle(served: Services) -> None:
    with unit_of_work(served.sessions) as session:
        create_user(session, "bich", PASSWORD, Role.staff, units=[UNIT], actor="test")
    served.settings.trusted_proxies = "testclient"
    with TestClient(app) as client:
        codes = [_fail_login(client, "bich", f"198.51.100.{i}, 203.0.113.5") for i in range(6)]
        assert codes == [401] * 5 + [429]  # one machine, whatever it writes in the header
        # another machine behind the same proxy may still try (and log in)
        other = {"X-Forwarded-For": "203.0.113.6"}
        ok = client.post(
            "/api/v1/auth/login", json={"username": "bich", "password": PASSWORD}, headers=other
        )
        assert ok.status_code == 200, ok.text


def test_trusting_every_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="list the proxies"):
        Settings(trusted_proxies="10.0.0.1, *")
    assert Settings(trusted_proxies=" 10.0.0.1 , 10.1.0.0/16 ").trusted_proxies == (
        "10.0.0.1,10.1.0.0/16"
    )


# --- a body that stalls or trickles -------------------------------------------------------------


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_body_that_stalls_or_trickles_is_cut_off(served: Services) -> None:
    served.settings.body_idle_timeout = 1
    served.settings.body_min_rate = 2000
    token = bearer(served)["Authorization"]
    body, content_type = multipart([(b"files", pdf_bytes() * 50, b"slow.pdf")])
    head = (
        f"POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with LiveServer() as server:
        # half the body, then nothing: the server does not wait for ever
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head + body[: len(body) // 2])
            stalled = _read_all(sock)
        # a few bytes now and then, never pausing long enough for the idle timeout
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head)
            answer = b""
            for i in range(0, len(body), 16):
                try:
                    sock.sendall(body[i : i + 16])
                except OSError:  # the server closed the connection
                    break
                time.sleep(0.25)
            answer = _read_all(sock)
        # an honest client is served as before
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head.replace(b"Host: x", b"Host: x\r\nConnection: close") + body)
            honest = _read_all(sock)
    assert stalled.startswith(b"HTTP/1.1 408"), stalled[:200]
    assert "quá chậm".encode() in stalled
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert honest.startswith(b"HTTP/1.1 202"), honest[:300]
    assert batches_count(served) == 1 and documents_count(served) == 1


# --- limits per request -------------------------------------------------------------------------


def test_one_request_is_bounded_across_all_its_zips(served: Services) -> None:
    served.settings.zip_max_entries = 5
    with TestClient(app, headers=bearer(served)) as client:
        first = zip_of({f"a{i}.pdf": pdf_bytes() for i in range(3)})
        second = zip_of({f"b{i}.pdf": pdf_bytes() for i in range(3)})
        response = post(client, [("a.zip", first), ("b.zip", second)], unit=UNIT)
        assert response.status_code == 202, response.text
        entries = by_name(response.json())
        refused = sorted(n for n, e in entries.items() if e["error_code"] == "request_too_large")
        assert refused == ["b.zip/b2.pdf"]
        assert sum(e["outcome"] == "accepted" for e in entries.values()) == 5
        # bytes: a request may store no more than SOHOA_ZIP_MAX_SIZE, unpacked, in all
        served.settings.zip_max_entries = 100
        big = pdf_bytes() + b"x" * 3000
        served.settings.zip_max_size = 8000
        response = post(
            client,
            [
                ("c.zip", zip_of({"c1.pdf": big, "c2.pdf": big + b"2"})),
                ("d.zip", zip_of({"d.pdf": big + b"3"})),
            ],
            unit=UNIT,
        )
        codes = {n: e["error_code"] for n, e in by_name(response.json()).items()}
        assert codes == {
            "c.zip/c1.pdf": None,
            "c.zip/c2.pdf": None,
            "d.zip/d.pdf": "request_too_large",
        }
        # a body bigger than that is refused as it arrives, and nothing of it is stored
        before = documents_count(served)
        response = post(client, [(f"e{i}.pdf", big + bytes([i])) for i in range(3)], unit=UNIT)
        assert response.status_code == 413, response.text
        assert documents_count(served) == before


def test_a_file_of_a_type_never_accepted_is_recorded_but_not_kept(served: Services) -> None:
    junk = b"MZ\x90\x00" + uuid.uuid4().bytes * 1000
    with TestClient(app, headers=bearer(served)) as client:
        entry = post(client, [("setup.exe", junk)], unit=UNIT).json()["entries"][0]
        record = client.get(f"/api/v1/records/{entry['record_id']}").json()
        assert record["status"] == "failed" and record["error"]["code"] == "unsupported_type"
        assert not served.objects.exists(original_key(record["source"]["sha256"]))
        original = client.get(f"/api/v1/records/{entry['record_id']}/original")
        assert original.status_code == 404 and "not kept" in original.text
        # the same bytes again are the same record, still not stored
        again = post(client, [("setup-2.exe", junk)], unit=UNIT).json()["entries"][0]
        assert again["record_id"] == entry["record_id"] and again["outcome"] == "duplicate"
        assert not served.objects.exists(original_key(record["source"]["sha256"]))


# --- quotas per account ---------------------------------------------------------------------------


def test_an_account_may_not_queue_more_than_its_quota(served: Services) -> None:
    served.settings.quota_queued_documents = 3
    mine = bearer(served)
    with TestClient(app, headers=mine) as client:
        response = post(client, [(f"{i}.pdf", pdf_bytes()) for i in range(5)], unit=UNIT)
        codes = [e["error_code"] for e in response.json()["entries"]]
        assert codes == [None, None, None, "quota_exceeded", "quota_exceeded"]
        # at the quota: refused before the body is read, nothing stored, told when to retry
        before = (batches_count(served), documents_count(served))
        refused = post(client, [("later.pdf", pdf_bytes())], unit=UNIT)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert (batches_count(served), documents_count(served)) == before
        # another account of the same unit goes on
        other = client.post(
            "/api/v1/batches",
            files=[("files", ("other.pdf", pdf_bytes(), "application/pdf"))],
            data={"unit": UNIT},
            headers=bearer(served),
        )
        assert other.status_code == 202 and other.json()["entries"][0]["error_code"] is None


def test_an_account_may_not_store_more_than_its_bytes_per_hour(served: Services) -> None:
    big = pdf_bytes() + b"x" * 4000
    served.settings.quota_upload_bytes_per_hour = 3 * len(big) + 100

    def codes(names: list[str]) -> list[str | None]:
        files = [(name, big + name[0].encode()) for name in names]
        return [e["error_code"] for e in post(client, files, unit=UNIT).json()["entries"]]

    with TestClient(app, headers=bearer(served)) as client:
        assert codes(["0.pdf", "1.pdf"]) == [None, None]
        # files already stored, sent again, are duplicates: no new bytes, no quota used
        assert codes(["0-again.pdf", "1-again.pdf"]) == [None, None]
        assert codes(["2.pdf", "3.pdf"]) == [None, "quota_exceeded"]
        assert codes(["4.pdf"]) == ["quota_exceeded"]  # 100 bytes left: not enough
        served.settings.quota_upload_bytes_per_hour = 3 * len(big)
        refused = post(client, [("5.pdf", big + b"5")], unit=UNIT)
        assert refused.status_code == 429
        assert 3000 <= int(refused.headers["Retry-After"]) <= 3600


# --- what a limited or revoked token sees ---------------------------------------------------------


def test_reports_show_only_the_units_of_a_limited_token(served: Services) -> None:
    today = date.today()
    with unit_of_work(served.sessions) as session:
        _docs(session, UNIT, 3, day=today)
        _docs(session, OTHER_UNIT, 5, day=today)
    ward = bearer(served, "reports:read", units=[OTHER_UNIT])
    with TestClient(app) as client:
        everything = client.get("/api/v1/progress", headers=bearer(served)).json()
        assert everything["totals"]["digitized_documents"] == 8
        mine = client.get("/api/v1/progress", headers=ward).json()
        assert [u["unit"] for u in mine["units"]] == [OTHER_UNIT]
        assert mine["totals"]["digitized_documents"] == 5
        assert sum(t["documents"] for t in mine["by_type"]) == 5
        assert sum(d["documents"] for d in mine["by_day"]) == 5
        csv = client.get("/api/v1/progress/report.csv", headers=ward).text
        assert OTHER_UNIT in csv and UNIT not in csv
        xlsx = client.get("/api/v1/progress/report.xlsx", headers=ward)
        assert xlsx.status_code == 200 and UNIT.encode() not in xlsx.content


def test_an_event_stream_ends_when_its_token_is_revoked(
    served: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.routes.batches, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(api.routes.batches, "REAUTH_SECONDS", 0.1)
    headers = bearer(served)
    with TestClient(app, headers=headers) as client:
        batch = post(client, [("waiting.pdf", pdf_bytes())], unit=UNIT).json()
        assert not batch["done"]  # nobody works here: the stream would last for ever
        with client.stream("GET", f"/api/v1/batches/{batch['id']}/events") as response:
            assert response.status_code == 200
            seen = []
            for event in events(response.iter_lines()):
                seen.append(event.get("event"))
                if event.get("event") == "progress":
                    with unit_of_work(served.sessions) as session:
                        token_id = session.scalars(select(ApiTokenRow.id)).all()[-1]
                        assert revoke_token(session, token_id, actor="test")
        assert seen[-1] == "revoked" and "progress" in seen


# --- webhook delivery ids ------------------------------------------------------------------


def test_a_delivery_id_is_never_given_twice(svc: Services) -> None:
    """Receivers deduplicate on X-Sohoa-Delivery: after a delete, no id comes back."""

    def delivery(session, hook_id: int) -> int:  # type: ignore[no-untyped-def]
        row = WebhookDeliveryRow(webhook_id=hook_id, event="ping", body="{}", status="pending")
        session.add(row)
        session.flush()
        return row.id

    with unit_of_work(svc.sessions) as session:
        hook = create_webhook(
            session, url="https://example.org/h", secret="s" * 32, events=["ping"], units=None,
            actor="test",
        )  # fmt: skip
        ids = [delivery(session, hook.id) for _ in range(3)]
    with unit_of_work(svc.sessions) as session:
        session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.id == ids[-1]))
    with unit_of_work(svc.sessions) as session:
        assert delivery(session, hook.id) > max(ids)
