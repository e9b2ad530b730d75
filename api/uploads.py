"""Receiving an upload: the multipart body read as it streams in, names made harmless.

Memory holds about one chunk of the body at a time, whatever the upload's size: each file
part goes to its own temporary file on disk as it arrives (Starlette's own form parser would
keep every part under 1 MB in memory, a gigabyte for a thousand such files). Nothing is
stored for good, and no batch exists, until the whole body has arrived and the request is
known to be valid; then each file is stored (api.upload_store).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from worker.ingest import (
    fit_name,
    strip_invisible,
)

log = logging.getLogger(__name__)

#: the form field of the files, repeated once per file
FILES_FIELD = "files"
#: text fields of the upload form and their longest value (the database columns)
TEXT_FIELDS = {"unit": 64, "dossier": 100, "label": 200}
MAX_FIELDS = 50
MAX_FIELD_BYTES = 4096
MAX_PART_HEADERS = 16
#: after a refused request, this much more of the body is read (and dropped) so that the
#: client gets to read the answer; a bigger body is cut off
DRAIN_LIMIT = 32 * 1024 * 1024


class UploadError(Exception):
    """The request as a whole is refused (nothing is stored)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


# --- names ----------------------------------------------------------------------------------


def _component(part: str) -> str:
    part = strip_invisible(unicodedata.normalize("NFC", part)).strip()
    return fit_name(part) if part else ""


def safe_path(name: str) -> str:
    """A name as sent, made a harmless relative path: `/` separators, no `..`, `.`, empty,
    drive or control parts, NFC, each part at most 255 bytes (extension kept).

    `../../etc/passwd` becomes `etc/passwd`, `C:\\scans\\a.pdf` becomes `scans/a.pdf`.
    """
    name = name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        part = _component(part)
        if part in ("", ".", "..") or (not parts and DRIVE_LETTER.fullmatch(part)):
            continue
        parts.append(part)
    return "/".join(parts) or "unnamed"


