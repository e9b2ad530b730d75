"""Storing the files of an upload: each file recorded on its own, zips unpacked safely.

Each file is stored and recorded on its own, so a bad file never rejects the others. A zip
is unpacked without ever touching the file system by its entries' names: every entry is
streamed from the archive into object storage, and an entry whose name leads outside the
archive, a link, a device file or an encrypted entry gets its own error. The declared sizes
are checked before anything is inflated and the inflated bytes are counted while reading, so
neither a zip bomb nor a lying header gets past `zip_max_size`; the request's limits and the
account's quotas (api.upload_limits) count every file, the entries of all zips together.
"""

from __future__ import annotations

import contextlib
import logging
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy.exc import OperationalError

from api.upload_limits import Allowance
from api.uploads import DRIVE_LETTER, SpooledFile, safe_path
from schemas.auth import Principal
from schemas.errors import ErrorCode
from store import StorageUnavailable
from store.dossiers.naming import placement
from store.services import Services
from worker.ingest import Enqueue, Ingested, ingest_file, reject_file

log = logging.getLogger(__name__)

#: errors of the infrastructure, not of a file: the whole request is answered 503
TRANSIENT = (StorageUnavailable, OperationalError)
#: central directory bytes allowed per entry a zip may have (names, extra fields)
_CD_BYTES_PER_ENTRY = 1024
#: clutter that file managers leave in folders and archives; never a record
_SKIPPED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: file types of a zip entry (from its Unix mode) that are never unpacked
_SPECIAL = {stat.S_IFLNK, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK}


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

    def __init__(self, stream: IO[bytes], limit: int) -> None:
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
    if name.startswith("/") or DRIVE_LETTER.match(name):
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
