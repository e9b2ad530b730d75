"""Uploads through the API: many files, zips, hostile input, idempotency, retry and cancel.

Every hostile file gets its own clear error while the rest of the batch goes on; a request
that is wrong as a whole is refused before anything is stored; nothing answers 500.
Documents stay `queued` here (Celery not eager, nobody consumes the filesystem broker) unless
a test needs them processed.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import struct
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.app import app
from schemas import Batch, Status
from store import unit_of_work
from store.batches.idempotency import claim_idempotency_key
from store.batches.progress import batch_progress
from store.platform.models import AuditRow, BatchRow, DocumentRow, IdempotencyRow, PageRow, utcnow
from store.records.documents import PageValues, claim, save_page, set_page_count
from store.services import Services, set_services
from tests.conftest import bearer, make_services
from tests.data.samples import get_spec, write_digital_pdf, write_png
from worker.app import app as celery_app
from worker.app import configure
from worker.tasks import process_document

UNIT = "phong-noi-vu"
OTHER_UNIT = "phuong-co-nhue-1"


# --- helpers shared with the other upload test modules --------------------------------------


@contextmanager
def serving(svc: Services, tmp_path: Path, *, eager: bool) -> Iterator[None]:
    """Make `svc` the services of the API in this process, with Celery eager (tasks run at
    once, here) or not (tasks wait in a filesystem broker nobody reads)."""
    svc.settings.broker_url = f"filesystem://{tmp_path / 'broker'}"
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = eager
    set_services(svc)
    try:
        yield
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The API on a real uvicorn server, in a thread of this process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning",
            timeout_graceful_shutdown=2,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def pdf_bytes(tag: str = "") -> bytes:
    """A small file that sniffs as PDF, with distinct bytes (never processed here)."""
    return b"%PDF-1.4\n% " + (tag or uuid.uuid4().hex).encode() + b"\n%%EOF\n"


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def multipart(parts: list[tuple[bytes, bytes, bytes | None]], boundary: bytes = b"b0undary"):
    """A multipart/form-data body built byte by byte: (field name, body, raw filename or
    None for a text field). Returns (body, content type)."""
    out = bytearray()
    for name, data, filename in parts:
        out += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            out += b'; filename="' + filename + b'"\r\nContent-Type: application/octet-stream'
        out += b"\r\n\r\n" + data + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return bytes(out), "multipart/form-data; boundary=" + boundary.decode()


def batches_count(svc: Services) -> int:
    with unit_of_work(svc.sessions) as session:
        return session.scalar(select(func.count()).select_from(BatchRow)) or 0


def documents_count(svc: Services) -> int:
    with unit_of_work(svc.sessions) as session:
        return session.scalar(select(func.count()).select_from(DocumentRow)) or 0


def by_name(batch: dict) -> dict[str, dict]:
    return {e["filename"]: e for e in batch["entries"]}


@pytest.fixture
def queued(svc: Services, tmp_path: Path) -> Iterator[TestClient]:
    """A client whose uploads stay queued."""
    with serving(svc, tmp_path, eager=False), TestClient(app, headers=bearer(svc)) as client:
        yield client


@pytest.fixture
def eager(svc: Services, tmp_path: Path) -> Iterator[TestClient]:
    """A client whose uploads are processed during the request."""
    with serving(svc, tmp_path, eager=True), TestClient(app, headers=bearer(svc)) as client:
        yield client


def post(client: TestClient, files: list[tuple[str, bytes]], **data: str) -> httpx.Response:
    return client.post(
        "/api/v1/batches",
        files=[("files", (name, body, "application/octet-stream")) for name, body in files],
        data=data,
    )


# --- many files, one entry each ---------------------------------------------------------------


def test_many_files_each_get_an_entry_and_bad_ones_fail_alone(
    queued: TestClient, svc: Services
) -> None:
    same = pdf_bytes("twice")
    response = post(
        queued,
        [("a.pdf", pdf_bytes()), ("b.png", png_bytes()), ("again.pdf", same),
         ("copy.pdf", same), ("empty.pdf", b""), ("notes.txt", b"plain text")],
        unit=UNIT, dossier="H49.1", label="Hộp 12",
    )  # fmt: skip
    assert response.status_code == 202, response.text
    batch = Batch.model_validate(response.json())
    assert batch.files == 6 and batch.unit == UNIT and batch.label == "Hộp 12"
    assert batch.source == "api" and batch.created_by and batch.created_by.startswith("token:")
    outcomes = [(e.filename, e.outcome.value, e.status, e.error_code) for e in batch.entries]
    assert outcomes == [
        ("a.pdf", "accepted", Status.queued, None),
        ("b.png", "accepted", Status.queued, None),
        ("again.pdf", "accepted", Status.queued, None),
        ("copy.pdf", "duplicate", Status.queued, None),
        ("empty.pdf", "accepted", Status.failed, "empty_file"),
        ("notes.txt", "accepted", Status.failed, "unsupported_type"),
    ]
    assert batch.counts == {Status.queued: 3, Status.failed: 2}
    assert not batch.done and batch.eta_seconds is None
    # the uploader is in the audit log, for the batch and for every file
    with unit_of_work(svc.sessions) as session:
        actors = set(session.scalars(select(AuditRow.actor).where(AuditRow.batch_id == batch.id)))
        uploads = session.scalar(
            select(func.count()).where(
                AuditRow.batch_id == batch.id, AuditRow.action == "document.upload"
            )
        )
    assert actors == {batch.created_by} and uploads == 5


def test_real_type_comes_from_the_bytes_not_the_name_or_content_type(
    eager: TestClient, tmp_path: Path
) -> None:
    pdf = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx")).path.read_bytes()
    png = write_png(tmp_path / "tb.png", get_spec("tb-45-pnv")).path.read_bytes()
    files = [
        ("files", ("scan.png", pdf, "image/png")),
        ("files", ("scan.pdf", png, "application/pdf")),
    ]
    response = eager.post("/api/v1/batches", files=files, data={"unit": UNIT})
    assert response.status_code == 202, response.text
    entries = by_name(response.json())
    records = {
        name: eager.get(f"/api/v1/records/{e['record_id']}").json() for name, e in entries.items()
    }
    assert records["scan.png"]["source"]["media_type"] == "application/pdf"
    assert records["scan.pdf"]["source"]["media_type"] == "image/png"
    assert {r["status"] for r in records.values()} <= {"digitized", "needs_review"}


def test_hostile_file_names_are_made_harmless(queued: TestClient, svc: Services) -> None:
    long_name = ("Quyết định số 251 về kế hoạch chuyển đổi số " * 12) + ".pdf"
    assert len(long_name.encode()) > 255
    body, content_type = multipart([
        (b"files", pdf_bytes(), b"../../etc/passwd.pdf"),
        (b"files", pdf_bytes(), b"..\\..\\windows\\win.ini.pdf"),
        (b"files", pdf_bytes(), b"C:\\scans\\hop12\\0001.pdf"),
        (b"files", pdf_bytes(), b"nul\x00byte.pdf"),
        (b"files", pdf_bytes(), b"ctrl\x01\x1b[31mred\x7f.pdf"),
        (b"files", pdf_bytes(), long_name.encode()),
        (b"files", pdf_bytes(), b""),
        (b"files", pdf_bytes(), "hồ sơ/văn bản.pdf".encode()),
        (b"files", pdf_bytes(), "hoá đơn\u202efdp.exe".encode()),  # shows as "hoá đơnexe.pdf"
        (b"files", pdf_bytes(), "bi\u200bên\ufeff bản\u2066.pdf".encode()),
    ])  # fmt: skip
    response = queued.post("/api/v1/batches", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 202, response.text
    names = [e["filename"] for e in response.json()["entries"]]
    assert names[:5] == [
        "etc/passwd.pdf", "windows/win.ini.pdf", "0001.pdf", "nulbyte.pdf",
        "ctrl[31mred.pdf",
    ]  # fmt: skip
    assert names[6:] == ["unnamed", "hồ sơ/văn bản.pdf", "hoá đơnfdp.exe", "biên bản.pdf"]
    assert all(e["outcome"] == "accepted" for e in response.json()["entries"])
    with unit_of_work(svc.sessions) as session:
        stored = [
            d.filename
            for d in session.scalars(select(DocumentRow).order_by(DocumentRow.created_at))
        ]
    long_stored = next(n for n in stored if n.startswith("Quyết định"))
    assert long_stored.endswith(".pdf") and len(long_stored.encode()) <= 255
    assert long_stored.encode().decode() == long_stored  # whole characters
    assert "passwd.pdf" in stored and "văn bản.pdf" in stored
    assert not any("/" in n or "\\" in n or "\x00" in n for n in stored)


def test_over_the_size_limit_is_rejected_alone(queued: TestClient, svc: Services) -> None:
    svc.settings.max_file_size = 1000
    response = post(queued, [("big.pdf", pdf_bytes() + b"x" * 5000), ("small.pdf", pdf_bytes())])
    assert response.status_code == 202, response.text
    big, small = response.json()["entries"]
    assert big["outcome"] == "rejected" and big["error_code"] == "file_too_large"
    assert big["error_message"] == "Tệp quá lớn" and big["record_id"] is None
    assert small["outcome"] == "accepted" and small["status"] == "queued"
    assert documents_count(svc) == 1


def test_same_bytes_as_an_earlier_batch_point_at_its_record(queued: TestClient) -> None:
    data = pdf_bytes()
    first = post(queued, [("a.pdf", data)]).json()
    second = post(queued, [("a-again.pdf", data)]).json()
    assert second["entries"][0]["outcome"] == "duplicate"
    assert second["entries"][0]["record_id"] == first["entries"][0]["record_id"]


def test_a_duplicate_the_caller_may_not_see_is_refused_without_naming_it(
    queued: TestClient, svc: Services
) -> None:
    """Ward staff uploading bytes another unit holds learn neither its id nor its status, and
    a failed record of another unit is not re-queued by them."""
    held, failed = pdf_bytes(), b"plain text, not a document"
    first = post(queued, [("held.pdf", held), ("notes.txt", failed)], unit=UNIT).json()
    held_id, failed_id = (e["record_id"] for e in first["entries"])
    ward = bearer(svc, "batches:write", "batches:read", "records:read", units=[OTHER_UNIT])
    response = queued.post(
        "/api/v1/batches",
        files=[("files", ("mine.pdf", held, "application/pdf")),
               ("files", ("again.txt", failed, "text/plain"))],
        headers=ward,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    assert UNIT not in response.text and held_id not in response.text
    codes = []
    for entry in response.json()["entries"]:
        assert entry["outcome"] == "rejected" and entry["record_id"] is None
        assert entry["status"] is None
        codes.append(entry["error_code"])
    # the text file is told what its own bytes are, as any first upload of them would be
    assert codes == ["duplicate_elsewhere", "unsupported_type"]
    with unit_of_work(svc.sessions) as session:
        assert session.get(DocumentRow, failed_id).status == Status.failed.value
        assert session.get(DocumentRow, held_id).status == Status.queued.value
    # a secret record is hidden from a caller of every unit without the secret scope
    with unit_of_work(svc.sessions) as session:
        session.execute(update(DocumentRow).where(DocumentRow.id == held_id).values(secrecy="mat"))
    no_secret = bearer(svc, "batches:write", "batches:read", "records:read")
    hidden = post_with_file(queued, no_secret, held, unit=UNIT).json()["entries"][0]
    assert hidden["error_code"] == "duplicate_elsewhere" and hidden["record_id"] is None
    # the one who may see it still hears which record it is
    seen = post(queued, [("held-again.pdf", held)], unit=UNIT).json()["entries"][0]
    assert seen["outcome"] == "duplicate" and seen["record_id"] == held_id


def post_with_file(
    client: TestClient, headers: dict[str, str], data: bytes, **form: str
) -> httpx.Response:
    return client.post(
        "/api/v1/batches",
        files=[("files", ("f.pdf", data, "application/pdf"))],
        data=form,
        headers=headers,
    )


# --- zips -----------------------------------------------------------------------------------


def test_zip_is_unpacked_with_each_file_named_inside_the_archive(
    queued: TestClient, svc: Services
) -> None:
    archive = zip_of({
        "hop12/0001.pdf": pdf_bytes(), "hop12/0002.png": png_bytes(), "hop12/": b"",
        "__MACOSX/hop12/._0001.pdf": b"junk", "hop12/.DS_Store": b"junk",
        "hop12/Thumbs.db": b"junk", "hop12/inner.zip": zip_of({"x.pdf": pdf_bytes()}),
        "readme.txt": b"hello",
    })  # fmt: skip
    response = post(queued, [("hồ sơ 2024.zip", archive), ("loose.pdf", pdf_bytes())], unit=UNIT)
    assert response.status_code == 202, response.text
    entries = by_name(response.json())
    assert list(entries) == [
        "hồ sơ 2024.zip/hop12/0001.pdf", "hồ sơ 2024.zip/hop12/0002.png",
        "hồ sơ 2024.zip/hop12/inner.zip", "hồ sơ 2024.zip/readme.txt", "loose.pdf",
    ]  # fmt: skip
    assert entries["hồ sơ 2024.zip/hop12/0001.pdf"]["status"] == "queued"
    # a zip inside a zip is not unpacked: it is an unsupported file
    assert entries["hồ sơ 2024.zip/hop12/inner.zip"]["error_code"] == "unsupported_type"
    assert entries["hồ sơ 2024.zip/readme.txt"]["error_code"] == "unsupported_type"
    with unit_of_work(svc.sessions) as session:
        names = set(session.scalars(select(DocumentRow.filename)))
        units = set(session.scalars(select(DocumentRow.unit_code)))
    assert {"0001.pdf", "0002.png", "loose.pdf"} <= names and units == {UNIT}


def _zip_with(infos: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in infos:
            zf.writestr(info, data)
    return buf.getvalue()


def _unix(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def test_zip_slip_links_and_devices_fail_alone(queued: TestClient, svc: Services) -> None:
    archive = _zip_with([
        (zipfile.ZipInfo("../../etc/passwd"), b"root:x:0:0"),
        (zipfile.ZipInfo("/etc/shadow.pdf"), pdf_bytes()),
        (zipfile.ZipInfo("..\\..\\windows\\evil.pdf"), pdf_bytes()),
        (zipfile.ZipInfo("C:\\evil.pdf"), pdf_bytes()),
        (zipfile.ZipInfo("ok/../../up.pdf"), pdf_bytes()),
        (_unix("link.pdf", stat.S_IFLNK | 0o777), b"/etc/passwd"),
        (_unix("dev.pdf", stat.S_IFCHR | 0o600), b""),
        (_unix("fifo.pdf", stat.S_IFIFO | 0o600), b""),
        (_unix("good.pdf", stat.S_IFREG | 0o644), pdf_bytes()),
    ])  # fmt: skip
    response = post(queued, [("evil.zip", archive), ("after.pdf", pdf_bytes())])
    assert response.status_code == 202, response.text
    entries = response.json()["entries"]
    assert [e["filename"] for e in entries] == [
        "evil.zip/etc/passwd", "evil.zip/etc/shadow.pdf", "evil.zip/windows/evil.pdf",
        "evil.zip/evil.pdf", "evil.zip/ok/up.pdf", "evil.zip/link.pdf", "evil.zip/dev.pdf",
        "evil.zip/fifo.pdf", "evil.zip/good.pdf", "after.pdf",
    ]  # fmt: skip
    for entry in entries[:8]:
        assert entry["outcome"] == "rejected", entry
        assert entry["error_code"] == "unsafe_archive_entry"
        assert entry["error_message"].startswith("Mục trong tệp ZIP không an toàn")
    assert [e["status"] for e in entries[8:]] == ["queued", "queued"]
    assert documents_count(svc) == 2  # nothing of the unsafe entries was stored


def _zipcrypto(data: bytes, password: bytes) -> tuple[bytes, int]:
    """Traditional PKWARE encryption (what `zip -P` writes): (encrypted bytes, CRC)."""

    def crc(value: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = crc(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    checksum = zlib.crc32(data)
    out = bytearray()
    for byte in os.urandom(11) + bytes([checksum >> 24]) + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out), checksum


def encrypted_zip(name: str, data: bytes, plain: dict[str, bytes]) -> bytes:
    """A zip with one password-protected entry (stored) and plain ones."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, content in plain.items():
            zf.writestr(member, content)
    body = buf.getvalue()
    cd_at = body.index(b"PK\x01\x02") if b"PK\x01\x02" in body else body.index(b"PK\x05\x06")
    end_at = body.rindex(b"PK\x05\x06")
    local_part, central, count = body[:cd_at], body[cd_at:end_at], len(plain)
    secret, checksum = _zipcrypto(data, b"mat-khau")
    raw = name.encode()
    offset = len(local_part)
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x1, 0, 0, 0, checksum, len(secret), len(data),
        len(raw), 0,
    ) + raw + secret  # fmt: skip
    entry = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x1, 0, 0, 0, checksum, len(secret),
        len(data), len(raw), 0, 0, 0, 0, 0, offset,
    ) + raw  # fmt: skip
    central += entry
    cd_offset = offset + len(local)
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count + 1, count + 1, len(central), cd_offset, 0
    )
    result = local_part + local + central + end
    with zipfile.ZipFile(io.BytesIO(result)) as check:  # a real encrypted entry
        assert check.read(name, pwd=b"mat-khau") == data
    return result


