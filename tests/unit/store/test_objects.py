"""Object storage: one contract for both backends, run against real parts.

The folder backend writes real files under tmp_path; the S3 backend speaks HTTP to moto's
server (tests/s3server.py) through the same minio client production uses. Error mapping is
checked against a tiny scripted HTTP server that answers like a failing S3.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from store.platform.folder_store import LocalObjectStore
from store.platform.objects import (
    CHUNK_SIZE,
    TEMP_PREFIX,
    FileTooLarge,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    StorageUnavailable,
    open_object_store,
    original_key,
)
from store.platform.s3_store import PART_SIZE, S3ObjectStore
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, start_moto_server

PROJECT_ROOT = Path(__file__).resolve().parents[3]
S3_OPTIONS: dict[str, Any] = {
    "access_key": ACCESS_KEY,
    "secret_key": SECRET_KEY,
    "region": REGION,
}
BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "a/../../outside",
    "a/..",
    "a..b",
    "a\\b",
    "a\x00b",
    "a\nb",
    "a//b",
    "a/",
    "./a",
    "a/./b",
    "x" * 1025,
]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server, endpoint = start_moto_server()
    yield endpoint
    server.stop()


@dataclass
class Backend:
    name: str
    url: str
    options: dict[str, Any]
    store: ObjectStore
    root: Path | None = None  # the folder backend's root


@pytest.fixture(params=["folder", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "folder":
        root = tmp_path / "objects"
        url = f"file://{root}"
        return Backend("folder", url, {}, open_object_store(url), root)
    endpoint = request.getfixturevalue("moto_endpoint")
    url = f"s3://{endpoint}/test-{uuid.uuid4().hex[:16]}"  # a fresh bucket, created on demand
    return Backend("s3", url, S3_OPTIONS, open_object_store(url, **S3_OPTIONS))


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    return backend.store


@pytest.fixture
def folder(tmp_path: Path) -> LocalObjectStore:
    store = open_object_store(f"file://{tmp_path / 'objects'}")
    assert isinstance(store, LocalObjectStore)
    return store


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def write_file(path: Path, size: int, seed: int = 0) -> str:
    """Write ``size`` pseudo-random bytes in 1 MiB blocks; returns their SHA-256."""
    block = hashlib.sha256(str(seed).encode()).digest() * (CHUNK_SIZE // 32)
    digest = hashlib.sha256()
    with path.open("wb") as f:
        written = 0
        while written < size:
            n = min(len(block), size - written)
            chunk = written.to_bytes(8, "big") + block[8:n] if n > 8 else block[:n]
            f.write(chunk)
            digest.update(chunk)
            written += n
    return digest.hexdigest()


class FailingStream(io.RawIOBase):
    """Yields ``good`` bytes, then raises: a client that disconnects or a network that drops."""

    def __init__(self, good: int, error: Exception) -> None:
        self.left = good
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            raise self.error
        n = min(len(buffer), self.left)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


class EndlessStream(io.RawIOBase):
    """An input that never ends, counting what was read from it."""

    def __init__(self) -> None:
        self.read_total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = b"\xab" * len(buffer)
        self.read_total += len(buffer)
        return len(buffer)


# --- the contract, for both backends ------------------------------------------------------


def test_bytes_round_trip(store: ObjectStore) -> None:
    key = "records/01J000/record.json"
    assert not store.exists(key)
    store.put_bytes(key, b'{"id": 1}', "application/json")
    assert store.exists(key)
    assert store.get_bytes(key) == b'{"id": 1}'
    assert store.size(key) == 9
    store.put_bytes(key, "chữ Việt".encode())  # overwrite
    assert store.get_bytes(key).decode() == "chữ Việt"
    store.put_bytes("records/01J000/empty.txt", b"")
    assert store.get_bytes("records/01J000/empty.txt") == b""
    assert store.size("records/01J000/empty.txt") == 0


def test_file_round_trip_and_streaming_read(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "scan.pdf"
    sha = write_file(src, 3 * CHUNK_SIZE + 123)
    store.put_file("records/x/searchable.pdf", src, "application/pdf")
    assert store.size("records/x/searchable.pdf") == src.stat().st_size

    dest = tmp_path / "out" / "copy.pdf"  # the parent is created
    store.download("records/x/searchable.pdf", dest)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == sha

    digest = hashlib.sha256()
    with store.open("records/x/searchable.pdf") as f:
        while chunk := f.read(100_000):
            digest.update(chunk)
    assert digest.hexdigest() == sha

    with store.open("records/x/searchable.pdf") as f:  # closing half-read is fine
        assert len(f.read(10)) == 10
    assert store.get_bytes("records/x/searchable.pdf") == src.read_bytes()


def test_missing_key(store: ObjectStore, tmp_path: Path) -> None:
    key = "records/none/text.txt"
    assert not store.exists(key)
    for call in (
        lambda: store.get_bytes(key),
        lambda: store.size(key),
        lambda: store.open(key),
        lambda: store.download(key, tmp_path / "x"),
    ):
        with pytest.raises(ObjectNotFound) as info:
            call()
        assert not isinstance(info.value, StorageUnavailable)
    assert not (tmp_path / "x").exists()
    store.delete(key)  # not an error


def test_delete(store: ObjectStore) -> None:
    store.put_bytes("records/1/a.txt", b"a")
    store.put_bytes("records/1/b.txt", b"b")
    store.delete("records/1/a.txt")
    assert not store.exists("records/1/a.txt")
    assert store.exists("records/1/b.txt")
    store.delete("records/1/a.txt")
    assert list(store.list("records/")) == ["records/1/b.txt"]


def test_list(store: ObjectStore) -> None:
    assert list(store.list("")) == []  # nothing stored yet (no bucket / no folder)
    keys = [
        "records/2/pages/1.hocr",
        "records/10/record.json",
        "records/1/text.txt",
        "records/1/record.json",
        "records-old/x",
        "originals/ab/" + "ab" * 32,
    ]
    for key in keys:
        store.put_bytes(key, b"x")
    assert list(store.list("")) == sorted(keys)
    assert list(store.list("records/")) == sorted(k for k in keys if k.startswith("records/"))
    assert list(store.list("records")) == sorted(k for k in keys if k.startswith("records"))
    assert list(store.list("records/1")) == [
        "records/1/record.json",
        "records/1/text.txt",
        "records/10/record.json",
    ]
    assert list(store.list("records/1/")) == ["records/1/record.json", "records/1/text.txt"]
    assert list(store.list("nothing/")) == []
    with pytest.raises(ValueError):
        store.list("../")  # raised by the call, before iterating


def test_store_original_dedup(store: ObjectStore) -> None:
    data = b"%PDF-1.7 scanned page\n" * 1000
    sha = hashlib.sha256(data).hexdigest()

    first = store.store_original(io.BytesIO(data))
    assert first.key == original_key(sha) == f"originals/{sha[:2]}/{sha}"
    assert (first.sha256, first.size, first.created) == (sha, len(data), True)

    second = store.store_original(io.BytesIO(data))
    assert (second.key, second.sha256, second.size, second.created) == (
        first.key,
        sha,
        len(data),
        False,
    )
    assert list(store.list("originals/")) == [first.key]
    assert store.get_bytes(first.key) == data

    other = store.store_original(io.BytesIO(data + b"!"))
    assert other.created and other.key != first.key
    assert len(list(store.list("originals/"))) == 2


def test_store_original_limit(backend: Backend) -> None:
    store = backend.store
    exact = store.store_original(io.BytesIO(b"0123456789"), max_size=10)
    assert exact.size == 10 and exact.created

    with pytest.raises(FileTooLarge) as info:
        store.store_original(io.BytesIO(b"0123456789!"), max_size=10)
    assert info.value.max_size == 10
    assert isinstance(info.value, ObjectStoreError)

    endless = EndlessStream()
    with pytest.raises(FileTooLarge):
        store.store_original(io.BufferedReader(endless), max_size=3 * CHUNK_SIZE)
    # Stops within about a chunk past the limit (plus the reader's own buffer).
    assert endless.read_total <= 3 * CHUNK_SIZE + 2 * CHUNK_SIZE

    assert list(store.list("originals/")) == [exact.key]
    if backend.root is not None:
        assert temp_files(backend.root) == []


def test_download_is_atomic(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "work" / "page.pdf"
    dest.parent.mkdir()
    dest.write_bytes(b"old")

    with pytest.raises(ObjectNotFound):
        store.download("records/none/searchable.pdf", dest)
    assert dest.read_bytes() == b"old"

    # The connection drops after 2.5 MiB: the destination keeps its old content.
    store.put_bytes("records/1/searchable.pdf", b"new" * 1000)
    real_open = store.open

    @contextmanager
    def broken_open(key: str) -> Iterator[Any]:
        with real_open(key):
            yield io.BufferedReader(FailingStream(5 * CHUNK_SIZE // 2, StorageUnavailable("reset")))

    monkeypatch.setattr(store, "open", broken_open)
    with pytest.raises(StorageUnavailable):
        store.download("records/1/searchable.pdf", dest)
    assert dest.read_bytes() == b"old"
    assert os.listdir(dest.parent) == ["page.pdf"]  # no temp file left behind

    monkeypatch.undo()
    store.download("records/1/searchable.pdf", dest)
    assert dest.read_bytes() == b"new" * 1000
    assert os.listdir(dest.parent) == ["page.pdf"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_path_tricks_rejected(store: ObjectStore, key: str, tmp_path: Path) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.get_bytes(key),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.open(key),
        lambda: store.download(key, tmp_path / "d"),
        lambda: store.local_path(key),
        lambda: store.presigned_url(key),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()
    assert not any(tmp_path.parent.glob("outside"))


def test_check(store: ObjectStore) -> None:
    store.check()
    assert list(store.list("")) == []  # the probe does not stay


# --- streaming with bounded memory --------------------------------------------------------

MEMORY_PROBE = r"""
import hashlib, json, sys, tracemalloc
from pathlib import Path
from store.platform.objects import open_object_store

