"""One record and its resources: the record, its text, the searchable PDF, the original file,
corrections (PATCH) and their history.

Every route applies the visibility rule of `Principal.may_see`: a record the caller may not
see answers exactly like a record that does not exist. Every read by a service token is
written to the audit log (`record.read`, with what was read) in the read's own transaction,
committed before the answer leaves (`store.audit.reads`); a read whose line the database
refuses is answered 503 (`api.errors`).

Validators: the record's ETag is strong, `"<id>-v<version>-<updated µs>"`, and changes with
every change of the record (including state changes that do not bump the version). The
original's ETag is its SHA-256; the text's and PDF's are tied to the publication that wrote
them (`digitized_at`), so a correction of the fields does not invalidate a cached PDF.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from api.auth import RecordsReader, require
from api.deps import ServicesDep
from api.downloads import (
    PRIVATE,
    StoredFile,
    content_disposition,
    not_modified,
    not_modified_response,
    serve_object,
)
from api.record_access import (
    NOT_FOUND,
    document_to_change,
    micros,
    record_etag,
    refresh_quietly,
    secrecy_of,
    visible_document,
)
from schemas.auth import Principal, Scope
from schemas.record import Record, SecrecyMark, Status, UrgencyMark
from schemas.vocab import document_types
from store import ObjectNotFound, original_key, unit_of_work
from store.accounts.units import unit_exists
from store.audit.reads import ReadLine, audit_read, audited
from store.platform.models import DocumentRow
from store.records.corrections import correct_document, document_corrections
from store.records.documents import pages_of
from store.records.reads import build_record, record_data, record_steps
from store.services import Services
from worker.pipeline import record_key

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["records"])

#: the one answer for "does not exist" and "you may not see it"
_HAS_CONTENT = (Status.digitized.value, Status.needs_review.value)

RecordsCorrector = Annotated[Principal, Depends(require(Scope.records_read, Scope.records_write))]

_NOT_FOUND_DOC = {"description": "No such record, or not visible to the caller (same answer)"}
_NOT_READY_DOC = {"description": "The record is not digitized (yet): no text or PDF"}
_RANGE_DOCS: dict[int | str, dict[str, Any]] = {
    206: {"description": "One byte range (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`)"},
    304: {"description": "Not modified (If-None-Match / If-Modified-Since)"},
    404: _NOT_FOUND_DOC,
    416: {"description": "Range not satisfiable; `Content-Range: bytes */size`"},
    503: {"description": "Object storage unavailable; retry later"},
}


# --- helpers -------------------------------------------------------------------------------


def _visible_rows(
    principal: Principal, found: tuple[Any, list[Any]] | None
) -> tuple[Any, list[Any]]:
    """`visible_document` for plain rows with the pages (`store.records.reads.record_steps`)."""
    if found is None or not principal.may_see(found[0].unit_code, secrecy_of(found[0])):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return found


def _require_content(doc: DocumentRow) -> None:
    """Text and PDF exist once a record is digitized (or waits for review)."""
    if doc.status in _HAS_CONTENT:
        return
    if doc.status == Status.failed.value:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "Tài liệu số hoá không thành công: chỉ có bản gốc (/original). "
            "Digitizing failed: only the original is available.",
        )
    raise HTTPException(
        status.HTTP_409_CONFLICT,
        f"Tài liệu chưa số hoá xong (trạng thái: {doc.status}). "
        f"The record is not digitized yet (status: {doc.status}).",
    )


def _audited(principal: Principal) -> bool:
    """Reads by services are audited one by one; people's reads are not."""
    return principal.kind == "token"


def _read_line(principal: Principal, doc_id: str, what: str, response: Response) -> ReadLine | None:
    """The audit line of a read answered with `response`, if it is audited (an error
    answer read nothing)."""
    if not _audited(principal) or response.status_code >= 400:
        return None
    detail: dict[str, Any] = {"what": what, "status": response.status_code}
    if response.status_code == 206:
        detail["range"] = response.headers.get("content-range")
    return ReadLine(principal.actor, doc_id, detail)


def _record_response(record: Record, etag: str) -> Response:
    return Response(
        record.model_dump_json(),
        media_type="application/json",
        headers={"ETag": etag, "Cache-Control": PRIVATE},
    )


def _send(request: Request, svc: Services, file: StoredFile, *, redirect: bool) -> Response:
    """Redirect to a presigned URL (S3, when configured) or stream the object.

    ObjectNotFound and StorageUnavailable rise to their answers (api/errors.py)."""
    if redirect and svc.settings.download_redirect:
        if not_modified(request, file.etag, file.last_modified):
            return not_modified_response(file.etag, file.last_modified)
        ttl = timedelta(seconds=svc.settings.download_url_ttl)
        url = svc.objects.presigned_url(file.key, expires=ttl, disposition=file.disposition)
        if url is not None:  # the folder backend has none: stream instead
            return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    return serve_object(request, svc.objects, file)


