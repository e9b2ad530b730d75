"""One record over HTTP: the ETag, corrections (PATCH) with If-Match, their history and
record.json in storage, visibility (units, secrecy) and the audit of reads by services.
On both databases and both storages."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import app
from schemas.auth import Role
from store import unit_of_work
from store.accounts.auth import create_user
from store.platform.models import AuditRow, DocumentRow
from store.services import Services, set_services
from tests.conftest import bearer, make_services
from tests.data.samples import get_spec, write_digital_pdf
from worker.app import app as celery_app
from worker.app import configure
from worker.pipeline import record_key

UNIT = "phong-noi-vu"
OTHER_UNIT = "phong-tai-chinh-ke-hoach"


@pytest.fixture
def env(
    database_url: str, storage_url: str, tmp_path: Path
) -> Iterator[tuple[Services, TestClient]]:
    svc = make_services(database_url, storage_url, broker_url=f"filesystem://{tmp_path / 'b'}")
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


def upload(client: TestClient, tmp_path: Path, spec: str = "cv-12-ubnd-vx") -> str:
    data = write_digital_pdf(tmp_path / f"{spec}.pdf", get_spec(spec)).path.read_bytes()
    response = client.post(
        "/api/v1/batches", files=[("files", (f"{spec}.pdf", data, "application/pdf"))],
        data={"unit": UNIT},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    record_id = response.json()["entries"][0]["record_id"]
    assert client.get(f"/api/v1/records/{record_id}").json()["status"] in (
        "digitized",
        "needs_review",
    )
    return record_id


@pytest.fixture
def record_id(env: tuple[Services, TestClient], tmp_path: Path) -> str:
    return upload(env[1], tmp_path)


def stored_record(svc: Services, record_id: str) -> dict:
    return json.loads(svc.objects.get_bytes(record_key(record_id, "record.json")))


def version(svc: Services, record_id: str) -> int:
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, record_id)
        assert doc is not None
        return doc.version


def test_etag_and_not_modified(env: tuple[Services, TestClient], record_id: str) -> None:
    _, client = env
    url = f"/api/v1/records/{record_id}"
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith(f'"{record_id}-v') and first.headers["cache-control"].startswith(
        "private"
    )
    assert client.get(url).headers["etag"] == etag  # stable while nothing changes
    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert client.get(url, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(url, headers={"If-None-Match": "garbage"}).status_code == 200


def test_correction_happy_path(env: tuple[Services, TestClient], record_id: str) -> None:
    svc, client = env
    url = f"/api/v1/records/{record_id}"
    before = client.get(url)
    old = before.json()["document"]
    subject = unicodedata.normalize("NFD", "  Về việc đôn đốc số hoá tài liệu  ")
    response = client.patch(
        url,
        json={
            "type": "thong_bao",
            "number": "99/TB-UBND",
            "subject": subject,
            "issued_on": "2024-03-05",
            "signer": None,
        },
        headers={"If-Match": before.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    record = response.json()
    doc = record["document"]
    assert doc["type"] == "thong_bao" and doc["type_label"] == "Thông báo"
    assert doc["archive_type_code"] is not None
    assert doc["number"] == "99/TB-UBND"
    assert (doc["code_number"], doc["code_notation"]) == ("99", "TB-UBND")
    assert doc["subject"] == "Về việc đôn đốc số hoá tài liệu"  # trimmed, NFC
    assert doc["issued_on"] == "2024-03-05" and doc["signer"] is None
    new_etag = response.headers["etag"]
    assert new_etag != before.headers["etag"]
    assert record["status"] == "digitized"  # a reviewed record is digitized
    assert record["text"] == before.json()["text"]  # the pages are still there

    again = client.get(url)
    assert again.json()["document"] == doc and again.headers["etag"] == new_etag
    assert stored_record(svc, record_id)["document"] == doc  # record.json follows

    history = client.get(f"{url}/history")
    assert history.status_code == 200
    changes = {c["field"]: c for c in history.json()}
    assert changes["subject"]["old"] == old["subject"]
    assert changes["subject"]["new"] == doc["subject"]
    assert changes["number"]["new"] == "99/TB-UBND"
    assert changes["type"]["old"] == old["type"] and changes["type"]["new"] == "thong_bao"
    assert all(c["actor"].startswith("token:test-") and c["at"] for c in history.json())

    # Moving it to another unit is a correction too.
    moved = client.patch(url, json={"unit": OTHER_UNIT}, headers={"If-Match": new_etag})
    assert moved.status_code == 200 and moved.json()["unit"] == OTHER_UNIT
    assert stored_record(svc, record_id)["unit"] == OTHER_UNIT
    unit_change = client.get(f"{url}/history").json()[-1]
    assert unit_change == {**unit_change, "field": "unit", "old": UNIT, "new": OTHER_UNIT}

    # Nothing to change: no new version.
    current = version(svc, record_id)
    same = client.patch(url, json={"unit": OTHER_UNIT})
    assert same.status_code == 200 and version(svc, record_id) == current
    assert client.patch(url, json={}).status_code == 200


def test_stale_write_is_rejected(env: tuple[Services, TestClient], record_id: str) -> None:
    svc, client = env
    url = f"/api/v1/records/{record_id}"
    etag = client.get(url).headers["etag"]
    assert (
        client.patch(url, json={"place": "Hà Nội"}, headers={"If-Match": etag}).status_code == 200
    )
    current = version(svc, record_id)
    stale = client.patch(url, json={"place": "Huế"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert (
        client.patch(url, json={"place": "Huế"}, headers={"If-Match": "nonsense"}).status_code
        == 412
    )
    weak = client.get(url).headers["etag"]
    assert (
        client.patch(url, json={"place": "Huế"}, headers={"If-Match": f"W/{weak}"}).status_code
        == 412
    )
    assert version(svc, record_id) == current
    assert client.get(url).json()["document"]["place"] == "Hà Nội"
    assert client.patch(url, json={"place": "Huế"}, headers={"If-Match": "*"}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"secrecy": "bí mật"},
        {"urgency": "gấp"},
        {"issued_on": "05/03/2024"},
        {"issued_on": "1066-10-14"},
        {"type": "khong_co_loai_nay"},
        {"subject": "x" * 4001},
        {"subject": "dòng\x00ẩn"},
        {"unit": None},
        {"unit": "khong-co-don-vi-nay"},
        {"confidence": 1.0},  # the machine's own figure
        {"type_label": "Công văn"},  # follows type
        {"foo": "bar"},
        {"document": {"subject": "x"}},
        ["subject"],
        "subject",
    ],
)
def test_bad_corrections_change_nothing(
    env: tuple[Services, TestClient], record_id: str, body: object
) -> None:
    svc, client = env
    url = f"/api/v1/records/{record_id}"
    before = client.get(url).json()
    current = version(svc, record_id)
    response = client.patch(url, json=body)
    assert response.status_code == 422, response.text
    assert version(svc, record_id) == current
    assert client.get(url).json() == before


def test_malformed_bodies(env: tuple[Services, TestClient], record_id: str) -> None:
    _, client = env
    url = f"/api/v1/records/{record_id}"
    bad_json = client.patch(url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422
    assert (
        client.patch(url, content=b"", headers={"Content-Type": "application/json"}).status_code
        == 422
    )
    assert client.patch("/api/v1/records/nope", json={"place": "Huế"}).status_code == 404


def test_units_and_scopes(env: tuple[Services, TestClient], record_id: str) -> None:
    svc, client = env
    url = f"/api/v1/records/{record_id}"
    nowhere = client.get("/api/v1/records/01NOSUCHRECORD0000000000000")
    other_staff = bearer(svc, "records:read", "records:write", units=[OTHER_UNIT])
    for method, path in (("GET", ""), ("GET", "/text"), ("GET", "/pdf"), ("GET", "/original"),
                         ("GET", "/history"), ("PATCH", "")):  # fmt: skip
        answer = client.request(method, url + path, headers=other_staff, json={"place": "Huế"})
        assert answer.status_code == 404, (method, path)
        assert answer.json() == nowhere.json()

    own_staff = bearer(svc, "records:read", "records:write", units=[UNIT])
    assert client.patch(url, json={"place": "Huế"}, headers=own_staff).status_code == 200
    move = client.patch(url, json={"unit": OTHER_UNIT}, headers=own_staff)
    assert move.status_code == 403  # may not hand records to a unit that is not theirs
    reader = bearer(svc, "records:read")
    assert client.patch(url, json={"place": "Huế"}, headers=reader).status_code == 403
    writer_only = bearer(svc, "records:write")
    assert client.patch(url, json={"place": "Huế"}, headers=writer_only).status_code == 403
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(url, headers={"Authorization": ""}).status_code == 401


def test_secret_record_is_invisible_without_the_scope(
    env: tuple[Services, TestClient], record_id: str
) -> None:
    _, client = env
    url = f"/api/v1/records/{record_id}"
    assert client.patch(url, json={"secrecy": "mat"}).status_code == 200
    nowhere = client.get("/api/v1/records/01NOSUCHRECORD0000000000000")
    reader = bearer(env[0], "records:read", "records:write")
    for path in ("", "/text", "/pdf", "/original", "/history"):
        answer = client.get(url + path, headers=reader)
        assert answer.status_code == 404, path
        assert answer.json() == nowhere.json()
    assert client.patch(url, json={"secrecy": None}, headers=reader).status_code == 404
    cleared = bearer(env[0], "records:read", "records:secret")
    assert client.get(url, headers=cleared).json()["document"]["secrecy"] == "mat"
    assert client.get(url + "/pdf", headers=cleared).status_code == 200


def test_processing_record_cannot_be_corrected(
    env: tuple[Services, TestClient], record_id: str
) -> None:
    svc, client = env
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, record_id)
        assert doc is not None
        doc.status = "processing"
    answer = client.patch(f"/api/v1/records/{record_id}", json={"place": "Huế"})
    assert answer.status_code == 409
    assert client.get(f"/api/v1/records/{record_id}/pdf").status_code == 409


def test_service_reads_are_audited_people_reads_are_not(
    env: tuple[Services, TestClient], record_id: str
) -> None:
    svc, client = env
    url = f"/api/v1/records/{record_id}"
    etag = client.get(url).headers["etag"]
    client.get(url, headers={"If-None-Match": etag})
    client.get(f"{url}/text")
    client.get(f"{url}/pdf", headers={"Range": "bytes=0-9"})
    client.get(f"{url}/original")
    client.get(f"{url}/history")
    client.get(f"{url}/pdf", headers={"Range": "bytes=999999999-"})  # 416: nothing was read

    with unit_of_work(svc.sessions) as session:
        create_user(session, "vanthu", "mat-khau-dai", Role.staff, units=[UNIT])
    person = TestClient(app)
    assert (
        person.post(
            "/api/v1/auth/login", json={"username": "vanthu", "password": "mat-khau-dai"}
        ).status_code
        == 200
    )
    assert person.get(url).status_code == 200

    # committed with each read: nothing to wait for
    with unit_of_work(svc.sessions) as session:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.action == "record.read").order_by(AuditRow.id)
        ).all()
        reads = [(r.actor.split(":")[0], r.document_id, r.detail) for r in rows]
    assert [(kind, doc) for kind, doc, _ in reads] == [("token", record_id)] * 7
    details = [d for _, _, d in reads]
    assert [d["what"] for d in details] == [
        "record", "record", "record", "text", "pdf", "original", "history",
    ]  # fmt: skip
    assert [d["status"] for d in details] == [200, 200, 304, 200, 206, 200, 200]
    assert details[4]["range"].startswith("bytes 0-9/")


def test_concurrent_corrections_on_one_etag_one_wins(
    env: tuple[Services, TestClient], record_id: str
) -> None:
    """Several writers based on the same ETag at once: one wins, the others get 412."""
    client = env[1]
    url = f"/api/v1/records/{record_id}"
    etag = client.get(url).headers["etag"]
    headers = {**client.headers, "If-Match": etag}
    places = [f"Nơi {n}" for n in range(6)]
    barrier = threading.Barrier(len(places))

    def correct(place: str) -> int:
        barrier.wait()
        return TestClient(app).patch(url, json={"place": place}, headers=headers).status_code

    with ThreadPoolExecutor(len(places)) as pool:
        codes = sorted(pool.map(correct, places))
    assert codes == [200] + [412] * (len(places) - 1)
    history = [c for c in client.get(f"{url}/history").json() if c["field"] == "place"]
    assert len(history) == 1
    assert client.get(url).json()["document"]["place"] == history[0]["new"]


def test_marking_a_record_secret_sets_its_access_mode(
    env: tuple[Services, TestClient], record_id: str
) -> None:
    svc, client = env
    marked = client.patch(f"/api/v1/records/{record_id}", json={"secrecy": "mat"})
    assert marked.status_code == 200, marked.text
    assert marked.json()["archive"]["mode"] == "03"
    assert stored_record(svc, record_id)["archive"]["mode"] == "03"
    reader = bearer(svc, "records:read")  # without records:secret it is gone
    assert client.get(f"/api/v1/records/{record_id}", headers=reader).status_code == 404
    unmarked = client.patch(f"/api/v1/records/{record_id}", json={"secrecy": None})
    assert unmarked.json()["archive"]["mode"] == "01"
    assert client.get(f"/api/v1/records/{record_id}", headers=reader).status_code == 200
