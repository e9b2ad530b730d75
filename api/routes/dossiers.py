"""Dossiers (hồ sơ): the archive's catalogue, loaded from its mục lục, and each dossier with
what its documents say so far."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import RecordsReader, RecordsWriter, forbidden
from api.deps import ServicesDep
from api.record_access import document_to_change, record_etag, refresh_quietly
from schemas.auth import Principal
from schemas.deliverable_errors import DeliverableErrorCode, deliverable_message
from schemas.dossier import DossierPackageInput, PackageKind
from store import unit_of_work
from store.accounts.units import unit_exists
from store.audit.trail import audit
from store.dossiers import (
    OpenPdf,
    PackageError,
    check_documents,
    package_file_name,
    package_stream,
)
from store.dossiers.catalog import CatalogError, parse_catalog
from store.dossiers.export import NoSuchDossier, digitizing_body, package_input, pdf_opener
from store.dossiers.placement import MAX_ORDINAL, place_document
from store.dossiers.registry import DossierSummary, get_dossier, list_dossiers, load_catalog
from store.records.events import RecordEvent, record_changed
from store.services import Services

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["dossiers"])

#: a catalogue of a whole fonds is a few MB; more is no catalogue
MAX_CATALOG_BYTES = 20 * 1024 * 1024
#: a package refused for these is a dossier not ready yet (409), not a broken file (422)
_NOT_READY = {DeliverableErrorCode.empty_dossier, DeliverableErrorCode.dossier_not_ready}


class RowProblemOut(BaseModel):
    line: int = Field(description="The row's line in the file (the header is a line too)")
    file_code: str | None
    reason: str


class CatalogLoad(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    problems: list[RowProblemOut] = Field(description="Rows refused, each with its reason")
    ignored_columns: list[str] = Field(description="Columns of the file that are no field")


class DossierPage(BaseModel):
    items: list[DossierSummary]
    next_after: str | None = Field(description="Send as `after` for the next page")


@router.get("/dossiers", response_model=DossierPage)
def get_dossiers(
    principal: RecordsReader,
    svc: ServicesDep,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=100, description="The last code seen")] = None,
) -> DossierPage:
    """Dossiers the caller may see (those of their units), by code, with their totals."""
    with unit_of_work(svc.sessions) as session:
        items = list_dossiers(session, units=principal.units, unit=unit, limit=limit, after=after)
    return DossierPage(items=items, next_after=items[-1].file_code if len(items) == limit else None)


@router.get(
    "/dossiers/{file_code}",
    response_model=DossierSummary,
    responses={404: {"description": "No such dossier, or not visible to the caller"}},
)
def get_one_dossier(file_code: str, principal: RecordsReader, svc: ServicesDep) -> DossierSummary:
    with unit_of_work(svc.sessions) as session:
        found = get_dossier(session, file_code, units=principal.units)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such dossier")
    return found


def _load(
    svc: Services, principal: Principal, data: bytes, name: str, unit: str | None
) -> CatalogLoad:
    try:
        catalog = parse_catalog(data, name)
    except CatalogError as exc:
        raise HTTPException(422, f"{name}: {exc}") from None
    with unit_of_work(svc.sessions) as session:
        if unit is not None and not unit_exists(session, unit):
            raise HTTPException(422, f"unknown unit {unit!r}")
        result = load_catalog(session, catalog, unit=unit, actor=principal.actor)
    return CatalogLoad(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        problems=[RowProblemOut(line=p.line, file_code=p.file_code, reason=p.reason)
                  for p in result.problems],
        ignored_columns=catalog.ignored_columns,
    )  # fmt: skip


@router.post(
    "/dossiers/catalog",
    response_model=CatalogLoad,
    responses={
        403: {"description": "Not allowed for this unit"},
        413: {"description": "The file is larger than a catalogue can be (20 MB)"},
        422: {"description": "No catalogue (not XLSX/CSV, no fileCode column), an unknown unit"},
    },
)
async def post_catalog(
    request: Request,
    principal: RecordsWriter,
    svc: ServicesDep,
    file: Annotated[UploadFile, File(description="The mục lục hồ sơ: XLSX or CSV")],
    unit: Annotated[str | None, Form(max_length=64)] = None,
) -> CatalogLoad:
    """Load a mục lục hồ sơ: every good row is created or updated by its code; every bad row
    is reported with its line and reason."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_CATALOG_BYTES + 64 * 1024:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "the file is too large")
    if unit is None and principal.units is not None and len(principal.units) == 1:
        (unit,) = principal.units  # a ward's staff load their ward's catalogue
    if not principal.may_use_unit(unit) or (unit is None and principal.units is not None):
        raise forbidden("not allowed for this unit")
    data = await file.read(MAX_CATALOG_BYTES + 1)
    if len(data) > MAX_CATALOG_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "the file is too large")
    return await run_in_threadpool(_load, svc, principal, data, file.filename or "catalog", unit)


