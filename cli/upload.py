"""`sohoa upload`: send files and folders to a running service, and follow them.

Files go in chunks (50 files or 200 MB per request by default), each streamed from disk (a
chunk is never read into memory) with its own Idempotency-Key: a chunk retried after a
dropped connection or a 5xx answer returns the batch the service made the first time, never a
second one. httpx speaks HTTP (multipart bodies streamed from the open files); tenacity decides
when to try again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from cli.common import inputs_or_exit
from cli.exit_codes import ExitCode
from cli.inputs import InputFile

CHUNK_FILES = 50
CHUNK_MB = 200
#: attempts of one request before giving up (connection errors, 5xx, 409, 429)
MAX_ATTEMPTS = 6
#: first pause between attempts, doubled each time (with jitter), capped at MAX_PAUSE
BACKOFF_SECONDS = 1.0
MAX_PAUSE = 60.0
CONNECT_SECONDS = 10.0
POLL_SECONDS = 2.0
TIMEOUT_SECONDS = 600.0
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_FINAL = {"digitized", "needs_review", "failed"}
_GOOD = {"digitized", "needs_review"}


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


class _Again(Exception):
    """An answer that may go away if asked again (5xx, 409 still running, 429)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"HTTP {answer.status} {answer.detail()}")
        self.answer = answer


#: the files of one request, opened afresh for every attempt
Files = Callable[[ExitStack], list[tuple[str, tuple[str, BinaryIO, str]]]]


def _wait(state: RetryCallState) -> float:
    """Retry-After when the service says it, else exponential backoff with jitter."""
    failure = state.outcome.exception() if state.outcome else None
    if isinstance(failure, _Again):
        retry_after = failure.answer.headers.get("retry-after", "")
        if retry_after.isdigit():
            return min(MAX_PAUSE, float(retry_after))
    backoff = wait_exponential_jitter(
        multiplier=BACKOFF_SECONDS, max=MAX_PAUSE, jitter=BACKOFF_SECONDS
    )
    return float(backoff(state))


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
        self._client = httpx.Client(
            base_url=self.url.rstrip("/"),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.timeout, connect=CONNECT_SECONDS),
        )

    def close(self) -> None:
        self._client.close()

    def once(
        self,
        method: str,
        path: str,
        *,
        files: Files | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request; files are streamed from disk (httpx sends a Content-Length)."""
        with ExitStack() as opened:
            response = self._client.request(
                method,
                path,
                files=files(opened) if files is not None else None,
                data=data,
                headers=headers,
            )
        return Answer(response.status_code, dict(response.headers), response.content)

    def call(
        self,
        method: str,
        path: str,
        *,
        files: Files | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        console: Console | None = None,
    ) -> Answer:
        """A request, retried with backoff on connection errors and answers that may go away
        (5xx, 409 still running, 429); any other answer is returned."""

        def tell(state: RetryCallState) -> None:
            if console is not None and state.outcome is not None:
                failure = state.outcome.exception()
                pause = state.upcoming_sleep
                console.print(f"[yellow]Thử lại / retrying[/yellow] ({failure}) sau {pause:.1f} s")

        def attempt() -> Answer:
            answer = self.once(method, path, files=files, data=data, headers=headers)
            if answer.status in _RETRY_STATUS:
                raise _Again(answer)
            return answer

        retrying = Retrying(
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=_wait,
            retry=retry_if_exception_type((httpx.TransportError, _Again)),
            sleep=self.sleep,
            before_sleep=tell,
        )
        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            why = f"{type(last).__name__}: {last}" if isinstance(last, httpx.HTTPError) else last
            raise Unreachable(
                f"{method} {path}: gave up after {MAX_ATTEMPTS} attempts ({why})"
            ) from None


# --- the request body -----------------------------------------------------------------------


def upload_files(group: list[tuple[InputFile, int]]) -> Files:
    """The `files` parts of one chunk, each opened when a request is sent. A file that
    changed size since it was measured fails the request."""

    def open_all(opened: ExitStack) -> list[tuple[str, tuple[str, BinaryIO, str]]]:
        parts: list[tuple[str, tuple[str, BinaryIO, str]]] = []
        for item, size in group:
            handle = opened.enter_context(item.path.open("rb"))
            if os.fstat(handle.fileno()).st_size != size:
                raise UsageError(f"{item.path} changed while it was being sent")
            parts.append(("files", (item.shown, handle, "application/octet-stream")))
        return parts

    return open_all


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
        headers = {"Idempotency-Key": f"sohoa-upload-{uuid.uuid4()}"}
        size = sum(item_size for _, item_size in group)
        console.print(
            f"Gửi / sending {number}/{len(groups)}: {len(group)} tệp, {size / 2**20:.1f} MB"
        )
        answer = service.call(
            "POST",
            "/api/v1/batches",
            files=upload_files(group),
            data=fields,
            headers=headers,
            console=console,
        )
        if answer.status not in (200, 202):
            raise _refused(answer, f"gửi / sending {number}/{len(groups)}")
        batch = answer.json()
        outcome.batches.append(batch)
        took: dict[str, int] = {}
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
        raise typer.Exit(ExitCode.usage)
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
        service.close()
    except UsageError as exc:
        console.print(f"[red]Lỗi / error:[/red] {exc}", highlight=False)
        raise typer.Exit(ExitCode.usage) from None
    except Unreachable as exc:
        console.print(f"[red]Không kết nối được / unreachable:[/red] {exc}", highlight=False)
        raise typer.Exit(ExitCode.unreachable) from None
    print_problems(console, outcome)
    if wait:
        failed = any(
            e.get("status") not in _GOOD for b in outcome.batches for e in b.get("entries", [])
        )
    else:
        failed = bool(outcome.problems())
    if failed:
        raise typer.Exit(ExitCode.some_failed)
