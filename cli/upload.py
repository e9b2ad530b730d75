"""`sohoa upload`: send files and folders to a running service, and follow them.

Files go in chunks (50 files or 200 MB per request by default), each streamed from disk (a
chunk is never read into memory) with its own Idempotency-Key: a chunk retried after a
dropped connection or a 5xx answer returns the batch the service made the first time, never a
second one. Only the standard library speaks HTTP here, so the command works wherever sohoa
is installed.
"""

from __future__ import annotations

import http.client
import json
import random
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console

from cli.common import inputs_or_exit
from cli.inputs import InputFile

EXIT_USAGE = 2
EXIT_SOME_FAILED = 3
EXIT_UNREACHABLE = 1

CHUNK_FILES = 50
CHUNK_MB = 200
#: attempts of one request before giving up (connection errors, 5xx, 409, 429)
MAX_ATTEMPTS = 6
#: first pause between attempts, doubled each time (with jitter), capped at 60 s
BACKOFF_SECONDS = 1.0
POLL_SECONDS = 2.0
TIMEOUT_SECONDS = 600.0
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_FINAL = {"digitized", "needs_review", "failed"}
_GOOD = {"digitized", "needs_review"}
_READ = 1024 * 1024


class UsageError(Exception):
    """The command or the service refused what was asked (exit 2)."""


class Unreachable(Exception):
    """The service could not be reached, or kept failing (exit 1)."""


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def detail(self) -> str:
        """The service's explanation of a refusal."""
        try:
            detail = self.json().get("detail")
        except (ValueError, AttributeError):
            return self.body[:300].decode("utf-8", "replace")
        if isinstance(detail, list):
            return "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
        return str(detail)


Body = Callable[[], Iterator[bytes]]