# --- the record ----------------------------------------------------------------------------


@router.get(
    "/records/{record_id}",
    response_model=Record,
    responses={304: {"description": "Not modified (If-None-Match)"}, 404: _NOT_FOUND_DOC},
)
async def get_record(
    record_id: str, request: Request, svc: ServicesDep, principal: RecordsReader
) -> Response:
    """The record (the contract of record.json), with a strong `ETag`.

    Send the ETag back in `If-None-Match` to get 304 when nothing changed, and in
    `If-Match` on PATCH to reject a stale write.
    """

    def answer(found: tuple[Any, list[Any]] | None) -> tuple[Response, ReadLine | None]:
        doc, pages = _visible_rows(principal, found)
        etag = record_etag(doc)
        if not_modified(request, etag, None):
            response: Response = not_modified_response(etag, None)
        else:
            response = _record_response(Record.model_validate(record_data(doc, pages)), etag)
        return response, _read_line(principal, record_id, "record", response)

    # one query and the audit line in one transaction, sent from the event loop
    # (`store.platform.async_reads`: the record read is the most frequent call of the API)
    steps = audited(record_steps(record_id), answer)
    return await svc.async_reads.run(steps, transaction=_audited(principal))


@router.get(
    "/records/{record_id}/text",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Pages separated by form feed"},
        409: _NOT_READY_DOC,
        **_RANGE_DOCS,
    },
)
def get_text(
    record_id: str, request: Request, svc: ServicesDep, principal: RecordsReader
) -> Response:
    """The full text, UTF-8 (NFC), pages separated by a form feed (`\\f`)."""
    with unit_of_work(svc.sessions) as session:
        doc = visible_document(session, principal, record_id)
        _require_content(doc)
        file = StoredFile(
            key=record_key(doc.id, "text.txt"),
            media_type="text/plain; charset=utf-8",
            etag=f'"{doc.id}-text-{micros(doc.digitized_at)}"',
            last_modified=doc.digitized_at,
        )
        try:
            response = _send(request, svc, file, redirect=False)
        except ObjectNotFound:
            response = _text_from_pages(session, record_id, file)  # text.txt lost: the DB has it
        audit_read(session, _read_line(principal, record_id, "text", response))
    return response


def _text_from_pages(session: Session, record_id: str, file: StoredFile) -> Response:
    text = "\f".join(p.text for p in pages_of(session, record_id))
    return Response(
        text.encode("utf-8"),
        media_type=file.media_type,
        headers={"ETag": file.etag, "Cache-Control": PRIVATE},
    )


@router.get(
    "/records/{record_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The searchable PDF"},
        307: {"description": "Redirect to a short-lived presigned URL (S3, when enabled)"},
        409: _NOT_READY_DOC,
        **_RANGE_DOCS,
    },
)
def get_pdf(
    record_id: str, request: Request, svc: ServicesDep, principal: RecordsReader
) -> Response:
    """The two-layer searchable PDF (page images with the recognised text beneath)."""
    with unit_of_work(svc.sessions) as session:
        doc = visible_document(session, principal, record_id)
        _require_content(doc)
        stem = PurePosixPath(doc.filename).stem or doc.id
        file = StoredFile(
            key=record_key(doc.id, "searchable.pdf"),
            media_type="application/pdf",
            etag=f'"{doc.id}-pdf-{micros(doc.digitized_at)}"',
            last_modified=doc.digitized_at,
            disposition=content_disposition(f"{stem}.pdf", inline=True),
        )
        response = _send(request, svc, file, redirect=True)
        audit_read(session, _read_line(principal, record_id, "pdf", response))
    return response


@router.get(
    "/records/{record_id}/original",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The uploaded file"},
        307: {"description": "Redirect to a short-lived presigned URL (S3, when enabled)"},
        **_RANGE_DOCS,
    },
)
def get_original(
    record_id: str, request: Request, svc: ServicesDep, principal: RecordsReader
) -> Response:
    """The file as uploaded (also for a record whose digitizing failed); ETag = its SHA-256."""
    with unit_of_work(svc.sessions) as session:
        doc = visible_document(session, principal, record_id)
        file = StoredFile(
            key=original_key(doc.sha256),
            media_type=doc.media_type or "application/octet-stream",
            etag=f'"{doc.sha256}"',
            last_modified=doc.created_at,
            disposition=content_disposition(doc.filename or doc.id),
        )
        kept = doc.media_type is not None  # bytes of a type never accepted are not kept
        try:
            response = _send(request, svc, file, redirect=True)
        except ObjectNotFound:
            if kept:
                raise
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                "Tệp không đúng định dạng được nhận nên không được lưu giữ. "
                "The bytes of a file of unsupported type are not kept.",
            ) from None
        audit_read(session, _read_line(principal, record_id, "original", response))
    return response


# --- corrections ---------------------------------------------------------------------------


def _text(max_length: int) -> Any:
    return Field(default=None, max_length=max_length)


