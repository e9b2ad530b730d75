"""Progress of a batch as server-sent events: a finished batch, one still waiting in the
queue and then cancelled, reconnecting with Last-Event-ID, keep-alives, a client that leaves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import api.routes.batches
from api.app import app
from store.services import Services
from tests.conftest import bearer
from tests.data.samples import get_spec, write_digital_pdf
from tests.integration.api.test_uploads import UNIT, LiveServer, pdf_bytes, serving


def events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Server-sent events from a stream of lines: dicts of id/event/data, and comments as
    {"comment": text}."""
    event: dict[str, str] = {}
    for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")


def wait_until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@pytest.fixture
def fast_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.routes.batches, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(api.routes.batches, "KEEPALIVE_SECONDS", 0.3)


def test_a_finished_batch_streams_done_and_ends(
    svc: Services, tmp_path: Path, fast_events: None
) -> None:
    pdf = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx")).path.read_bytes()
    with serving(svc, tmp_path, eager=True), TestClient(app, headers=bearer(svc)) as client:
        batch = client.post(
            "/api/v1/batches", files=[("files", ("cv.pdf", pdf, "application/pdf"))],
            data={"unit": UNIT},
        ).json()  # fmt: skip
        assert batch["done"]
        with client.stream("GET", f"/api/v1/batches/{batch['id']}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            received = [e for e in events(response.iter_lines()) if "event" in e]
        assert [e["event"] for e in received] == ["done"]
        summary = json.loads(received[0]["data"])
        assert summary["counts"] == {"digitized": 1} and summary["eta_seconds"] == 0
        assert summary["pages_done"] == summary["pages_total"] >= 1
        assert summary["entries"] == []  # the GET has them
        # an EventSource that saw `done` and reconnects is told to stop
        again = client.get(
            f"/api/v1/batches/{batch['id']}/events", headers={"Last-Event-ID": received[0]["id"]}
        )
        assert again.status_code == 204
        assert client.get("/api/v1/batches/01JUNKUNKNOWN000000000000/events").status_code == 404
        ward = bearer(svc, "batches:read", units=["phuong-co-nhue-1"])
        hidden = client.get(f"/api/v1/batches/{batch['id']}/events", headers=ward)
        assert hidden.status_code == 404


def test_a_waiting_batch_streams_progress_until_cancelled(
    svc: Services, tmp_path: Path, fast_events: None
) -> None:
    auth = bearer(svc)
    with serving(svc, tmp_path, eager=False), LiveServer() as server:
        api_url = f"{server.url}/api/v1"
        files = [("files", (f"{n}.pdf", pdf_bytes(), "application/pdf")) for n in range(3)]
        batch = httpx.post(f"{api_url}/batches", files=files, headers=auth).json()
        url = f"{api_url}/batches/{batch['id']}/events"
        with httpx.stream("GET", url, headers=auth, timeout=30) as response:
            stream = events(response.iter_lines())
            first = next(e for e in stream if "event" in e)
            assert first["event"] == "progress"
            assert json.loads(first["data"])["counts"] == {"queued": 3}
            # nothing changes: keep-alive comments only
            assert next(stream) == {"comment": "keepalive"}
            cancelled = httpx.post(f"{api_url}/batches/{batch['id']}/cancel", headers=auth)
            assert len(cancelled.json()["record_ids"]) == 3
            rest = [e for e in stream if "event" in e]
        assert rest[-1]["event"] == "done"
        assert json.loads(rest[-1]["data"])["counts"] == {"failed": 3}

        # a client reconnecting with the id it last saw gets no repeat of that state
        other = httpx.post(f"{api_url}/batches", files=files[:1], headers=auth).json()
        url = f"{api_url}/batches/{other['id']}/events"
        with httpx.stream("GET", url, headers=auth, timeout=30) as response:
            seen = next(e for e in events(response.iter_lines()) if "event" in e)
        again = {**auth, "Last-Event-ID": seen["id"]}
        with httpx.stream("GET", url, headers=again, timeout=30) as response:
            stream = events(response.iter_lines())
            assert next(e for e in stream if "event" in e or "comment" in e) == {
                "comment": "keepalive"
            }
        # the stream of a client that went away is closed on the server too
        wait_until(lambda: api.routes.batches.active_streams == 0)
        assert api.routes.batches.active_streams == 0