def _decode_header_value(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


# --- the multipart body ---------------------------------------------------------------------


@dataclass
class SpooledFile:
    """One file part of the body, in a temporary file."""

    name: str  # as sent (decoded, not yet made safe)
    path: Path
    size: int = 0  # bytes sent
    #: more than the file size limit was sent; only the first limit + 1 bytes were kept
    too_large: bool = False


@dataclass
class Upload:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[SpooledFile] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        """A text field: stripped, None when absent or empty; UploadError when repeated,
        too long or holding control characters."""
        values = self.fields.get(name, [])
        if len(values) > 1:
            raise UploadError(422, f"field {name!r} given {len(values)} times")
        if not values:
            return None
        value = unicodedata.normalize("NFC", values[0]).strip()
        if strip_invisible(value) != value:
            raise UploadError(422, f"field {name!r} holds control or invisible characters")
        if len(value) > TEXT_FIELDS[name]:
            raise UploadError(422, f"field {name!r} is longer than {TEXT_FIELDS[name]} characters")
        return value or None


class _Receiver:
    """Callbacks of python-multipart's streaming parser. They run in a worker thread (they
    write files), fed one buffer at a time; a refusal is noted, not raised, so the rest of
    the body can be drained."""

    def __init__(self, folder: Path, *, max_files: int, max_file_size: int) -> None:
        self.folder = folder
        self.max_files = max_files
        self.max_file_size = max_file_size
        self.upload = Upload()
        self.error: UploadError | None = None
        self.finished = False
        self.fields = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_name = b""
        self._header_value = b""
        self._name: str | None = None
        self._file: SpooledFile | None = None
        self._out: BinaryIO | None = None
        self._value = bytearray()

    def refuse(self, status: int, detail: str) -> None:
        if self.error is None:
            self.error = UploadError(status, detail)
        self._close_file()

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._headers = []
        self._name = None
        self._file = None
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        if len(self._header_name) > MAX_FIELD_BYTES:
            self.refuse(422, "a part header is too long")

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        if len(self._header_value) > 2 * MAX_FIELD_BYTES:
            self.refuse(422, "a part header is too long")

    def on_header_end(self) -> None:
        self._headers.append((self._header_name.lower(), self._header_value))
        if len(self._headers) > MAX_PART_HEADERS:
            self.refuse(422, "a part has too many headers")
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        if self.error is not None:
            return
        disposition = next((v for k, v in self._headers if k == b"content-disposition"), b"")
        _, options = parse_options_header(disposition.decode("latin-1"))
        if b"name" not in options:
            self.refuse(422, "a part has no name (Content-Disposition: form-data; name=…)")
            return
        self._name = _decode_header_value(options[b"name"])
        if b"filename" not in options:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                self.refuse(422, f"more than {MAX_FIELDS} form fields")
            return
        if self._name != FILES_FIELD:
            self.refuse(422, f"files go in the field {FILES_FIELD!r}, not {self._name!r}")
            return
        count = len(self.upload.files) + 1
        if count > self.max_files:
            self.refuse(413, f"more than {self.max_files} files in one request; send several")
            return
        path = self.folder / f"{count:06d}"
        self._file = SpooledFile(_decode_header_value(options[b"filename"]), path)
        self._out = path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self._file is not None:
            part = self._file
            keep = self.max_file_size + 1 - part.size  # enough to know it is too large
            if keep > 0 and self._out is not None:
                self._out.write(data[start : min(end, start + keep)])
            part.size += end - start
        elif self._name is not None:
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                self.refuse(422, f"field {self._name!r} is longer than {MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        if self.error is not None:
            return
        if self._file is not None:
            self._close_file()
            part = self._file
            part.too_large = part.size > self.max_file_size
            if part.name == "" and part.size == 0:
                part.path.unlink(missing_ok=True)  # a browser's empty file input
            else:
                self.upload.files.append(part)
            self._file = None
        elif self._name is not None:
            try:
                value = bytes(self._value).decode("utf-8")
            except UnicodeDecodeError:
                self.refuse(422, f"field {self._name!r} is not UTF-8 text")
                return
            self.upload.fields.setdefault(self._name, []).append(value)

    def on_end(self) -> None:
        self.finished = True

    def _close_file(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def multipart_boundary(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data body; UploadError (422) for any other body."""
    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise UploadError(422, "send the files as multipart/form-data (repeated field 'files')")
    boundary = options.get(b"boundary", b"")
    if not boundary or len(boundary) > 200:
        raise UploadError(422, "multipart/form-data without a valid boundary")
    return boundary


async def receive_upload(
    request: Request,
    folder: Path,
    *,
    max_files: int,
    max_file_size: int,
    max_body: int | None = None,
    on_chunk: Callable[[], Awaitable[None]] | None = None,
) -> Upload:
    """Read the multipart body into temporary files in `folder`.

    The declared Content-Length is not trusted: reading stops at the closing boundary, and a
    body that ends before it is refused. Raises UploadError when the request as a whole is
    refused, starlette's ClientDisconnect when the client went away.
    """
    boundary = multipart_boundary(request.headers.get("content-type"))
    receiver = _Receiver(folder, max_files=max_files, max_file_size=max_file_size)
    # python-multipart declares each callback's exact signature in a TypedDict of its own
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]

    def feed(data: bytes) -> None:
        try:
            parser.write(data)
        except FormParserError as exc:
            receiver.refuse(422, f"malformed multipart body: {exc}")
        except OSError as exc:  # the temporary folder is full or gone
            log.error("cannot spool an upload: %s", exc)
            receiver.refuse(503, "no room to receive the upload now; retry later")

    drained = received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if max_body is not None and received > max_body and receiver.error is None:
                receiver.refuse(413, f"the request is larger than {max_body} bytes; split it")
            if receiver.error is not None:  # drop the rest, up to a point
                drained += len(chunk)
                if drained > DRAIN_LIMIT:
                    break
                continue
            if chunk:
                await anyio.to_thread.run_sync(feed, chunk)
            if on_chunk is not None:
                await on_chunk()
            if receiver.finished:
                break  # the closing boundary: whatever the client declared, we are done
    finally:
        receiver._close_file()
    if receiver.error is not None:
        raise receiver.error
    if not receiver.finished:
        raise UploadError(422, "the multipart body ended before its closing boundary")
    return receiver.upload


async def drain(request: Request, limit: int | None = None) -> None:
    """Read and drop the body (so the client can read the answer)."""
    seen = 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if limit is not None and seen > limit:
                return
    except ClientDisconnect:
        return  # nobody to answer; the caller's answer goes nowhere
