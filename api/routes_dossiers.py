"""Dossiers (hồ sơ): the archive's catalogue, loaded from its mục lục, and each dossier with
what its documents say so far."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import RecordsReader, RecordsWriter, forbidden
from api.deps import ServicesDep
from schemas.auth import Principal
from store import unit_of_work
from store.dossiers.catalog import CatalogError, parse_catalog
from store.dossiers.registry import DossierSummary, get_dossier, list_dossiers, load_catalog
from store.units import unit_exists
from worker.services import Services

router = APIRouter(prefix="/api/v1", tags=["dossiers"])

#: a catalogue of a whole fonds is a few MB; more is no catalogue
MAX_CATALOG_BYTES = 20 * 1024 * 1024


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
