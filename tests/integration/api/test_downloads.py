"""Downloads of a record's files (PDF, text, original) on both databases and both storages:
ranges, validators, conditional requests, the presigned-URL redirect on S3, and the ranged
read of the object store underneath."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import app
from store import ObjectNotFound, ObjectStore, open_object_store, original_key
from store.services import Services, set_services
from tests.conftest import bearer, make_services
from tests.data.samples import get_spec, write_digital_pdf
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY
from worker.app import app as celery_app
from worker.app import configure
from worker.pipeline import record_key

VIETNAMESE_NAME = "Công văn số 12 về việc đôn đốc.pdf"


def _client(svc: Services, tmp_path: Path) -> TestClient:
    svc.settings.broker_url = f"filesystem://{tmp_path / 'broker'}"
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True  # uploads are digitized here, at once
    set_services(svc)
    return TestClient(app, headers=bearer(svc))


@pytest.fixture
def env(
    database_url: str, storage_url: str, tmp_path: Path
) -> Iterator[tuple[Services, TestClient]]:
    svc = make_services(database_url, storage_url)
    try:
        with _client(svc, tmp_path) as client:
            yield svc, client
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False
        svc.close()


def upload(client: TestClient, name: str, data: bytes, unit: str = "phong-noi-vu") -> str:
    response = client.post(
        "/api/v1/batches",
        files=[("files", (name, data, "application/pdf"))],
        data={"unit": unit},
    )
    assert response.status_code == 202, response.text
    return response.json()["entries"][0]["record_id"]


@pytest.fixture
def digitized(env: tuple[Services, TestClient], tmp_path: Path) -> tuple[str, bytes]:
    """A digitized record uploaded under a Vietnamese name; (id, uploaded bytes)."""
    _, client = env
    sample = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx"))
    data = sample.path.read_bytes()
    record_id = upload(client, VIETNAMESE_NAME, data)
    assert client.get(f"/api/v1/records/{record_id}").json()["status"] in (
        "digitized",
        "needs_review",
    )
    return record_id, data


def test_pdf_whole_and_by_ranges(
    env: tuple[Services, TestClient], digitized: tuple[str, bytes]
) -> None:
    svc, client = env
    record_id, _ = digitized
    url = f"/api/v1/records/{record_id}/pdf"
    stored = svc.objects.get_bytes(record_key(record_id, "searchable.pdf"))
    size = len(stored)
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.content == stored and whole.content.startswith(b"%PDF")
    assert whole.headers["content-type"] == "application/pdf"
    assert whole.headers["content-length"] == str(size)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["last-modified"].endswith("GMT")
    etag = whole.headers["etag"]
    assert etag.startswith('"') and record_id in etag

    # Vietnamese name: an ASCII fallback and the exact name in RFC 5987 form.
    disposition = whole.headers["content-disposition"]
    assert disposition.startswith("inline;")
    assert 'filename="Cong van so 12 ve viec don doc.pdf"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == VIETNAMESE_NAME
    disposition.encode("ascii")  # a header must be ASCII

    first = client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.content == stored[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"
    assert first.headers["etag"] == etag

    last = client.get(url, headers={"Range": "bytes=-50"})
    assert last.status_code == 206 and last.content == stored[-50:]
    assert last.headers["content-range"] == f"bytes {size - 50}-{size - 1}/{size}"

    rest = client.get(url, headers={"Range": "bytes=1000-"})
    assert rest.status_code == 206 and rest.content == stored[1000:]

    middle = client.get(url, headers={"Range": f"bytes={size - 10}-{size + 5000}"})
    assert middle.status_code == 206 and middle.content == stored[-10:]  # cut at the end

    past = client.get(url, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{size}"
    assert client.get(url, headers={"Range": "bytes=-0"}).status_code == 416

    for ignored in ("bytes=abc", "bytes=10-5", "items=0-10", "bytes=0-1,5-6", "bytes=--5", ""):
        answer = client.get(url, headers={"Range": ignored})
        assert answer.status_code == 200, ignored
        assert answer.content == stored

    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    since = client.get(url, headers={"If-Modified-Since": whole.headers["last-modified"]})
    assert since.status_code == 304

    same = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == stored[:10]
    changed = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert changed.status_code == 200 and changed.content == stored
    by_date = client.get(
        url, headers={"Range": "bytes=0-9", "If-Range": whole.headers["last-modified"]}
    )
    assert by_date.status_code == 206


def test_original_keeps_its_bytes_name_and_type(
    env: tuple[Services, TestClient], digitized: tuple[str, bytes]
) -> None:
    _, client = env
    record_id, data = digitized
    record = client.get(f"/api/v1/records/{record_id}").json()
    url = f"/api/v1/records/{record_id}/original"
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["etag"] == f'"{record["source"]["sha256"]}"'
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == VIETNAMESE_NAME
    tail = client.get(url, headers={"Range": "bytes=-7"})
    assert tail.status_code == 206 and tail.content == data[-7:]
    assert client.get(url, headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_text_from_storage_or_the_database(
    env: tuple[Services, TestClient], digitized: tuple[str, bytes]
) -> None:
    svc, client = env
    record_id, _ = digitized
    record = client.get(f"/api/v1/records/{record_id}").json()
    url = f"/api/v1/records/{record_id}/text"
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content.decode("utf-8") == record["text"]
    assert "Kính gửi" in response.text
    assert response.text.count("\f") == len(record["pages"]) - 1
    head = client.get(url, headers={"Range": "bytes=0-2"})
    assert head.status_code == 206 and head.content == response.content[:3]

    # text.txt lost from storage: the pages in the database still give the same text.
    svc.objects.delete(record_key(record_id, "text.txt"))
    again = client.get(url)
    assert again.status_code == 200 and again.content == response.content
    assert again.headers["etag"] == response.headers["etag"]


def test_failed_record_has_only_its_original(env: tuple[Services, TestClient]) -> None:
    _, client = env
    corrupt = b"%PDF-1.4\n" + random.Random(7).randbytes(2000)
    record_id = upload(client, "hỏng.pdf", corrupt)
    assert client.get(f"/api/v1/records/{record_id}").json()["status"] == "failed"
    for what in ("pdf", "text"):
        answer = client.get(f"/api/v1/records/{record_id}/{what}")
        assert answer.status_code == 409
        assert "original" in answer.json()["detail"]
    original = client.get(f"/api/v1/records/{record_id}/original")
    assert original.status_code == 200 and original.content == corrupt
    missing = client.get("/api/v1/records/01NOSUCHRECORD0000000000000/pdf")
    assert missing.status_code == 404


def test_missing_object_is_404_not_500(
    env: tuple[Services, TestClient], digitized: tuple[str, bytes]
) -> None:
    svc, client = env
    record_id, _ = digitized
    svc.objects.delete(record_key(record_id, "searchable.pdf"))
    answer = client.get(f"/api/v1/records/{record_id}/pdf")
    assert answer.status_code == 404
    assert answer.json()["detail"] != "no such record"  # the record exists; its file does not


def _disposition(client: TestClient, url: str, svc: Services, settings: Any) -> str:
    """The Content-Disposition of `url` when the file is streamed instead."""
    redirecting = svc.settings
    svc.settings = settings
    try:
        return client.get(url).headers["content-disposition"]
    finally:
        svc.settings = redirecting


def test_redirect_mode(database_url: str, storage_url: str, tmp_path: Path) -> None:
    """S3 with download_redirect: 307 to a presigned URL that gives the same bytes; the folder
    backend has no such URL and streams."""
    svc = make_services(database_url, storage_url, download_redirect=True, download_url_ttl=60)
    try:
        with _client(svc, tmp_path) as client:
            sample = write_digital_pdf(tmp_path / "qd.pdf", get_spec("qd-86-ubnd-cn1"))
            data = sample.path.read_bytes()
            record_id = upload(client, "Quyết định số 86.pdf", data)  # a name to encode
            stored_pdf = svc.objects.get_bytes(record_key(record_id, "searchable.pdf"))
            for what, expected in (("original", data), ("pdf", stored_pdf)):
                url = f"/api/v1/records/{record_id}/{what}"
                answer = client.get(url, follow_redirects=False)
                if storage_url.startswith("s3://"):
                    assert answer.status_code == 307
                    location = answer.headers["location"]
                    assert "X-Amz-Signature" in location and "X-Amz-Expires=60" in location
                    assert answer.headers["cache-control"] == "no-store"
                    fetched = httpx.get(location, timeout=10)  # real HTTP, no credentials
                    assert fetched.status_code == 200 and fetched.content == expected
                    # the file name people see is the one streaming would give
                    streamed = svc.settings.model_copy(update={"download_redirect": False})
                    disposition = fetched.headers["content-disposition"]
                    assert disposition == _disposition(client, url, svc, streamed)
                    assert "filename*=UTF-8''" in disposition
                else:
                    assert answer.status_code == 200 and answer.content == expected
            text = client.get(f"/api/v1/records/{record_id}/text", follow_redirects=False)
            assert text.status_code == 200  # text is always answered directly
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False
        svc.close()


def test_redirect_mode_still_answers_304(
    database_url: str, s3_endpoint: str, tmp_path: Path
) -> None:
    storage = f"s3://{s3_endpoint}/sohoa-{os.urandom(4).hex()}"
    svc = make_services(database_url, storage, download_redirect=True)
    try:
        with _client(svc, tmp_path) as client:
            data = write_digital_pdf(tmp_path / "tb.pdf", get_spec("tb-45-pnv")).path.read_bytes()
            record_id = upload(client, "tb.pdf", data)
            sha = client.get(f"/api/v1/records/{record_id}").json()["source"]["sha256"]
            url = f"/api/v1/records/{record_id}/original"
            answer = client.get(url, headers={"If-None-Match": f'"{sha}"'}, follow_redirects=False)
            assert answer.status_code == 304
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False
        svc.close()


# --- the ranged read of the object store ---------------------------------------------------


@pytest.fixture
def store(storage_url: str) -> ObjectStore:
    return open_object_store(
        storage_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION
    )


def test_open_range_on_each_backend(store: ObjectStore) -> None:
    data = random.Random(1).randbytes(3 * 1024 * 1024 + 17)  # more than one read chunk
    key = original_key("ab" * 32)
    store.put_bytes(key, data)

    def read(start: int, length: int) -> bytes:
        with store.open_range(key, start, length) as f:
            return f.read()

    assert read(0, 10) == data[:10]
    assert read(1_500_000, 2_000_000) == data[1_500_000:3_500_000]
    assert read(len(data) - 5, 5) == data[-5:]
    assert read(len(data) - 5, 100) == data[-5:]  # cut at the end
    assert read(len(data), 10) == b""  # starts at the end
    assert read(len(data) + 1000, 10) == b""
    assert read(3, 0) == b""
    with store.open_range(key, 100, 1000) as f:  # read in small pieces, never past the range
        pieces = []
        while chunk := f.read(333):
            pieces.append(chunk)
    assert b"".join(pieces) == data[100:1100]
    with pytest.raises(ValueError):
        store.open_range(key, -1, 10)
    with pytest.raises(ValueError):
        store.open_range(key, 0, -10)
    with pytest.raises(ObjectNotFound):
        store.open_range("records/nope/searchable.pdf", 0, 10)
    with pytest.raises(ObjectNotFound):
        store.open_range("records/nope/searchable.pdf", 0, 0)