@dataclass
class Service:
    """A running sohoa service: base URL and bearer token."""

    url: str
    token: str
    timeout: float = TIMEOUT_SECONDS
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--server must be an http:// or https:// URL, got {self.url!r}")
        self._parts = parts
        self._prefix = parts.path.rstrip("/")

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def once(
        self,
        method: str,
        path: str,
        *,
        body: Body | None = None,
        length: int = 0,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request. A service that answers before reading the whole body (a refusal)
        is still heard: the answer is read even when sending failed."""
        conn = self._connection()
        try:
            conn.putrequest(method, self._prefix + path)
            sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
            sent |= headers or {}
            if body is not None:
                sent["Content-Length"] = str(length)
            for name, value in sent.items():
                conn.putheader(name, value)
            conn.endheaders()
            failure: OSError | None = None
            if body is not None:
                try:
                    for piece in body():
                        conn.send(piece)
                except (BrokenPipeError, ConnectionResetError) as exc:
                    failure = exc
            try:
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                if failure is not None:
                    raise failure from None
                raise
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Body | None = None,
        length: int = 0,
        headers: dict[str, str] | None = None,
        console: Console | None = None,
    ) -> Answer:
        """A request, retried with backoff on connection errors and answers that may go away
        (5xx, 409 still running, 429); any other answer is returned."""
        last = ""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                pause = min(60.0, BACKOFF_SECONDS * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
                if console is not None:
                    console.print(f"[yellow]Thử lại / retrying[/yellow] ({last}) sau {pause:.1f} s")
                self.sleep(pause)
            try:
                answer = self.once(method, path, body=body, length=length, headers=headers)
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if answer.status not in _RETRY_STATUS:
                return answer
            last = f"HTTP {answer.status} {answer.detail()}"
            retry_after = answer.headers.get("retry-after", "")
            if retry_after.isdigit():
                self.sleep(min(60.0, float(retry_after)))
        raise Unreachable(f"{method} {path}: gave up after {MAX_ATTEMPTS} attempts ({last})")


# --- the request body -----------------------------------------------------------------------


def _quoted(name: str) -> bytes:
    raw = name.encode("utf-8", "surrogateescape")
    raw = raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return raw.replace(b"\r", b" ").replace(b"\n", b" ")


def multipart_body(
    files: list[tuple[InputFile, int]], fields: dict[str, str], boundary: str
) -> tuple[int, Body]:
    """(length, a generator factory) of a multipart/form-data body that streams each file
    from disk. A file that changed size since it was measured fails the request."""
    pieces: list[bytes | tuple[Path, int]] = []
    mark = f"--{boundary}\r\n".encode()
    for name, value in fields.items():
        pieces.append(
            mark + f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8") + b"\r\n"
        )  # fmt: skip
    for item, size in files:
        pieces.append(
            mark + b'Content-Disposition: form-data; name="files"; filename="'
            + _quoted(item.shown) + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )  # fmt: skip
        pieces.append((item.path, size))
        pieces.append(b"\r\n")
    pieces.append(f"--{boundary}--\r\n".encode())
    length = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)

    def body() -> Iterator[bytes]:
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
                continue
            path, size = piece
            left = size
            with path.open("rb") as f:
                while left:
                    data = f.read(min(_READ, left))
                    if not data:
                        break
                    left -= len(data)
                    yield data
                if left or f.read(1):
                    raise UsageError(f"{path} changed while it was being sent")

    return length, body


def chunks(
    files: list[tuple[InputFile, int]], max_files: int, max_bytes: int
) -> list[list[tuple[InputFile, int]]]:
    """Consecutive groups of at most `max_files` files and `max_bytes` (a bigger file goes
    alone)."""
    groups: list[list[tuple[InputFile, int]]] = []
    current: list[tuple[InputFile, int]] = []
    size = 0
    for item in files:
        if current and (len(current) >= max_files or size + item[1] > max_bytes):
            groups.append(current)
            current, size = [], 0
        current.append(item)
        size += item[1]
    if current:
        groups.append(current)
    return groups


# --- the command ----------------------------------------------------------------------------


@dataclass
class Outcome:
    batches: list[dict[str, Any]] = field(default_factory=list)

    def problems(self) -> list[tuple[str, str, str]]:
        """(file, code, message) of every entry refused or failed."""
        found = []
        for batch in self.batches:
            for entry in batch.get("entries", []):
                if entry["outcome"] == "rejected" or entry.get("status") == "failed":
                    code = entry.get("error_code") or ""
                    found.append((entry["filename"], code, entry.get("error_message") or ""))
        return found


def _refused(answer: Answer, what: str) -> UsageError:
    reasons = {
        401: "token không hợp lệ hoặc đã hết hạn / the token was refused",
        403: "không được phép / not allowed",
        413: "quá nhiều tệp trong một lần gửi / too many files in one request",
    }
    reason = reasons.get(answer.status, "")
    return UsageError(f"{what}: HTTP {answer.status} {reason} {answer.detail()}".strip())


def _check_caller(service: Service, wait: bool, unit: str | None, console: Console) -> None:
    me = service.call("GET", "/api/v1/auth/me", console=console)
    if me.status != 200:
        raise _refused(me, "kiểm tra token / checking the token")
    info = me.json()
    needed = {"batches:write"} | ({"batches:read"} if wait else set())
    missing = needed - set(info.get("scopes", []))
    if missing:
        raise UsageError(f"the token lacks the scope(s) {', '.join(sorted(missing))}")
    units = info.get("units")
    if unit is not None and units is not None and unit not in units:
        raise UsageError(f"the token may not upload for unit {unit!r} (only {', '.join(units)})")


def send_all(
    service: Service,
    inputs: list[InputFile],
    fields: dict[str, str],
    *,
    chunk_files: int,
    chunk_bytes: int,
    console: Console,
    on_batch: Callable[[dict[str, Any]], None] = lambda b: None,
) -> Outcome:
    """Upload every input, chunk by chunk; one batch per chunk."""
    sized = []
    for item in inputs:
        try:
            sized.append((item, item.path.stat().st_size))
        except OSError as exc:
            raise UsageError(f"cannot read {item.path}: {exc}") from None
    outcome = Outcome()
    groups = chunks(sized, chunk_files, chunk_bytes)
    for number, group in enumerate(groups, start=1):
        boundary = f"sohoa-{uuid.uuid4().hex}"
        length, body = multipart_body(group, fields, boundary)
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Idempotency-Key": f"sohoa-upload-{uuid.uuid4()}",
        }
        console.print(
            f"Gửi / sending {number}/{len(groups)}: {len(group)} tệp, {length / 2**20:.1f} MB"
        )
        answer = service.call(
            "POST", "/api/v1/batches", body=body, length=length, headers=headers, console=console
        )
        if answer.status not in (200, 202):
            raise _refused(answer, f"gửi / sending {number}/{len(groups)}")
        batch = answer.json()
        outcome.batches.append(batch)
        took = {}
        for entry in batch.get("entries", []):
            took[entry["outcome"]] = took.get(entry["outcome"], 0) + 1
        console.print(
            f"  lô / batch {batch['id']}: " + ", ".join(f"{v} {k}" for k, v in took.items())
        )
        on_batch(batch)
    return outcome


def _describe(batch: dict[str, Any]) -> str:
    counts = batch.get("counts", {})
    final = sum(v for k, v in counts.items() if k in _FINAL)
    text = (
        f"{batch['id']}: {final}/{sum(counts.values())} xong / done, "
        f"trang / pages {batch.get('pages_done', 0)}/{batch.get('pages_total', 0)}"
    )
    if batch.get("pages_per_minute"):
        text += f", {batch['pages_per_minute']:.1f} trang/phút"
    if batch.get("eta_seconds"):
        text += f", còn / left ~{batch['eta_seconds'] // 60}m{batch['eta_seconds'] % 60:02d}s"
    return text


def follow(service: Service, outcome: Outcome, console: Console) -> None:
    """Poll every batch until it is done; the final summaries replace the first answers."""
    shown: dict[str, str] = {}
    while True:
        pending = [i for i, b in enumerate(outcome.batches) if not b.get("done")]
        if not pending:
            return
        for index in pending:
            batch_id = outcome.batches[index]["id"]
            answer = service.call("GET", f"/api/v1/batches/{batch_id}", console=console)
            if answer.status != 200:
                raise _refused(answer, f"theo dõi / following {batch_id}")
            outcome.batches[index] = answer.json()
            line = _describe(outcome.batches[index])
            if shown.get(batch_id) != line:
                console.print(line)
                shown[batch_id] = line
        if any(not b.get("done") for b in outcome.batches):
            service.sleep(POLL_SECONDS)


def print_problems(console: Console, outcome: Outcome) -> None:
    problems = outcome.problems()
    entries = sum(len(b.get("entries", [])) for b in outcome.batches)
    console.print(
        f"{len(outcome.batches)} lô / batches, {entries} tệp / files, {len(problems)} lỗi / failed"
    )
    for filename, code, message in problems:
        console.print(f"[red]✗[/red] {filename}: {code} — {message}", highlight=False)


def upload(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively)")],
    server: Annotated[
        str, typer.Option(envvar="SOHOA_SERVER", help="URL of the service, e.g. http://host:8000")
    ],
    token: Annotated[
        str | None,
        typer.Option(envvar="SOHOA_TOKEN", help="Service token (default: $SOHOA_TOKEN)"),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Unit code, e.g. phuong-co-nhue-1")] = None,
    dossier: Annotated[str | None, typer.Option(help="Dossier code (mã hồ sơ)")] = None,
    label: Annotated[str | None, typer.Option(help="A label for the batches")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow progress until every file is final")
    ] = False,
    chunk_files: Annotated[int, typer.Option(min=1, help="Files per request")] = CHUNK_FILES,
    chunk_mb: Annotated[int, typer.Option(min=1, help="Megabytes per request")] = CHUNK_MB,
) -> None:
    """Upload files and folders to a running sohoa service; print the batch ids.

    Exit status: 0 when every file was accepted (with --wait: digitized), 3 when some were
    refused or failed, 2 for usage errors (bad path, token, unit), 1 when the service could
    not be reached.
    """
    console = Console(stderr=True)
    if not token:
        console.print("[red]Thiếu token / no token:[/red] --token or SOHOA_TOKEN")
        raise typer.Exit(EXIT_USAGE)
    inputs = inputs_or_exit(paths, console, "Không có tệp nào để gửi / no files to upload")
    fields = {k: v for k, v in (("unit", unit), ("dossier", dossier), ("label", label)) if v}
    try:
        service = Service(server, token)
        _check_caller(service, wait, unit, console)
        outcome = send_all(
            service,
            inputs,
            fields,
            chunk_files=chunk_files,
            chunk_bytes=chunk_mb * 1024 * 1024,
            console=console,
            on_batch=lambda batch: typer.echo(batch["id"]),
        )
        if wait:
            follow(service, outcome, console)
    except UsageError as exc:
        console.print(f"[red]Lỗi / error:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except Unreachable as exc:
        console.print(f"[red]Không kết nối được / unreachable:[/red] {exc}", highlight=False)
        raise typer.Exit(EXIT_UNREACHABLE) from None
    print_problems(console, outcome)
    if wait:
        failed = any(
            e.get("status") not in _GOOD for b in outcome.batches for e in b.get("entries", [])
        )
    else:
        failed = bool(outcome.problems())
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED)