def test_encrypted_zip_entry_fails_alone(queued: TestClient) -> None:
    archive = encrypted_zip("mat.pdf", pdf_bytes(), {"open.pdf": pdf_bytes()})
    entries = by_name(post(queued, [("a.zip", archive)]).json())
    assert entries["a.zip/mat.pdf"]["error_code"] == "encrypted_archive"
    assert entries["a.zip/mat.pdf"]["outcome"] == "rejected"
    assert entries["a.zip/open.pdf"]["status"] == "queued"


def test_zip_bombs_are_refused_by_declared_and_by_counted_size(
    queued: TestClient, svc: Services
) -> None:
    svc.settings.zip_max_size = 100_000
    bomb = zip_of({"zeros.pdf": b"%PDF-1.4\n" + bytes(5_000_000)})
    assert len(bomb) < 10_000  # small on the wire, 5 MB inflated
    # a header that lies: the central directory declares 1,000 bytes for 5 MB of zeros
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("liar.pdf", b"%PDF-1.4\n" + bytes(5_000_000))
        zf.writestr("fine.pdf", pdf_bytes())
        zf.getinfo("liar.pdf").file_size = 1000
    liar = buf.getvalue()
    svc.settings.max_file_size = 2_000_000
    one_big = zip_of({"big.pdf": b"%PDF-1.4\n" + bytes(3_000_000), "ok.pdf": pdf_bytes()})
    svc.settings.zip_max_size = 4_000_000

    response = post(queued, [("bomb.zip", bomb), ("liar.zip", liar), ("one-big.zip", one_big),
                             ("next.pdf", pdf_bytes())])  # fmt: skip
    assert response.status_code == 202, response.text
    entries = by_name(response.json())
    assert entries["bomb.zip"]["error_code"] == "archive_too_large"
    assert entries["bomb.zip"]["outcome"] == "rejected"
    # never inflated past its declared size: the CRC cannot match, the entry fails alone
    assert entries["liar.zip/liar.pdf"]["error_code"] == "corrupt_archive"
    assert entries["liar.zip/fine.pdf"]["status"] == "queued"
    assert entries["one-big.zip/big.pdf"]["error_code"] == "file_too_large"
    assert entries["one-big.zip/ok.pdf"]["status"] == "queued"
    assert entries["next.pdf"]["status"] == "queued"
    with unit_of_work(svc.sessions) as session:
        sizes = list(session.scalars(select(DocumentRow.size)))
    assert max(sizes) < 1000


