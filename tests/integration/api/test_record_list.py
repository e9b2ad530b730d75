"""`GET /api/v1/records`: filters, keyset pagination while records change, sync, bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

import store.search.ranked
from api.app import app
from store import unit_of_work
from store.platform.models import DocumentRow
from store.records.corrections import correct_document
from store.services import Services, set_services
from tests.conftest import bearer
from tests.integration.store.test_search import add_record

READ = "records:read"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def api(svc: Services) -> Iterator[TestClient]:
    set_services(svc)
    try:
        with TestClient(app, headers=bearer(svc, READ, "records:secret")) as client:
            yield client
    finally:
        set_services(None)


def set_updated(svc: Services, record_id: str, when: datetime) -> None:
    with unit_of_work(svc.sessions) as session:
        session.execute(
            update(DocumentRow).where(DocumentRow.id == record_id).values(updated_at=when)
        )


def page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/records", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def walk(client: TestClient, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        body = page(client, **params, **({"cursor": cursor} if cursor else {}))
        seen.extend(ids(body))
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_items_carry_metadata_not_text(svc: Services, api: TestClient) -> None:
    record = add_record(
        svc,
        ["Toàn văn trang một", "Toàn văn trang hai"],
        document={"type": "ke_hoach", "number": "251/KH-UBND", "issued_on": "2023-05-29"},
        filename="hop12_0001.pdf",
    )
    [item] = page(api)["items"]
    assert item["id"] == record
    assert item["status"] == "digitized" and item["unit"] == "phong-noi-vu"
    assert item["filename"] == "hop12_0001.pdf" and item["pages"] == 2
    assert item["document"]["number"] == "251/KH-UBND"
    assert item["document"]["issued_on"] == "2023-05-29"
    assert item["version"] == 1 and item["updated_at"] and item["error"] is None
    assert "Toàn văn" not in json.dumps(item, ensure_ascii=False)


def test_filters(svc: Services, api: TestClient) -> None:
    plan = add_record(svc, ["a"], document={"type": "ke_hoach", "issued_on": "2023-05-29"})
    decision = add_record(
        svc,
        ["b"],
        unit="phuong-co-nhue-1",
        document={"type": "quyet_dinh", "issued_on": "2019-02-01"},
    )
    review = add_record(svc, ["c"], status="needs_review")
    failed = add_record(svc, [], status="failed", unit="phuong-co-nhue-1")
    for when, record in enumerate([plan, decision, review, failed]):
        set_updated(svc, record, T0 + timedelta(hours=when))
    assert ids(page(api)) == [plan, decision, review, failed]
    assert ids(page(api, unit="phuong-co-nhue-1")) == [decision, failed]
    assert ids(page(api, type="quyet_dinh")) == [decision]
    assert ids(page(api, type=["quyet_dinh", "ke_hoach"])) == [plan, decision]
    assert ids(page(api, status=["needs_review", "failed"])) == [review, failed]
    assert ids(page(api, issued_from="2020-01-01")) == [plan]
    assert ids(page(api, issued_to="2020-01-01")) == [decision]
    assert ids(page(api, issued_from="2019-02-01", issued_to="2023-05-29")) == [plan, decision]
    assert ids(page(api, updated_since=(T0 + timedelta(hours=2)).isoformat())) == [
        review, failed,
    ]  # fmt: skip
    naive = (T0 + timedelta(hours=3)).replace(tzinfo=None).isoformat()
    assert ids(page(api, updated_since=naive)) == [failed]  # UTC when no offset
    for far in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):  # no UTC instant
        answer = api.get("/api/v1/records", params={"updated_since": far})
        assert answer.status_code == 422, (far, answer.text)
    assert api.get("/api/v1/records").status_code == 200  # and the connection goes on
    assert ids(page(api, unit="phuong-co-nhue-1", status="failed")) == [failed]
    assert ids(page(api, unit="no-such-unit")) == []
    assert ids(page(api, order="desc")) == [failed, review, decision, plan]


def test_paging_while_records_are_added(svc: Services, api: TestClient) -> None:
    first = [add_record(svc, [f"bản ghi {i}"]) for i in range(7)]
    for i, record in enumerate(first):
        set_updated(svc, record, T0 + timedelta(minutes=i))
    seen: list[str] = []
    body = page(api, limit=3)
    added = []
    while True:
        seen.extend(ids(body))
        added.append(add_record(svc, ["bản ghi mới"]))  # arrives between two pages
        if body["next_cursor"] is None:
            break
        body = page(api, limit=3, cursor=body["next_cursor"])
    assert len(seen) == len(set(seen))  # nothing twice
    assert seen[:7] == first  # nothing skipped, in order
    assert set(seen[7:]) <= set(added)  # the new ones come after


def test_a_record_changed_between_pages_is_not_skipped(svc: Services, api: TestClient) -> None:
    records = [add_record(svc, ["x"], document={"subject": f"s{i}"}) for i in range(6)]
    for i, record in enumerate(records):
        set_updated(svc, record, T0 + timedelta(minutes=i))
    body = page(api, limit=2)
    seen = ids(body)
    assert seen == records[:2]
    with unit_of_work(svc.sessions) as session:
        for changed in (records[0], records[3]):  # one already seen, one not yet
            correct_document(session, changed, {"subject": "đã sửa"}, actor="user:test")
    while body["next_cursor"]:
        body = page(api, limit=2, cursor=body["next_cursor"])
        seen.extend(ids(body))
    assert set(seen) == set(records)  # nothing skipped
    assert seen[-2:] == [records[0], records[3]]  # the changed ones come again, at the end
    assert seen.count(records[0]) == 2 and seen.count(records[3]) == 1


def test_incremental_sync_with_updated_since(svc: Services, api: TestClient) -> None:
    old = add_record(svc, ["cũ"])
    set_updated(svc, old, T0)
    batch = [add_record(svc, ["mới"]) for _ in range(5)]
    for i, record in enumerate(batch):
        set_updated(svc, record, T0 + timedelta(days=1, seconds=i))
    synced = walk(api, updated_since=(T0 + timedelta(days=1)).isoformat(), limit=2)
    assert synced == batch
    last = max(item["updated_at"] for item in page(api, limit=200)["items"])
    # a correction later: the next sync from the remembered time brings exactly it
    with unit_of_work(svc.sessions) as session:
        correct_document(session, old, {"subject": "sửa"}, actor="user:test")
    assert walk(api, updated_since=last, limit=2) == [batch[-1], old]  # inclusive bound


def test_limit_bounds(svc: Services, api: TestClient) -> None:
    for _ in range(55):
        add_record(svc, [])
    body = page(api)
    assert len(body["items"]) == 50 and body["next_cursor"]
    assert len(page(api, limit=200)["items"]) == 55
    for bad in (0, -1, 201, "many"):
        assert api.get("/api/v1/records", params={"limit": bad}).status_code == 422


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_malformed_cursors_are_422(svc: Services, api: TestClient) -> None:
    for _ in range(3):
        add_record(svc, ["quyết định"])
    good = page(api, limit=1)["next_cursor"]
    search_cursor = page(api, limit=1, q="quyet")["next_cursor"]
    decoded = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    bad = [
        "!!!", "abc", "%%%", "a" * 1001, _b64(b"not json"), _b64(b"\xff\xfe"), _b64([1, 2]),
        _b64({}), _b64({**decoded, "v": 2}), _b64({**decoded, "u": "yesterday"}),
        _b64({**decoded, "u": "2026-01-01T00:00:00"}), _b64({**decoded, "i": 5}),
        _b64({**decoded, "i": "x" * 41}), _b64({**decoded, "f": "other"}), search_cursor,
    ]  # fmt: skip
    for cursor in bad:
        response = api.get("/api/v1/records", params={"limit": 1, "cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
    # a cursor only goes with the filters and query it came from
    assert api.get("/api/v1/records", params={"cursor": good, "unit": "x"}).status_code == 422
    assert api.get("/api/v1/records", params={"cursor": good, "order": "desc"}).status_code == 422
    assert api.get("/api/v1/records", params={"cursor": good, "q": "a"}).status_code == 422
    other_q = {"cursor": search_cursor, "q": "dinh", "limit": 1}
    assert api.get("/api/v1/records", params=other_q).status_code == 422
    search_decoded = json.loads(
        base64.urlsafe_b64decode(search_cursor + "=" * (-len(search_cursor) % 4))
    )
    for tier in (-1, 4, "0", 1.5, None):
        tampered = _b64({**search_decoded, "t": tier})
        params = {"cursor": tampered, "q": "quyet", "limit": 1}
        assert api.get("/api/v1/records", params=params).status_code == 422, tier
    assert page(api, limit=1, cursor=good)["items"]  # the real one still works


def test_bad_filters_are_422(svc: Services, api: TestClient) -> None:
    bad = [
        {"type": "no_such_type"},
        {"status": "lost"},
        {"issued_from": "2024-01-02", "issued_to": "2024-01-01"},
        {"issued_from": "29/05/2023"},
        {"updated_since": "yesterday"},
        {"order": "random"},
        {"unit": [f"u{i}" for i in range(51)]},
    ]
    for params in bad:
        response = api.get("/api/v1/records", params=params)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["msg"]


def test_who_may_list(svc: Services) -> None:
    add_record(svc, ["x"])
    set_services(svc)
    try:
        with TestClient(app) as anonymous:
            assert anonymous.get("/api/v1/records").status_code == 401
        with TestClient(app, headers=bearer(svc, "batches:read")) as batches_only:
            assert batches_only.get("/api/v1/records").status_code == 403
        with TestClient(app, headers={"Authorization": "Bearer nope"}) as wrong:
            assert wrong.get("/api/v1/records").status_code == 401
    finally:
        set_services(None)


def test_search_pages_while_records_are_added(
    svc: Services, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.search.ranked, "RANK_WINDOW", 4)  # pages cross ranking blocks
    monkeypatch.setattr(store.search.ranked, "RECENT_SLICE", 5)
    original = []
    for i in range(11):
        text = "Quyết định khen thưởng" if i % 3 == 0 else "quyet dinh khen thuong"
        original.append(add_record(svc, [text]))
    seen: list[str] = []
    body = page(api, q="quyết định", limit=3)
    while True:
        seen.extend(ids(body))
        add_record(svc, ["Quyết định mới ban hành"])  # newer than any page's bound
        if body["next_cursor"] is None:
            break
        body = page(api, q="quyết định", limit=3, cursor=body["next_cursor"])
    assert len(seen) == len(set(seen)) == len(original)
    assert set(seen) == set(original)
    # within each block of 4 (newest first), the exact ones lead
    assert seen[:4] == [original[9], original[10], original[8], original[7]]
