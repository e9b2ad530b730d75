"""Receiving an upload: the multipart body read as it streams in, zips unpacked safely.

Memory holds about one chunk of the body at a time, whatever the upload's size: each file
part goes to its own temporary file on disk as it arrives (Starlette's own form parser would
keep every part under 1 MB in memory, a gigabyte for a thousand such files). Nothing is
stored for good, and no batch exists, until the whole body has arrived and the request is
known to be valid; then each file is stored and recorded on its own, so a bad file never
rejects the others.

A zip is unpacked without ever touching the file system by its entries' names: every entry
is streamed from the archive into object storage, and an entry whose name leads outside the
archive, a link, a device file or an encrypted entry gets its own error. The declared sizes
are checked before anything is inflated and the inflated bytes are counted while reading, so
neither a zip bomb nor a lying header gets past `zip_max_size`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.exc import OperationalError
from starlette.requests import ClientDisconnect, Request

from api.upload_limits import Allowance
from schemas.auth import Principal
from schemas.errors import ErrorCode
from store import StorageUnavailable
from store.dossiers.naming import placement
from worker.ingest import (
    Enqueue,
    Ingested,
    fit_name,
    ingest_file,
    reject_file,
    strip_invisible,
)
from worker.services import Services

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
#: central directory bytes allowed per entry a zip may have (names, extra fields)
_CD_BYTES_PER_ENTRY = 1024
#: errors of the infrastructure, not of a file: the whole request is answered 503
TRANSIENT = (StorageUnavailable, OperationalError)


class UploadError(Exception):
    """The request as a whole is refused (nothing is stored)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


_DRIVE = re.compile(r"^[A-Za-z]:")
#: clutter that file managers leave in folders and archives; never a record
_SKIPPED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: file types of a zip entry (from its Unix mode) that are never unpacked
_SPECIAL = {stat.S_IFLNK, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK}


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
    parts = []
    for part in name.replace("\\", "/").split("/"):
        part = _component(part)
        if part in ("", ".", "..") or (not parts and _DRIVE.fullmatch(part)):
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


# --- storing the files ----------------------------------------------------------------------


@dataclass
class Context:
    svc: Services
    batch_id: str
    actor: str
    enqueue: Enqueue
    unit: str | None
    dossier: str | None
    #: called after each file (keeps an idempotency key alive on long uploads)
    tick: Callable[[], None] = lambda: None
    #: who uploads: duplicates are reported only within what they may see
    principal: Principal | None = None
    #: what the request may still store (None: no limit, the operator's own tools)
    allowance: Allowance | None = None
    #: codes of the catalogue's dossiers: a TT 05 name `<code>.<n>.pdf` or a folder named by
    #: one puts a file in that dossier
    known_dossiers: frozenset[str] = frozenset()


def store_files(ctx: Context, files: list[SpooledFile]) -> list[Ingested]:
    """Store and record every file of the request, zips unpacked; a file that fails for a
    reason of its own gets an entry with the reason. Infrastructure errors (storage or
    database down) propagate: the request is answered 503."""
    results: list[Ingested] = []
    for part in files:
        name = safe_path(part.name)
        try:
            if part.too_large:
                results.append(_reject(ctx, name, ErrorCode.file_too_large))
            else:
                results.extend(_store_one(ctx, part.path, name))
        except TRANSIENT:
            raise
        except Exception:
            log.exception("upload of %r into batch %s failed", name, ctx.batch_id)
            results.append(_reject(ctx, name, ErrorCode.internal_error))
        finally:
            part.path.unlink(missing_ok=True)
        ctx.tick()
    return results


def _reject(ctx: Context, name: str, code: ErrorCode) -> Ingested:
    return reject_file(ctx.svc, ctx.batch_id, name, code, actor=ctx.actor)


def _ingest(ctx: Context, stream: BinaryIO, name: str, size: int) -> Ingested:
    """Store one file of `size` bytes (as declared by a zip entry, or spooled) if the
    request's limits and the account's quotas allow it."""
    allowance = ctx.allowance
    if allowance is not None and (code := allowance.refusal(size)) is not None:
        return _reject(ctx, name, code)
    dossier, ordinal = placement(name, ctx.known_dossiers, ctx.dossier)
    result = ingest_file(
        ctx.svc,
        ctx.batch_id,
        stream,
        name,
        actor=ctx.actor,
        enqueue=ctx.enqueue,
        unit=ctx.unit,
        dossier=dossier,
        principal=ctx.principal,
        ordinal=ordinal,
    )
    if allowance is not None:
        allowance.charge(result, size)
    return result


def _store_one(ctx: Context, path: Path, name: str) -> list[Ingested]:
    with path.open("rb") as f:
        if f.read(4) in _ZIP_MAGIC:
            unpacked = unpack_zip(ctx, path, name)
            if unpacked is not None:
                return unpacked
        f.seek(0)
        return [_ingest(ctx, f, name, path.stat().st_size)]


# --- zips -----------------------------------------------------------------------------------


class _Overflow(Exception):
    """More bytes came out of a zip entry than it declared, or than the archive may hold."""


