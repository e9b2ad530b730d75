"""Progress toward the plan: JSON for the dashboard, XLSX and CSV for the steering committee,
and the plan and inventories that progress is measured against."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import Admin, Caller, RecordsWriter, ReportsReader, forbidden
from api.deps import ServicesDep
from schemas.auth import Principal
from schemas.plan import Inventory, Plan, Progress
from store import unit_of_work
from store.planning.plans import PlanError, current_plan, inventories, load_plan, set_inventory
from store.planning.progress import compute_progress, today_in_vietnam
from store.planning.report import report_csv, report_xlsx

router = APIRouter(prefix="/api/v1", tags=["progress"])

AsOf = Annotated[
    date | None, Query(description="Day the figures are for (default: today, Vietnam time)")
]
Window = Annotated[
    int, Query(ge=7, le=366, description="Calendar days over which the pace is measured")
]
ReportLang = Annotated[
    Literal["vi", "en"], Query(description="Language of the report: Vietnamese or English")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _progress(
    svc: ServicesDep, principal: Principal, as_of: date | None, window_days: int
) -> Progress:
    """The figures of the units the caller may see (all of them for an unlimited caller)."""
    if as_of is not None and not date(2000, 1, 1) <= as_of <= date(2100, 12, 31):
        raise HTTPException(422, "as_of out of range")
    with unit_of_work(svc.sessions) as session:
        return compute_progress(
            session, as_of=as_of, window_days=window_days, units=principal.units
        )


@router.get("/progress", response_model=Progress)
def get_progress(
    principal: ReportsReader, svc: ServicesDep, as_of: AsOf = None, window_days: Window = 28
) -> Progress:
    """Per unit, per indicator, per type, per month and per day; at-risk units first. A
    caller limited to some units sees those units only."""
    return _progress(svc, principal, as_of, window_days)


def _filename(as_of: date | None, ext: str) -> str:
    return f"bao-cao-tien-do-so-hoa-{(as_of or today_in_vietnam()).isoformat()}.{ext}"


@router.get(
    "/progress/report.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The report as a workbook"}},
)
def get_report_xlsx(
    principal: ReportsReader,
    svc: ServicesDep,
    as_of: AsOf = None,
    window_days: Window = 28,
    lang: ReportLang = "vi",
) -> Response:
    """The report: a summary sheet, one sheet per level with totals, by type, by month."""
    progress = _progress(svc, principal, as_of, window_days)
    return Response(
        report_xlsx(progress, lang),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{_filename(as_of, "xlsx")}"'},
    )


@router.get(
    "/progress/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The units' table"}},
)
def get_report_csv(
    principal: ReportsReader,
    svc: ServicesDep,
    as_of: AsOf = None,
    window_days: Window = 28,
    lang: ReportLang = "vi",
) -> Response:
    progress = _progress(svc, principal, as_of, window_days)
    return Response(
        report_csv(progress, lang).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(as_of, "csv")}"'},
    )


@router.get("/plan", response_model=Plan | None)
def get_plan(_: Caller, svc: ServicesDep) -> Plan | None:
    """The plan in force, with the inventory as it is now (null before a plan is loaded)."""
    with unit_of_work(svc.sessions) as session:
        return current_plan(session)


@router.put("/plan", response_model=Plan)
def put_plan(plan: Plan, principal: Admin, svc: ServicesDep) -> Plan:
    """Put a new plan in force (the previous ones stay in the history)."""
    with unit_of_work(svc.sessions) as session:
        load_plan(session, plan, actor=principal.actor)
        result = current_plan(session)
    assert result is not None
    return result


class InventoryChange(BaseModel):
    dossiers: int | None = Field(default=None, ge=0, le=10**12)
    documents: int | None = Field(default=None, ge=0, le=10**12)
    pages: int | None = Field(default=None, ge=0, le=10**13)
    note: str | None = Field(default=None, max_length=500)


@router.get("/progress/inventory", response_model=list[Inventory])
def get_inventory(_: Caller, svc: ServicesDep) -> list[Inventory]:
    with unit_of_work(svc.sessions) as session:
        return list(inventories(session))


@router.put("/progress/inventory/{unit}", response_model=Inventory)
def put_inventory(
    unit: Annotated[str, Path(max_length=64)],
    body: InventoryChange,
    principal: RecordsWriter,
    svc: ServicesDep,
) -> Inventory:
    """Staff update the estimate of what their unit holds on paper (audited)."""
    if not principal.may_use_unit(unit):
        raise forbidden("not allowed for this unit")
    entry = Inventory(unit=unit, **body.model_dump())
    try:
        with unit_of_work(svc.sessions) as session:
            set_inventory(session, entry, actor=principal.actor)
    except PlanError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return entry