class RecordPatch(BaseModel):
    """Corrections: any subset of these fields. Absent fields are left alone; `null` clears a
    field. `type_label`/`archive_type_code` follow `type`, `code_number`/`code_notation`
    follow `number` unless given; the machine's `confidence` is not editable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str | None = Field(default=None, description="A code of schemas/vocab/document_types")
    number: str | None = _text(100)
    code_number: str | None = _text(50)
    code_notation: str | None = _text(100)
    issued_on: date | None = None
    place: str | None = _text(200)
    issuer: str | None = _text(500)
    subject: str | None = _text(4000)
    signer: str | None = _text(200)
    signer_title: str | None = _text(200)
    secrecy: SecrecyMark | None = None
    urgency: UrgencyMark | None = None
    unit: str | None = Field(
        default=None, max_length=64, description="Move the record to another unit"
    )

    @field_validator(
        "number", "code_number", "code_notation", "place", "issuer", "subject", "signer",
        "signer_title",
    )  # fmt: skip
    @classmethod
    def _nfc_or_null(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("control characters are not allowed")
        return unicodedata.normalize("NFC", value) or None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in document_types():
            raise ValueError("unknown document type code (see schemas/vocab/document_types.csv)")
        return value

    @field_validator("unit")
    @classmethod
    def _unit_not_null(cls, value: str | None) -> str:
        if not value:
            raise ValueError("a record cannot be taken out of every unit")
        return value

    @field_validator("issued_on")
    @classmethod
    def _plausible_date(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= date.today() + timedelta(1):
            raise ValueError("issued_on must lie between 1900-01-01 and today")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields to set, with the ones that follow `type` and `number`."""
        given = self.model_dump(exclude_unset=True)
        if "type" in given:
            known = document_types().get(given["type"] or "")
            given["type_label"] = known.name if known else None
            given["archive_type_code"] = known.archive_code if known else None
        if "number" in given:
            number = given["number"] or ""
            head, slash, tail = number.partition("/")
            given.setdefault("code_number", head.strip() or None)
            given.setdefault("code_notation", tail.strip() or None if slash else None)
        return given


@router.patch(
    "/records/{record_id}",
    response_model=Record,
    responses={
        403: {"description": "Missing scope, or not allowed to move the record to that unit"},
        404: _NOT_FOUND_DOC,
        409: {"description": "The record is still being digitized or failed"},
        412: {"description": "If-Match does not match the record's current ETag"},
        422: {"description": "Unknown field, a value the contract does not allow, unknown unit"},
    },
)
def patch_record(
    record_id: str,
    request: Request,
    svc: ServicesDep,
    principal: RecordsCorrector,
    patch: Annotated[RecordPatch, Body()],
) -> Response:
    """Correct the document fields (and the unit). Audited: who, when, old and new value.

    `If-Match` is optional but honoured: send the ETag of the GET you based the change on,
    and a record changed since answers 412 instead of being overwritten. The answer is the
    new record with its new ETag.
    """
    changes = patch.changes()
    with unit_of_work(svc.sessions) as session:
        doc = document_to_change(session, principal, record_id, request.headers.get("if-match"))
        if doc.status not in _HAS_CONTENT:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"Chỉ sửa được tài liệu đã số hoá (trạng thái: {doc.status}). "
                f"Only digitized records can be corrected (status: {doc.status}).",
            )
        new_unit = changes.get("unit")
        if new_unit is not None and new_unit != doc.unit_code:
            if not principal.may_use_unit(new_unit):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, "not allowed to move records to this unit"
                )
            if not unit_exists(session, new_unit):
                raise RequestValidationError(
                    [{"type": "value_error", "loc": ("body", "unit"),
                      "msg": f"unknown unit {new_unit!r}", "input": new_unit}]
                )  # fmt: skip
        try:
            doc = correct_document(
                session, record_id, changes, actor=principal.actor, expected_version=doc.version
            )
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from exc
        session.flush()
        record = build_record(doc, list(pages_of(session, record_id)))
        response = _record_response(record, record_etag(doc))
    refresh_quietly(svc, record_id)
    return response


class Correction(BaseModel):
    at: datetime
    actor: str = Field(description="`user:<name>` or `token:<name>`")
    field: str
    old: Any = None
    new: Any = None


@router.get(
    "/records/{record_id}/history",
    response_model=list[Correction],
    responses={404: _NOT_FOUND_DOC},
)
def get_history(record_id: str, svc: ServicesDep, principal: RecordsReader) -> Response:
    """Corrections of the record, oldest first: who, when, which field, old and new value."""
    with unit_of_work(svc.sessions) as session:
        visible_document(session, principal, record_id)
        items = [
            Correction.model_validate(c).model_dump(mode="json")
            for c in document_corrections(session, record_id)
        ]
        response = JSONResponse(items, headers={"Cache-Control": PRIVATE})
        audit_read(session, _read_line(principal, record_id, "history", response))
    return response