def test_too_many_entries_and_broken_zips(queued: TestClient, svc: Services) -> None:
    svc.settings.zip_max_entries = 5  # files per zip, and per request
    many = zip_of({f"{n}.pdf": pdf_bytes() for n in range(6)})
    truncated = zip_of({"a.pdf": pdf_bytes(), "b.pdf": pdf_bytes()})[:-30]
    empty = zip_of({})
    only_folders = zip_of({"hop/": b"", "hop/.hidden": b"x"})
    response = post(queued, [("many.zip", many), ("cut.zip", truncated), ("empty.zip", empty),
                             ("folders.zip", only_folders), ("ok.pdf", pdf_bytes())])  # fmt: skip
    assert response.status_code == 202, response.text
    entries = by_name(response.json())
    assert entries["many.zip"]["error_code"] == "archive_too_large"
    assert entries["cut.zip"]["error_code"] == "corrupt_archive"
    assert entries["empty.zip"]["error_code"] == "no_pages"
    assert entries["folders.zip"]["error_code"] == "no_pages"
    assert entries["ok.pdf"]["status"] == "queued"
    assert documents_count(svc) == 1


def test_office_documents_are_files_not_folders(queued: TestClient) -> None:
    docx = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    entries = post(queued, [("bien-ban.docx", docx)]).json()["entries"]
    assert [(e["filename"], e["error_code"]) for e in entries] == [
        ("bien-ban.docx", "unsupported_type")
    ]