def _prepared(
    svc: Services, principal: Principal, file_code: str
) -> tuple[DossierPackageInput, OpenPdf]:
    """The package input, checked document by document before a byte is sent (a broken
    file found halfway would leave the client with half a zip); the export audited."""
    with unit_of_work(svc.sessions) as session:
        body = digitizing_body(session, file_code, svc.settings.sign_name)
        package, ids = package_input(session, file_code, units=principal.units, archive=body)
    opener = pdf_opener(svc.objects.open, ids)
    check_documents(package, opener)
    with unit_of_work(svc.sessions) as session:
        audit(session, principal.actor, "dossier.export",
              detail={"dossier": file_code, "documents": len(ids)})  # fmt: skip
    return package, opener


@router.get(
    "/dossiers/{file_code}/package",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The package, streamed"},
        404: {"description": "No such dossier, or not visible to the caller"},
        409: {"description": "Not ready: no documents, or some not digitized and reviewed"},
        422: {"description": "A document's file is damaged or not PDF/A (named)"},
    },
)
async def get_package(
    file_code: str,
    principal: RecordsReader,
    svc: ServicesDep,
    kind: Annotated[PackageKind, Query(description="sip to hand over, aip to keep, dip")] = (
        PackageKind.sip
    ),
) -> StreamingResponse:
    """The dossier's TT 05/2025 package: its documents' PDF/A files (`<mã hồ sơ>.<n>.pdf`)
    with METS and EAD metadata (and PREMIS for an AIP), as a zip streamed as it is made."""
    try:
        package, opener = await run_in_threadpool(_prepared, svc, principal, file_code)
    except NoSuchDossier:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such dossier") from None
    except PackageError as exc:
        code = status.HTTP_409_CONFLICT if exc.code in _NOT_READY else 422
        detail = f"{deliverable_message(exc.code)} ({exc.code.value}): {exc.message}"
        raise HTTPException(code, detail) from None
    name = package_file_name(package, kind)
    return StreamingResponse(
        package_stream(package, kind, opener),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- a document's place: its dossier and số thứ tự ------------------------------------------


class PlacementIn(BaseModel):
    """Where the document goes. Ordinals are unique in a dossier: one that another document
    has is refused (409), the others are never renumbered."""

    model_config = ConfigDict(extra="forbid")

    dossier: str | None = Field(
        max_length=100,
        description="The dossier's code (mã hồ sơ); null takes the document out of any dossier",
    )
    ordinal: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ORDINAL,
        description="Số thứ tự in the dossier, from 1. Omitted: the document keeps its own "
        "when it stays in its dossier, and goes after the last one when it moves",
    )


class PlacementOut(BaseModel):
    record_id: str
    dossier: str | None
    ordinal: int | None
    arc_doc_code: str | None = Field(description="fileCode + the ordinal in 7 digits")
    previous_dossier: str | None
    previous_ordinal: int | None
    changed: bool = Field(description="False when the document was there already")
    version: int = Field(description="The record's version after the change")


#: a record.json exists from publishing (or failing) on; before, the pipeline writes it
_PUBLISHED = {"digitized", "needs_review", "failed"}


@router.put(
    "/records/{record_id}/placement",
    response_model=PlacementOut,
    responses={
        404: {"description": "No such record or dossier, or one the caller may not see "
              "(the same answer for both)"},
        409: {"description": "Another document of the dossier has that ordinal (nothing moved)"},
        412: {"description": "If-Match does not match the record's current ETag"},
        422: {"description": "An ordinal below 1 or above 9,999,999, an ordinal without a "
              "dossier, a record of one unit put in another unit's dossier"},
    },
)  # fmt: skip
def put_placement(
    record_id: Annotated[str, PathParam(max_length=64)],
    body: PlacementIn,
    request: Request,
    principal: RecordsWriter,
    svc: ServicesDep,
) -> JSONResponse:
    """Move a document to another dossier, change its số thứ tự, or take it out of its
    dossier. Audited (`document.place`: who, when, from and to). The record's version goes up
    and its subscribers hear `record.updated`; `If-Match` is honoured as on PATCH."""
    with unit_of_work(svc.sessions) as session:
        doc = document_to_change(session, principal, record_id, request.headers.get("if-match"))
        placed = place_document(
            session, doc, body.dossier, body.ordinal, actor=principal.actor, units=principal.units
        )
        if placed.changed:
            record_changed(session, record_id, RecordEvent.updated)
        session.flush()
        out = PlacementOut(
            record_id=record_id, dossier=placed.dossier, ordinal=placed.ordinal,
            arc_doc_code=placed.arc_doc_code, previous_dossier=placed.previous_dossier,
            previous_ordinal=placed.previous_ordinal, changed=placed.changed, version=doc.version,
        )  # fmt: skip
        etag = record_etag(doc)
        published = doc.status in _PUBLISHED
    if placed.changed and published:
        refresh_quietly(svc, record_id)
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": etag})
