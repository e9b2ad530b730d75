"""Upload: store the original under its SHA-256, then record it in the same unit of work.

The bytes are in object storage before the database row exists, and the task that will
process the row is sent only after that row is committed.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocr import SNIFF_BYTES, sniff_or_none
from schemas.auth import Principal
from schemas.batch import EntryOutcome
from schemas.errors import ErrorCode, error_message
from schemas.record import Status
from store import FileTooLarge, after_commit, unit_of_work
from store.audit.trail import audit
from store.dossiers.registry import place_in_dossier
from store.platform.ids import new_id
from store.platform.models import BatchEntryRow, BatchRow, DocumentRow
from store.records.documents import find_by_sha256, next_entry_position, requeue
from store.records.events import RecordEvent, record_changed
from store.services import Services

log = logging.getLogger(__name__)

#: sends a document to the pipeline (what it returns is not looked at)
Enqueue = Callable[[str], object]


@dataclass(frozen=True)
class Ingested:
    filename: str
    outcome: EntryOutcome
    document_id: str | None
    status: Status | None
    error_code: ErrorCode | None = None

    @property
    def queued(self) -> bool:
        return self.status == Status.queued


class _Prefixed(io.RawIOBase):
    """A stream that yields the bytes already read for sniffing, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # a writable buffer: memoryview, bytearray
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _add_entry(
    session: Session,
    batch_id: str,
    filename: str,
    outcome: EntryOutcome,
    *,
    document_id: str | None = None,
    sha256: str | None = None,
    error_code: ErrorCode | None = None,
) -> None:
    session.add(
        BatchEntryRow(
            batch_id=batch_id,
            position=next_entry_position(session, batch_id),
            filename=filename,
            outcome=outcome.value,
            document_id=document_id,
            sha256=sha256,
            error_code=error_code.value if error_code else None,
            error_message=error_message(error_code) if error_code else None,
        )
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: longest name kept for a stored document (bytes of UTF-8, the usual file-system limit)
MAX_NAME_BYTES = 255
#: longest name shown for a batch entry (characters; a path inside a zip may be long)
MAX_SHOWN_CHARS = 1024


#: lone surrogates that `surrogateescape` made of undecodable bytes of a file-system name
_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")
#: any other lone surrogate (no byte behind it): nothing to recover
_OTHER_SURROGATE = re.compile(r"[\ud800-\udc7f\udd00-\udfff]")
#: the Windows code page of Vietnamese, the likely encoding of a name that is not UTF-8
LEGACY_ENCODING = "cp1258"


def readable_name(name: str) -> str:
    """A file-system name as NFC text that encodes to UTF-8.

    Bytes that were not UTF-8 (kept as lone surrogates by `surrogateescape`) are read as
    cp1258, the code page of Vietnamese Windows shares; failing that, each becomes one U+FFFD.
    Each `/`-separated part is decoded on its own: a legacy file name in a UTF-8 folder is
    common.
    """
    name = _OTHER_SURROGATE.sub("\ufffd", name)
    if _ESCAPED_BYTE.search(name):
        name = "/".join(_decode_part(part) for part in name.split("/"))
    return strip_invisible(unicodedata.normalize("NFC", name))


def _decode_part(part: str) -> str:
    raw = part.encode("utf-8", "surrogateescape")
    for encoding in ("utf-8", LEGACY_ENCODING):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return _ESCAPED_BYTE.sub("\ufffd", part)


def strip_invisible(text: str) -> str:
    """Without control characters (Unicode Cc) and invisible format characters (Cf):
    U+202E RIGHT-TO-LEFT OVERRIDE shows `gpj.exe` as `exe.jpg`, zero-width spaces and
    joiners hide in names."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


def fit_name(name: str, max_bytes: int = MAX_NAME_BYTES, *, mark: str = "") -> str:
    """`name` cut to at most `max_bytes` of UTF-8, keeping its extension and whole characters.

    A `mark` (a short tag telling apart names that would be the same) goes between the stem,
    cut as needed, and the extension.
    """
    if not mark and len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode("utf-8")) > 16:
        stem, dot, ext = name, "", ""
    room = max_bytes - len((mark + dot + ext).encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip()
    return (cut or "unnamed") + mark + dot + ext


def shown_filename(name: str) -> str:
    """A name as given (folders kept) made safe to show and store: NFC, no control
    characters, not endless."""
    name = _CONTROL.sub("", readable_name(name)).strip() or "unnamed"
    if len(name) > MAX_SHOWN_CHARS:
        name = "…" + name[-(MAX_SHOWN_CHARS - 1) :]
    return name


def clean_filename(name: str) -> str:
    """A file name safe to show and store: no folders, no control characters, NFC, at most
    255 bytes with its extension kept."""
    name = readable_name(name.replace("\\", "/").split("/")[-1])
    name = _CONTROL.sub("", name).strip() or "unnamed"
    return fit_name(name)


def reject_file(
    svc: Services, batch_id: str, filename: str, code: ErrorCode, *, actor: str
) -> Ingested:
    """Give a file refused before storing (too large, an unsafe zip entry…) its own entry
    with the reason, so the batch shows every file it was sent."""
    shown_name = shown_filename(filename)
    with unit_of_work(svc.sessions) as session:
        _add_entry(session, batch_id, shown_name, EntryOutcome.rejected, error_code=code)
        audit(
            session,
            actor,
            "document.rejected",
            batch_id=batch_id,
            detail={"filename": shown_name, "code": code},
        )
    return Ingested(shown_name, EntryOutcome.rejected, None, None, code)


#: failures that are properties of the bytes themselves, whoever uploaded them
_FILE_ERRORS = frozenset(
    code.value
    for code in (
        ErrorCode.empty_file, ErrorCode.unsupported_type, ErrorCode.corrupt_pdf,
        ErrorCode.encrypted_pdf, ErrorCode.corrupt_image, ErrorCode.image_too_large,
        ErrorCode.too_many_pages, ErrorCode.no_pages, ErrorCode.corrupt_archive,
        ErrorCode.encrypted_archive, ErrorCode.unsafe_archive_entry,
    )
)  # fmt: skip


def _may_see(principal: Principal | None, doc: DocumentRow) -> bool:
    return principal is None or principal.may_see(doc.unit_code, doc.secrecy)


def _refuse_hidden(
    session: Session, batch_id: str, filename: str, existing: DocumentRow, actor: str
) -> Ingested:
    """The bytes are a record the caller may not see: say so without its id or status
    (the audit log, read by administrators, keeps which record it was). Bytes that failed
    for what they are (empty, not a document, damaged) get that code: it tells the caller
    only what its own file is."""
    code = ErrorCode.duplicate_elsewhere
    if existing.status == Status.failed.value and existing.error_code in _FILE_ERRORS:
        code = ErrorCode(existing.error_code)
    _add_entry(session, batch_id, filename, EntryOutcome.rejected, error_code=code)
    audit(
        session,
        actor,
        "document.rejected",
        document_id=existing.id,
        batch_id=batch_id,
        detail={"filename": filename, "code": code},
    )
    return Ingested(filename, EntryOutcome.rejected, None, None, code)


def ingest_file(
    svc: Services,
    batch_id: str,
    stream: BinaryIO,
    filename: str,
    *,
    actor: str,
    enqueue: Enqueue,
    unit: str | None = None,
    dossier: str | None = None,
    principal: Principal | None = None,
    ordinal: int | None = None,
    split_from: str | None = None,
) -> Ingested:
    """Store one uploaded file and give it a record (or point at the one it duplicates).

    The record's unit and dossier are the batch's unless given. With a `principal`, a
    duplicate of a record it may not see is refused without naming that record, and only a
    record of its own units is re-queued (None: the operator, who sees everything). A new
    record in a dossier gets `ordinal` there when it is free, else the next one.
    """
    shown_name = shown_filename(filename)
    head = stream.read(SNIFF_BYTES)
    media_type = sniff_or_none(head)
    try:
        # a type never accepted is recorded as failed, but its bytes are not kept
        keep = svc.objects.store_original if media_type else svc.objects.measure_original
        stored = keep(
            io.BufferedReader(_Prefixed(head, stream), 1024 * 1024),
            max_size=svc.settings.max_file_size,
        )
    except FileTooLarge:
        return reject_file(svc, batch_id, shown_name, ErrorCode.file_too_large, actor=actor)

    for _attempt in range(2):
        try:
            return _record_upload(
                svc,
                batch_id,
                shown_name,
                stored.sha256,
                stored.size,
                media_type,
                actor=actor,
                enqueue=enqueue,
                unit=unit,
                dossier=dossier,
                principal=principal,
                ordinal=ordinal,
                split_from=split_from,
            )
        except IntegrityError:
            # Another upload of the same bytes won the race: this one is its duplicate.
            log.info("concurrent upload of %s, retrying as a duplicate", stored.sha256)
    raise RuntimeError(f"could not record upload of {stored.sha256}")


def _record_upload(
    svc: Services,
    batch_id: str,
    filename: str,
    sha256: str,
    size: int,
    media_type: str | None,
    *,
    actor: str,
    enqueue: Enqueue,
    unit: str | None,
    dossier: str | None,
    principal: Principal | None = None,
    ordinal: int | None = None,
    split_from: str | None = None,
) -> Ingested:
    with unit_of_work(svc.sessions) as session:
        batch = session.get(BatchRow, batch_id)
        if batch is None:
            raise ValueError(f"no batch {batch_id}")
        unit = unit or batch.unit_code
        dossier = dossier or batch.dossier
        existing = find_by_sha256(session, sha256)
        if existing is not None and not _may_see(principal, existing):
            return _refuse_hidden(session, batch_id, filename, existing, actor)
        if existing is not None:
            if (
                existing.status == Status.failed.value
                and (principal is None or principal.may_use_unit(existing.unit_code))
                and requeue(session, existing.id, actor)
            ):
                # The same file again after a failure: a retry, with today's code.
                doc_id = existing.id
                after_commit(session, lambda: enqueue(doc_id))
                status = Status.queued
            else:
                status = Status(existing.status)
            _add_entry(
                session, batch_id, filename, EntryOutcome.duplicate,
                document_id=existing.id, sha256=sha256,
            )  # fmt: skip
            audit(
                session,
                actor,
                "document.duplicate",
                document_id=existing.id,
                batch_id=batch_id,
                detail={"filename": filename},
            )
            return Ingested(filename, EntryOutcome.duplicate, existing.id, status)

        code: ErrorCode | None = None
        if size == 0:
            code = ErrorCode.empty_file
        elif media_type is None:
            code = ErrorCode.unsupported_type
        doc = DocumentRow(
            id=new_id(),
            batch_id=batch_id,
            unit_code=unit,
            dossier=dossier,
            dossier_ordinal=place_in_dossier(session, dossier, ordinal) if dossier else None,
            split_from=split_from[:300] if split_from else None,
            filename=clean_filename(filename),
            sha256=sha256,
            media_type=media_type,
            size=size,
            status=Status.failed.value if code else Status.queued.value,
            error_code=code.value if code else None,
            error_message=f"{error_message(code, 'en')}: {filename}" if code else None,
        )
        session.add(doc)
        session.flush()  # the unique sha256 is checked here, inside the retry loop
        _add_entry(
            session, batch_id, filename, EntryOutcome.accepted, document_id=doc.id, sha256=sha256
        )
        audit(
            session,
            actor,
            "document.upload",
            document_id=doc.id,
            batch_id=batch_id,
            detail={"filename": filename, "sha256": sha256, "size": size},
        )
        if code is None:
            doc_id = doc.id
            after_commit(session, lambda: enqueue(doc_id))
        else:  # failed at the door: subscribers hear of it like any other failure
            record_changed(session, doc.id, RecordEvent.failed)
        return Ingested(filename, EntryOutcome.accepted, doc.id, Status(doc.status), code)