# --- requests wrong as a whole --------------------------------------------------------------


def test_requests_wrong_as_a_whole_store_nothing(queued: TestClient, svc: Services) -> None:
    svc.settings.zip_max_entries = 3
    files = [("files", (f"{n}.pdf", pdf_bytes(), "application/pdf")) for n in range(4)]
    too_many = queued.post("/api/v1/batches", files=files)
    assert too_many.status_code == 413 and "more than 3 files" in too_many.text
    not_multipart = queued.post("/api/v1/batches", json={"files": ["a.pdf"]})
    assert not_multipart.status_code == 422
    no_boundary = queued.post(
        "/api/v1/batches", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 422
    no_files = queued.post("/api/v1/batches", data={"unit": UNIT}, files={})
    assert no_files.status_code == 422
    body, content_type = multipart([(b"unit", UNIT.encode(), None)])
    only_fields = queued.post(
        "/api/v1/batches", content=body, headers={"Content-Type": content_type}
    )
    assert only_fields.status_code == 422 and "no files" in only_fields.text
    unknown = post(queued, [("a.pdf", pdf_bytes())], unit="no-such-unit")
    assert unknown.status_code == 422 and "unknown unit" in unknown.text
    body, content_type = multipart([(b"files", pdf_bytes(), b"a.pdf")])
    cut = queued.post("/api/v1/batches", content=body[:-12], headers={"Content-Type": content_type})
    assert cut.status_code == 422 and "closing boundary" in cut.text
    garbage = queued.post(
        "/api/v1/batches", content=b"not multipart at all",
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )  # fmt: skip
    assert garbage.status_code == 422
    body, content_type = multipart([(b"file", pdf_bytes(), b"a.pdf")])
    wrong_field = queued.post(
        "/api/v1/batches", content=body, headers={"Content-Type": content_type}
    )
    assert wrong_field.status_code == 422 and "'files'" in wrong_field.text
    for fields in ({"unit": [UNIT, UNIT]}, {"label": ["a\x00b"]}, {"dossier": ["x" * 101]}):
        parts = [(k.encode(), v.encode(), None) for k, vs in fields.items() for v in vs]
        body, content_type = multipart([*parts, (b"files", pdf_bytes(), b"a.pdf")])
        bad = queued.post("/api/v1/batches", content=body, headers={"Content-Type": content_type})
        assert bad.status_code == 422, (fields, bad.text)
    assert batches_count(svc) == 0 and documents_count(svc) == 0


def test_staff_of_another_unit_and_missing_scopes(queued: TestClient, svc: Services) -> None:
    ward = bearer(svc, "batches:write", "batches:read", units=[OTHER_UNIT])
    refused = queued.post(
        "/api/v1/batches", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
        data={"unit": UNIT}, headers=ward,
    )  # fmt: skip
    assert refused.status_code == 403
    reader = bearer(svc, "batches:read")
    assert post_with(queued, reader).status_code == 403
    assert (
        queued.post("/api/v1/batches", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert batches_count(svc) == 0
    # a ward's staff upload for their ward without saying so
    mine = post_with(queued, ward)
    assert mine.status_code == 202 and mine.json()["unit"] == OTHER_UNIT


def post_with(client: TestClient, headers: dict[str, str]) -> httpx.Response:
    return client.post(
        "/api/v1/batches",
        files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
        headers=headers,
    )


def test_declared_content_length_is_not_trusted(svc: Services, tmp_path: Path) -> None:
    """A raw request declaring 2 GB but sending a tiny complete body is answered from what
    arrived; one whose body never completes stores nothing."""
    token = bearer(svc)["Authorization"]
    body, content_type = multipart([(b"files", pdf_bytes(), b"tiny.pdf")])
    head = (
        f"POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {2 * 1024**3}\r\n\r\n"
    ).encode()
    with serving(svc, tmp_path, eager=False), LiveServer() as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head + body)
            answer = _read_http(sock)
        assert answer.startswith(b"HTTP/1.1 202"), answer[:300]
        assert b'"filename":"tiny.pdf"' in answer
        # the same, cut before the closing boundary, then the client goes away
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(head + body[:-20])
            sock.shutdown(socket.SHUT_WR)
            _read_http(sock)
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert batches_count(svc) == 1 and documents_count(svc) == 1


def _read_http(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")), None,
            )  # fmt: skip
            if length is not None and len(rest) >= length:
                break
    return data


# --- idempotency ----------------------------------------------------------------------------


def test_idempotency_key_returns_the_first_batch(queued: TestClient, svc: Services) -> None:
    files = [("a.pdf", pdf_bytes()), ("b.pdf", pdf_bytes())]
    key = {"Idempotency-Key": str(uuid.uuid4())}

    def send(headers: dict[str, str]) -> httpx.Response:
        return queued.post(
            "/api/v1/batches",
            files=[("files", (n, b, "application/pdf")) for n, b in files],
            headers=headers,
        )

    first = send(key)
    again = send(key)
    assert first.status_code == 202 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["entries"] == first.json()["entries"]
    other_key = send({"Idempotency-Key": str(uuid.uuid4())})
    assert other_key.status_code == 202 and other_key.json()["id"] != first.json()["id"]
    another_caller = send({**key, **bearer(svc)})
    assert another_caller.status_code == 202
    assert another_caller.json()["id"] not in (first.json()["id"], other_key.json()["id"])
    assert batches_count(svc) == 3
    too_long = send({"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 422 and batches_count(svc) == 3


def test_refused_request_frees_its_key_and_a_dead_one_is_taken_over(
    queued: TestClient, svc: Services
) -> None:
    key = {"Idempotency-Key": "retry-me"}
    refused = queued.post(
        "/api/v1/batches", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
        data={"unit": "no-such-unit"}, headers=key,
    )  # fmt: skip
    assert refused.status_code == 422
    fixed = queued.post(
        "/api/v1/batches", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
        data={"unit": UNIT}, headers=key,
    )  # fmt: skip
    assert fixed.status_code == 202
    # a key whose request is still running answers 409; once its process is long dead, the
    # key is taken over
    token = queued.headers["Authorization"]
    actor = queued.get("/api/v1/auth/me", headers={"Authorization": token}).json()
    actor_name = f"{actor['kind']}:{actor['name']}"
    with unit_of_work(svc.sessions) as session:
        session.add(IdempotencyRow(actor=actor_name, key="running", batch_id=None))
        session.add(
            IdempotencyRow(
                actor=actor_name, key="dead", batch_id=None,
                created_at=utcnow() - timedelta(hours=2),
            )
        )  # fmt: skip
    running = post_with(queued, {"Idempotency-Key": "running"})
    assert running.status_code == 409 and running.headers["Retry-After"]
    dead = post_with(queued, {"Idempotency-Key": "dead"})
    assert dead.status_code == 202


def test_concurrent_claims_of_one_key_have_one_winner(svc: Services) -> None:
    barrier = threading.Barrier(8)
    results = []

    def contend() -> None:
        barrier.wait()
        results.append(claim_idempotency_key(svc.sessions, "token:ci", "same-key"))

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.claimed for r in results) == 1
    assert all(r.batch_id is None for r in results)


def test_concurrent_uploads_with_one_key_make_one_batch(svc: Services, tmp_path: Path) -> None:
    headers = {**bearer(svc), "Idempotency-Key": "concurrent"}
    files = [("files", (f"{n}.pdf", pdf_bytes(), "application/pdf")) for n in range(20)]
    answers: list[httpx.Response] = []
    with serving(svc, tmp_path, eager=False), LiveServer() as server:
        barrier = threading.Barrier(4)

        def upload() -> None:
            barrier.wait()
            answers.append(
                httpx.post(f"{server.url}/api/v1/batches", files=files, headers=headers,
                           timeout=60)
            )  # fmt: skip

        threads = [threading.Thread(target=upload) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(a.status_code for a in answers)
        assert codes.count(202) == 1 and set(codes) <= {200, 202, 409}, codes
        ids = {a.json()["id"] for a in answers if a.status_code in (200, 202)}
        assert len(ids) == 1
        replay = httpx.post(f"{server.url}/api/v1/batches", files=files, headers=headers)
        assert replay.status_code == 200 and replay.json()["id"] in ids
    assert batches_count(svc) == 1 and documents_count(svc) == 20


# --- listing, retry, cancel -----------------------------------------------------------------


def test_list_newest_first_paginated_and_by_unit(queued: TestClient, svc: Services) -> None:
    made = [post(queued, [("a.pdf", pdf_bytes())], unit=UNIT).json()["id"] for _ in range(3)]
    ward = post(queued, [("w.pdf", pdf_bytes())], unit=OTHER_UNIT).json()["id"]
    everything = queued.get("/api/v1/batches").json()
    assert [b["id"] for b in everything["items"]] == [ward, *reversed(made)]
    assert everything["next_cursor"] is None
    first = everything["items"][0]
    assert first["files"] == 1 and first["entries"] == [] and first["counts"] == {"queued": 1}
    page = queued.get("/api/v1/batches", params={"limit": 2}).json()
    assert [b["id"] for b in page["items"]] == [ward, made[2]]
    rest = queued.get("/api/v1/batches", params={"limit": 2, "cursor": page["next_cursor"]})
    assert [b["id"] for b in rest.json()["items"]] == [made[1], made[0]]
    assert rest.json()["next_cursor"] is None
    staff = bearer(svc, "batches:read", units=[OTHER_UNIT])
    assert [b["id"] for b in queued.get("/api/v1/batches", headers=staff).json()["items"]] == [ward]
    assert queued.get(f"/api/v1/batches/{made[0]}", headers=staff).status_code == 404
    assert queued.get("/api/v1/batches", params={"cursor": "../x"}).status_code == 422
    assert queued.get("/api/v1/batches", params={"limit": 0}).status_code == 422


def test_pace_and_time_left_come_from_the_pages_done(queued: TestClient, svc: Services) -> None:
    batch = post(queued, [(f"{n}.pdf", pdf_bytes()) for n in range(3)], unit=UNIT).json()
    first = batch["entries"][0]["record_id"]
    start = utcnow() - timedelta(minutes=10)
    with unit_of_work(svc.sessions) as session:  # a worker does 3 of 4 pages, a minute apart
        assert claim(session, first, "worker-1", timedelta(minutes=5)) is not None
        set_page_count(session, first, 4, "application/pdf")
        for number in (1, 2, 3):
            save_page(session, first, PageValues(number, "chữ", "ocr", 0.9, 0, None, False))
    with unit_of_work(svc.sessions) as session:
        for number in (1, 2, 3):
            session.execute(
                update(PageRow)
                .where(PageRow.document_id == first, PageRow.number == number)
                .values(created_at=start + timedelta(minutes=number - 1))
            )
    with unit_of_work(svc.sessions) as session:
        progress = batch_progress(session, batch["id"], now=start + timedelta(minutes=4))
    assert progress is not None
    assert (progress.pages_done, progress.pages_total) == (3, 4)
    # 2 pages after the first in 4 minutes; left: 1 page, and 2 records not started that
    # count as the batch's average of 4 pages each
    assert progress.pages_per_minute == 0.5
    assert progress.eta_seconds == (1 + 2 * 4) / 0.5 * 60
    listed = queued.get("/api/v1/batches").json()["items"][0]
    assert listed["pages_done"] == 3 and listed["pages_per_minute"] is not None


def test_cancel_then_retry_a_queued_batch(queued: TestClient, svc: Services) -> None:
    batch = post(queued, [(f"{n}.pdf", pdf_bytes()) for n in range(3)], unit=UNIT).json()
    ids = [e["record_id"] for e in batch["entries"]]
    # a worker already holds the first one: it is left to finish
    with unit_of_work(svc.sessions) as session:
        assert claim(session, ids[0], "worker-1", timedelta(minutes=5)) is not None
    cancelled = queued.post(f"/api/v1/batches/{batch['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert sorted(cancelled.json()["record_ids"]) == sorted(ids[1:])
    after = cancelled.json()["batch"]
    assert after["counts"] == {"processing": 1, "failed": 2}
    record = queued.get(f"/api/v1/records/{ids[1]}").json()
    assert record["status"] == "failed"
    assert record["error"]["code"] == "cancelled"
    assert record["error"]["message"] == "Đã huỷ theo yêu cầu"
    assert queued.post(f"/api/v1/batches/{batch['id']}/cancel").json()["record_ids"] == []
    # the task of a cancelled record finds nothing to do
    assert process_document.apply(args=[ids[1]]).get() == "skipped"
    assert queued.get(f"/api/v1/records/{ids[1]}").json()["error"]["code"] == "cancelled"
    with unit_of_work(svc.sessions) as session:
        actions = list(
            session.scalars(select(AuditRow.action).where(AuditRow.document_id == ids[1]))
        )
    assert "document.cancelled" in actions
    retried = queued.post(f"/api/v1/batches/{batch['id']}/retry")
    assert retried.status_code == 202
    assert sorted(retried.json()["record_ids"]) == sorted(ids[1:])
    assert retried.json()["batch"]["counts"] == {"processing": 1, "queued": 2}
    assert queued.post(f"/api/v1/batches/{batch['id']}/retry").json()["record_ids"] == []
    # another unit's staff cannot see it, so cannot touch it
    ward = bearer(svc, "batches:write", "batches:read", units=[OTHER_UNIT])
    assert queued.post(f"/api/v1/batches/{batch['id']}/cancel", headers=ward).status_code == 404
    assert queued.post("/api/v1/batches/01JUNKUNKNOWN000000000000/retry").status_code == 404


def test_retry_a_failed_record_and_batch(eager: TestClient, svc: Services, tmp_path: Path) -> None:
    good = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx")).path.read_bytes()
    corrupt = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(4096)
    batch = post(eager, [("cv.pdf", good), ("hong.pdf", corrupt)], unit=UNIT).json()
    assert batch["done"] and batch["counts"] == {"digitized": 1, "failed": 1}
    assert batch["eta_seconds"] == 0
    good_id, bad_id = (e["record_id"] for e in batch["entries"])
    assert eager.post(f"/api/v1/records/{good_id}/retry").status_code == 409
    again = eager.post(f"/api/v1/records/{bad_id}/retry")
    assert again.status_code == 202  # processed at once (eager): fails the same way
    assert eager.get(f"/api/v1/records/{bad_id}").json()["error"]["code"] == "corrupt_pdf"
    assert eager.post("/api/v1/records/01JUNKUNKNOWN000000000000/retry").status_code == 404
    ward = bearer(svc, "records:read", "records:write", units=[OTHER_UNIT])
    assert eager.post(f"/api/v1/records/{bad_id}/retry", headers=ward).status_code == 404
    reader = bearer(svc, "records:read")
    assert eager.post(f"/api/v1/records/{bad_id}/retry", headers=reader).status_code == 403
    whole = eager.post(f"/api/v1/batches/{batch['id']}/retry").json()
    assert whole["record_ids"] == [bad_id]
    assert whole["batch"]["counts"] == {"digitized": 1, "failed": 1}
    with unit_of_work(svc.sessions) as session:
        retries = session.scalar(
            select(func.count()).where(
                AuditRow.document_id == bad_id, AuditRow.action == "document.retry"
            )
        )
    assert retries == 2


def test_a_cancelled_record_retried_is_digitized(svc: Services, tmp_path: Path) -> None:
    good = write_digital_pdf(tmp_path / "cv.pdf", get_spec("cv-12-ubnd-vx")).path.read_bytes()
    with serving(svc, tmp_path, eager=False), TestClient(app, headers=bearer(svc)) as client:
        batch = post(client, [("cv.pdf", good)], unit=UNIT).json()
        client.post(f"/api/v1/batches/{batch['id']}/cancel")
        record_id = batch["entries"][0]["record_id"]
        celery_app.conf.task_always_eager = True
        retried = client.post(f"/api/v1/records/{record_id}/retry")
        assert retried.status_code == 202
        record = client.get(f"/api/v1/records/{record_id}").json()
        assert record["status"] == "digitized" and record["error"] is None
        progress = client.get(f"/api/v1/batches/{batch['id']}").json()
        assert progress["done"] and progress["pages_done"] == progress["pages_total"] >= 1


def test_upload_to_s3_storage(database_url: str, s3_endpoint: str, tmp_path: Path) -> None:
    services = make_services(database_url, f"s3://{s3_endpoint}/sohoa-{uuid.uuid4().hex[:8]}")
    try:
        with (
            serving(services, tmp_path, eager=False),
            TestClient(app, headers=bearer(services)) as client,
        ):
            archive = zip_of({"a/1.pdf": pdf_bytes(), "../bad.pdf": pdf_bytes()})
            response = post(client, [("x.zip", archive), ("b.png", png_bytes())])
            assert response.status_code == 202, response.text
            entries = by_name(response.json())
            assert entries["x.zip/a/1.pdf"]["status"] == "queued"
            assert entries["x.zip/bad.pdf"]["error_code"] == "unsafe_archive_entry"
            sha = entries["b.png"]["sha256"]
            assert services.objects.exists(f"originals/{sha[:2]}/{sha}")
    finally:
        services.close()