cfg = json.loads(sys.argv[1])
store = open_object_store(cfg["url"], **cfg["options"])
src, dst = Path(cfg["src"]), Path(cfg["dst"])
store.check()  # imports, connection pool, bucket: not what we measure
peaks = {}
tracemalloc.start()

def measure(name, fn):
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peaks[name] = tracemalloc.get_traced_memory()[1] - base
    return result

def read_all():
    digest = hashlib.sha256()
    with store.open("big/scan.tif") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

def store_original():
    with src.open("rb") as f:
        return store.store_original(f)

measure("put_file", lambda: store.put_file("big/scan.tif", src))
measure("download", lambda: store.download("big/scan.tif", dst))
read_digest = measure("open", read_all)
stored = measure("store_original", store_original)
print(json.dumps({"peaks": peaks, "read_digest": read_digest, "sha256": stored.sha256,
                  "size": stored.size, "created": stored.created}))
"""


def test_streaming_50mb_bounded_memory(backend: Backend, tmp_path: Path) -> None:
    """put_file, download, open and store_original of 50 MB with bounded memory.

    Measured in a child process so that only the client is counted: moto's server runs in
    this process and keeps the uploaded object in memory.
    """
    size = 50 * 1000 * 1000
    src = tmp_path / "big.tif"
    sha = write_file(src, size, seed=50)
    cfg = {
        "url": backend.url,
        "options": backend.options,
        "src": str(src),
        "dst": str(tmp_path / "dl"),
    }
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, json.dumps(cfg)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])

    assert result["read_digest"] == sha
    assert hashlib.sha256((tmp_path / "dl").read_bytes()).hexdigest() == sha
    assert (result["sha256"], result["size"], result["created"]) == (sha, size, True)
    # The folder backend copies 1 MiB at a time; an S3 upload holds up to two parts.
    budget = 4 * CHUNK_SIZE if backend.name == "folder" else 2 * PART_SIZE + 4 * CHUNK_SIZE
    for operation, peak in result["peaks"].items():
        assert peak < budget, f"{operation} peaked at {peak / 1e6:.1f} MB"
    assert budget < size / 2


# --- the folder backend -------------------------------------------------------------------


def test_folder_local_path_is_the_file(folder: LocalObjectStore) -> None:
    folder.put_bytes("records/1/text.txt", b"van ban")
    path = folder.local_path("records/1/text.txt")
    assert path == folder.root / "records" / "1" / "text.txt"
    assert path is not None and path.read_bytes() == b"van ban"
    with pytest.raises(ObjectNotFound):
        folder.local_path("records/1/none.txt")
    assert folder.presigned_url("records/1/text.txt") is None


def test_folder_writes_leave_no_temp_files(folder: LocalObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    write_file(src, 2 * CHUNK_SIZE + 5)
    folder.put_bytes("a/b/c.txt", b"c")
    folder.put_file("a/b/d.bin", src)
    folder.store_original(io.BytesIO(b"original"))
    folder.store_original(io.BytesIO(b"original"))
    folder.download("a/b/d.bin", tmp_path / "copy.bin")
    folder.check()
    assert temp_files(folder.root) == []
    assert temp_files(tmp_path) == []

    umask = os.umask(0)
    os.umask(umask)
    assert (folder.root / "a/b/c.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_folder_failed_writes_keep_old_content(folder: LocalObjectStore) -> None:
    folder.put_bytes("records/1/searchable.pdf", b"old")
    with pytest.raises(RuntimeError):
        folder._put_stream(
            "records/1/searchable.pdf",
            io.BufferedReader(FailingStream(3 * CHUNK_SIZE, RuntimeError("client went away"))),
            10 * CHUNK_SIZE,
            None,
        )
    with pytest.raises(RuntimeError):
        folder.store_original(io.BufferedReader(FailingStream(CHUNK_SIZE, RuntimeError("gone"))))
    assert folder.get_bytes("records/1/searchable.pdf") == b"old"
    assert temp_files(folder.root) == []
    assert list(folder.list("originals/")) == []


def test_folder_hides_stray_temp_files(folder: LocalObjectStore) -> None:
    """A process killed mid-write leaves a temp file: it is never listed or addressable."""
    folder.put_bytes("records/1/a.txt", b"a")
    (folder.root / "records" / "1" / f"{TEMP_PREFIX}deadbeef").write_bytes(b"partial")
    (folder.root / f"{TEMP_PREFIX}cafe").write_bytes(b"partial")
    assert list(folder.list("")) == ["records/1/a.txt"]
    with pytest.raises(ValueError):
        folder.get_bytes(f"records/1/{TEMP_PREFIX}deadbeef")


def test_folder_path_tricks_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "objects"
    store = open_object_store(f"file://{root}")
    for key in ("../../escape", "..", "a/../../../escape", "/tmp/escape", "a\\..\\..\\escape"):
        with pytest.raises(ValueError):
            store.put_bytes(key, b"x")
    assert not any(p.name == "escape" for p in tmp_path.rglob("*"))


def test_folder_key_conflicts_are_permanent(folder: LocalObjectStore) -> None:
    folder.put_bytes("a", b"file")
    with pytest.raises(ObjectStoreError) as info:
        folder.put_bytes("a/b", b"x")
    assert not isinstance(info.value, StorageUnavailable)
    with pytest.raises(ObjectNotFound):
        folder.get_bytes("a/b")
    folder.put_bytes("c/d", b"x")
    with pytest.raises(ObjectNotFound):  # a folder is not an object
        folder.get_bytes("c")
    assert not folder.exists("c")


def test_folder_concurrent_originals_stored_once(folder: LocalObjectStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: folder.store_original(io.BytesIO(data)), range(8)))
    assert sum(r.created for r in results) == 1
    assert len({r.key for r in results}) == 1
    assert folder.get_bytes(results[0].key) == data
    assert temp_files(folder.root) == []


def test_folder_unwritable_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    store = open_object_store(f"file://{tmp_path / 'file' / 'objects'}")
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.put_bytes("a", b"x")


# --- the S3 backend -----------------------------------------------------------------------


def s3_store(endpoint: str, bucket: str = "sohoa") -> S3ObjectStore:
    store = open_object_store(f"s3://{endpoint}/{bucket}", **S3_OPTIONS)
    assert isinstance(store, S3ObjectStore)
    return store


def test_s3_presigned_url_downloads(moto_endpoint: str) -> None:
    store = s3_store(moto_endpoint, f"presign-{uuid.uuid4().hex[:8]}")
    store.put_bytes("records/1/text.txt", "Kế hoạch 251/KH-UBND".encode(), "text/plain")
    url = store.presigned_url("records/1/text.txt", expires=timedelta(minutes=5))
    assert url is not None and url.startswith(f"http://{moto_endpoint}/")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    assert SECRET_KEY + "/" not in url.split("?")[0]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        assert response.read().decode() == "Kế hoạch 251/KH-UBND"
    assert store.local_path("records/1/text.txt") is None


def test_s3_bucket_created_once(moto_endpoint: str) -> None:
    bucket = f"shared-{uuid.uuid4().hex[:8]}"
    one, two = s3_store(moto_endpoint, bucket), s3_store(moto_endpoint, bucket)
    one.put_bytes("a", b"1")
    two.put_bytes("b", b"2")  # the bucket exists already
    assert list(one.list("")) == ["a", "b"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_s3_unreachable_fails_fast(tmp_path: Path) -> None:
    store = s3_store(f"127.0.0.1:{closed_port()}")
    src = tmp_path / "f"
    src.write_bytes(b"x")
    calls: list[Callable[[], Any]] = [
        lambda: store.put_bytes("a", b"x"),
        lambda: store.put_file("a", src),
        lambda: store.store_original(io.BytesIO(b"x")),
        lambda: store.get_bytes("a"),
        lambda: store.exists("a"),
        lambda: store.size("a"),
        lambda: store.delete("a"),
        lambda: list(store.list("")),
        store.check,
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            call()
        assert time.monotonic() - started < 10


# A scripted S3: each test says how it answers (method, path) -> (status, headers, body).
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class ScriptedS3:
    endpoint: str
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)


def s3_error(status: int, code: str) -> Answer:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{code}</Message><Resource>/x</Resource><RequestId>1</RequestId></Error>"
    ).encode()
    return status, {"Content-Type": "application/xml"}, body


@pytest.fixture
def scripted() -> Iterator[ScriptedS3]:
    state = ScriptedS3("")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            state.requests.append((self.command, path))
            status, headers, body = state.answers.get(
                (self.command, path), (200, {"Content-Length": "0"}, b"")
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            if int(headers.get("Content-Length", len(body))) != len(body):
                self.close_connection = True  # a body cut short

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.endpoint = f"127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def test_s3_throttling_and_5xx_are_transient(scripted: ScriptedS3) -> None:
    store = s3_store(scripted.endpoint)
    scripted.answers[("GET", "/sohoa/slow")] = s3_error(503, "SlowDown")
    scripted.answers[("GET", "/sohoa/busy")] = s3_error(429, "SlowDown")
    scripted.answers[("GET", "/sohoa/broken")] = s3_error(500, "InternalError")
    scripted.answers[("GET", "/sohoa/proxy")] = (502, {"Content-Type": "text/html"}, b"<html>")
    scripted.answers[("GET", "/sohoa/timeout")] = s3_error(400, "RequestTimeout")
    for key in ("slow", "busy", "broken", "proxy", "timeout"):
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            store.get_bytes(key)
        assert time.monotonic() - started < 10
    # 5xx answers to idempotent requests were retried before giving up.
    assert scripted.requests.count(("GET", "/sohoa/slow")) > 1


def test_s3_permanent_errors(scripted: ScriptedS3) -> None:
    store = s3_store(scripted.endpoint)
    scripted.answers[("GET", "/sohoa/secret")] = s3_error(403, "AccessDenied")
    scripted.answers[("GET", "/sohoa/gone")] = s3_error(404, "NoSuchKey")
    with pytest.raises(ObjectStoreError) as info:
        store.get_bytes("secret")
    assert type(info.value) is ObjectStoreError
    with pytest.raises(ObjectNotFound):
        store.get_bytes("gone")
    # check() turns any failure into "not ready".
    scripted.answers[("PUT", "/sohoa")] = s3_error(403, "AccessDenied")
    scripted.answers[("HEAD", "/sohoa")] = (404, {}, b"")
    with pytest.raises(StorageUnavailable):
        store.check()


def test_s3_truncated_body_is_transient(scripted: ScriptedS3) -> None:
    store = s3_store(scripted.endpoint)
    scripted.answers[("GET", "/sohoa/cut")] = (200, {"Content-Length": "100000"}, b"x" * 1000)
    with pytest.raises(StorageUnavailable):
        store.get_bytes("cut")


def test_s3_bucket_creation_race(scripted: ScriptedS3) -> None:
    """Another process creates the bucket between our HEAD and our PUT: carry on."""
    store = s3_store(scripted.endpoint)
    scripted.answers[("HEAD", "/sohoa")] = (404, {}, b"")
    scripted.answers[("PUT", "/sohoa")] = s3_error(409, "BucketAlreadyOwnedByYou")
    store.put_bytes("records/1/text.txt", b"x")
    assert ("PUT", "/sohoa/records/1/text.txt") in scripted.requests
    store.put_bytes("records/1/more.txt", b"y")
    assert scripted.requests.count(("HEAD", "/sohoa")) == 1  # checked once per process


# --- URLs and keys ------------------------------------------------------------------------


def test_file_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_object_store("file://var/objects")
    assert isinstance(relative, LocalObjectStore)
    assert relative.root == tmp_path / "var" / "objects"
    assert relative.url == f"file://{tmp_path}/var/objects"
    absolute = open_object_store(f"file://{tmp_path}/abs")
    assert isinstance(absolute, LocalObjectStore) and absolute.root == tmp_path / "abs"
    relative.put_bytes("k", b"v")
    monkeypatch.chdir("/")
    assert relative.get_bytes("k") == b"v"  # a later chdir does not move the store
    assert (tmp_path / "var" / "objects" / "k").read_bytes() == b"v"


def test_s3_urls() -> None:
    store = open_object_store(
        "s3://minio:9000/sohoa", access_key="ak", secret_key="very-secret", region="us-east-1"
    )
    assert isinstance(store, S3ObjectStore)
    assert (store.endpoint, store.bucket, store.url) == (
        "minio:9000",
        "sohoa",
        "s3://minio:9000/sohoa",
    )
    assert "very-secret" not in repr(store)
    secure = open_object_store("s3://minio:9000/sohoa?secure=true", access_key="a", secret_key="b")
    assert secure.url == "s3://minio:9000/sohoa?secure=true"
    assert open_object_store("s3://minio/sohoa?secure=false", secure=True).url == "s3://minio/sohoa"
    with pytest.raises(ValueError):
        open_object_store("s3://minio:9000/sohoa", access_key="a")  # no secret key


@pytest.mark.parametrize(
    "url",
    [
        "var/objects",
        "ftp://host/x",
        "http://minio:9000/sohoa",
        "file://",
        "file://var/objects?x=1",
        "s3://minio:9000",
        "s3://minio:9000/",
        "s3://minio:9000/sohoa/extra",
        "s3://minio:9000/Bad_Bucket",
        "s3://ak:sk@minio:9000/sohoa",
        "s3://minio:9000/sohoa?secure=maybe",
        "s3://minio:9000/sohoa?bucket=x",
        "s3://minio:port/sohoa",
        "s3:///sohoa",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError) as info:
        open_object_store(url)
    assert "sk@" not in str(info.value)


def test_original_key() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    assert original_key(sha) == f"originals/{sha[:2]}/{sha}"
    for bad in ("", "abc", sha.upper(), sha[:-1] + "g", "../" + sha[3:]):
        with pytest.raises(ValueError):
            original_key(bad)