class _Counted:
    """A reader over an entry being inflated that counts the bytes and stops at `limit`."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1024 * 1024
        data = self._stream.read(min(size, self._limit - self.count + 1))
        self.count += len(data)
        if self.count > self._limit:
            raise _Overflow(f"more than {self._limit} bytes")
        return data


def zip_directory(path: Path) -> tuple[int, int]:
    """(entries, bytes of the central directory) as the end record declares them, read
    before the zip module loads the whole directory into memory."""
    size = path.stat().st_size
    with path.open("rb") as f:
        tail_size = min(size, 22 + 0xFFFF)
        f.seek(size - tail_size)
        tail = f.read(tail_size)
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) - pos < 22:
            raise zipfile.BadZipFile("no end of central directory")
        _sig, _disk, _cd_disk, _n_disk, entries, cd_size, cd_offset, _comment = struct.unpack(
            "<4sHHHHIIH", tail[pos : pos + 22]
        )
        if entries != 0xFFFF and cd_size != 0xFFFFFFFF and cd_offset != 0xFFFFFFFF:
            return entries, cd_size
        # zip64: the locator just before the end record points at the zip64 end record
        end_at = size - tail_size + pos
        if end_at < 20:
            raise zipfile.BadZipFile("truncated zip64 locator")
        f.seek(end_at - 20)
        sig, _disk, record_at, _disks = struct.unpack("<4sIQI", f.read(20))
        if sig != b"PK\x06\x07" or record_at > size - 56:
            raise zipfile.BadZipFile("bad zip64 locator")
        f.seek(record_at)
        record = struct.unpack("<4sQHHIIQQQQ", f.read(56))
        if record[0] != b"PK\x06\x06":
            raise zipfile.BadZipFile("bad zip64 end record")
        return record[7], record[8]


def _member_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its creator meant it: many tools write UTF-8 without saying so."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return name


def _is_unsafe_path(name: str) -> bool:
    name = name.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        return True
    return any(part == ".." for part in name.split("/"))


def _file_type(info: zipfile.ZipInfo) -> int:
    return stat.S_IFMT(info.external_attr >> 16)


def _is_skipped(name: str) -> bool:
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    if not parts or parts[0] == "__MACOSX":
        return True
    return any(p.startswith(".") for p in parts) or parts[-1].lower() in _SKIPPED_NAMES


def _is_package(names: list[str]) -> bool:
    """Office and OpenDocument files are zips too: they are files, not folders."""
    return "[Content_Types].xml" in names or (bool(names) and names[0] == "mimetype")


def unpack_zip(ctx: Context, path: Path, archive: str) -> list[Ingested] | None:
    """Store every file of a zip as `archive/inner/path`; None when the zip is a document
    format (DOCX, ODT…) to be stored as one file."""
    settings = ctx.svc.settings
    max_entries = settings.zip_max_entries
    try:
        declared_entries, directory_bytes = zip_directory(path)
        if declared_entries > max_entries or directory_bytes > (
            max_entries * _CD_BYTES_PER_ENTRY + 0xFFFF
        ):
            return [_reject(ctx, archive, ErrorCode.archive_too_large)]
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
        return [_reject(ctx, archive, ErrorCode.corrupt_archive)]
    with zf:
        infos = zf.infolist()
        if _is_package([i.filename for i in infos]):
            return None
        if len(infos) > max_entries:
            return [_reject(ctx, archive, ErrorCode.archive_too_large)]
        members = []
        for info in infos:
            name = _member_name(info)
            kind = _file_type(info)
            if info.is_dir() or kind == stat.S_IFDIR:
                continue
            unsafe = _is_unsafe_path(name) or kind in _SPECIAL
            if not unsafe and _is_skipped(name):
                continue
            members.append((info, f"{archive}/{safe_path(name)}", unsafe))
        if not members:  # nothing but folders and clutter
            return [_reject(ctx, archive, ErrorCode.no_pages)]
        declared = sum(info.file_size for info, _, unsafe in members if not unsafe)
        if declared > settings.zip_max_size:
            return [_reject(ctx, archive, ErrorCode.archive_too_large)]
        results = []
        budget = settings.zip_max_size  # this zip's; the request's is in ctx.allowance
        for info, name, unsafe in members:
            if unsafe:
                results.append(_reject(ctx, name, ErrorCode.unsafe_archive_entry))
            elif info.flag_bits & 0x1:
                results.append(_reject(ctx, name, ErrorCode.encrypted_archive))
            elif info.file_size > settings.max_file_size:
                results.append(_reject(ctx, name, ErrorCode.file_too_large))
            elif budget <= 0:
                results.append(_reject(ctx, name, ErrorCode.archive_too_large))
            else:
                outcome, used = _unpack_member(ctx, zf, info, name, min(info.file_size, budget))
                budget -= used
                results.append(outcome)
            ctx.tick()
        return results


def _unpack_member(
    ctx: Context, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int
) -> tuple[Ingested, int]:
    """Stream one entry into storage, counting what it inflates to."""
    counted: _Counted | None = None
    try:
        with zf.open(info) as member:
            counted = _Counted(member, limit)
            size = info.file_size  # what the entry declares; reading stops past it
            # a reader with read() is all ingest_file uses of a stream
            return _ingest(ctx, counted, name, size), counted.count  # type: ignore[arg-type]
    except _Overflow:
        return _reject(ctx, name, ErrorCode.archive_too_large), limit + 1
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError):
        # a bad CRC, a truncated stream, an unknown compression method
        used = counted.count if counted is not None else 0
        return _reject(ctx, name, ErrorCode.corrupt_archive), used
