"""`sohoa upload` against a real server: chunks, --wait, exit codes, and retries through a
proxy that drops an answer or answers 503, without a chunk ever making two batches."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import cli.upload
from cli.main import app as cli_app
from store import unit_of_work
from store.platform.models import BatchRow, DocumentRow, IdempotencyRow
from store.services import Services
from tests.conftest import bearer
from tests.data.samples import get_spec, write_digital_pdf
from tests.integration.api.test_uploads import (
    OTHER_UNIT,
    UNIT,
    LiveServer,
    free_port,
    pdf_bytes,
    serving,
)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.upload, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(cli.upload, "POLL_SECONDS", 0.05)


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def run(args: list[str], token: str | None) -> tuple[int, list[str], str]:
    """(exit code, stdout lines, stderr) of `sohoa upload ...` in this process."""
    env = {"SOHOA_TOKEN": token, "COLUMNS": "200"}
    result = CliRunner().invoke(cli_app, ["upload", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout.split(), result.stderr


def counts(svc: Services) -> tuple[int, int]:
    with unit_of_work(svc.sessions) as session:
        batches = session.scalar(select(func.count()).select_from(BatchRow)) or 0
        documents = session.scalar(select(func.count()).select_from(DocumentRow)) or 0
    return batches, documents


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    root = tmp_path / "scans"
    write_digital_pdf(root / "hop12" / "0001.pdf", get_spec("cv-12-ubnd-vx"))
    write_digital_pdf(root / "hop12" / "0002.pdf", get_spec("tb-45-pnv"))
    (root / "hop13").mkdir()
    (root / "hop13" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    return root


@pytest.fixture
def eager_server(svc: Services, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(svc, tmp_path, eager=True), LiveServer() as server:
        yield server


@pytest.fixture
def queued_server(svc: Services, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(svc, tmp_path, eager=False), LiveServer() as server:
        yield server


def test_folder_in_chunks_with_wait(
    eager_server: LiveServer, svc: Services, scans: Path, tmp_path: Path
) -> None:
    token = token_of(bearer(svc))
    code, ids, err = run(
        [str(scans), "--server", eager_server.url, "--unit", UNIT, "--dossier", "H49.1",
         "--chunk-files", "1", "--wait"],
        token,
    )  # fmt: skip
    assert code == 0, err
    assert len(ids) == 2 and counts(svc) == (2, 2)
    assert "0 lỗi / failed" in err
    with unit_of_work(svc.sessions) as session:
        docs = session.scalars(select(DocumentRow)).all()
    assert {d.status for d in docs} <= {"digitized", "needs_review"}
    assert {(d.unit_code, d.dossier) for d in docs} == {(UNIT, "H49.1")}
    # a failing file makes the exit status 3, with its reason shown
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "hỏng.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(4096))
    (bad / "ok.pdf").write_bytes((scans / "hop12" / "0001.pdf").read_bytes())
    code, ids, err = run([str(bad), "--server", eager_server.url, "--wait"], token)
    assert code == 3, err
    assert len(ids) == 1
    assert "corrupt_pdf" in err and "hỏng.pdf" in err and "Tệp PDF bị hỏng" in err


def test_without_wait_exit_reflects_what_was_accepted(
    queued_server: LiveServer, svc: Services, tmp_path: Path
) -> None:
    token = token_of(bearer(svc))
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(5):
        (folder / f"{n}.pdf").write_bytes(pdf_bytes())
    code, ids, err = run([str(folder), "--server", queued_server.url, "--chunk-files", "2"], token)
    assert code == 0, err
    assert len(ids) == 3 and counts(svc) == (3, 5)
    (folder / "notes.txt").write_bytes(b"plain text")
    code, ids, err = run([str(folder / "notes.txt"), "--server", queued_server.url], token)
    assert code == 3 and "unsupported_type" in err


def test_usage_errors_exit_2_and_unreachable_exits_1(
    queued_server: LiveServer, svc: Services, tmp_path: Path
) -> None:
    good = tmp_path / "a.pdf"
    good.write_bytes(pdf_bytes())
    url = queued_server.url
    token = token_of(bearer(svc))
    assert run([str(tmp_path / "missing.pdf"), "--server", url], token)[0] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run([str(empty), "--server", url], token)[0] == 2
    assert run([str(good), "--server", url], None)[0] == 2
    code, _, err = run([str(good), "--server", url], "not-a-token")
    assert code == 2 and "401" in err
    reader = token_of(bearer(svc, "batches:read"))
    code, _, err = run([str(good), "--server", url], reader)
    assert code == 2 and "batches:write" in err
    ward = token_of(bearer(svc, "batches:write", "batches:read", units=[OTHER_UNIT]))
    code, _, err = run([str(good), "--server", url, "--unit", UNIT], ward)
    assert code == 2 and UNIT in err
    code, _, err = run([str(good), "--server", url, "--unit", "no-such-unit"], token)
    assert code == 2 and "unknown unit" in err
    assert run([str(good), "--server", "ftp://x"], token)[0] == 2
    closed = f"http://127.0.0.1:{free_port()}"
    code, _, err = run([str(good), "--server", closed], token)
    assert code == 1 and "unreachable" in err
    assert counts(svc) == (0, 0)


class FaultyProxy:
    """A TCP proxy in front of the server that spoils the first `faults` uploads: with
    `drop`, the server handles the request but its answer never reaches the client (a
    timeout, a dropped connection); otherwise the proxy answers 503 itself."""

    def __init__(self, target_port: int, *, faults: int, drop: bool) -> None:
        self.target = ("127.0.0.1", target_port)
        self.faults, self.drop = faults, drop
        self.spoiled = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client:
            request = _read_message(client)
            upload = request.startswith(b"POST /api/v1/batches ")
            with self.lock:
                spoil = upload and self.spoiled < self.faults
                self.spoiled += spoil
            if spoil and not self.drop:
                client.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n"
                    b"connection: close\r\n\r\n"
                )
                return
            with socket.create_connection(self.target) as upstream:
                upstream.sendall(request)
                answer = _read_message(upstream)
            if not spoil:
                client.sendall(answer)


def _read_message(sock: socket.socket) -> bytes:
    """One HTTP message with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.mark.parametrize("drop", [True, False], ids=["answer-lost", "gateway-503"])
def test_a_retried_chunk_never_makes_a_second_batch(
    queued_server: LiveServer, svc: Services, tmp_path: Path, drop: bool
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(5):
        (folder / f"{n}.pdf").write_bytes(pdf_bytes())
    proxy = FaultyProxy(queued_server.port, faults=2, drop=drop)
    try:
        code, ids, err = run(
            [str(folder), "--server", proxy.url, "--chunk-files", "2"], token_of(bearer(svc))
        )
    finally:
        proxy.close()
    assert code == 0, err
    assert proxy.spoiled == 2 and "retrying" in err
    assert len(ids) == 3 and len(set(ids)) == 3
    assert counts(svc) == (3, 5)  # the server saw a chunk twice, made its batch once
    with unit_of_work(svc.sessions) as session:
        keys = session.scalars(select(IdempotencyRow.batch_id)).all()
    assert sorted(keys) == sorted(ids)
