"""The web pages of dossiers (hồ sơ): the list with each dossier's totals and the form that
loads a mục lục, and a dossier's page — its TT 05/2025 fields, its documents in order, what
still needs review, the packages to export and the form that moves a document.

Same rules as the other pages (api/web.py): the web session, the scope each page needs, a
person limited to some units sees only their dossiers (another unit's dossier is "not found",
like one that does not exist). What a page changes goes through the API: the mục lục to
`POST /api/v1/dossiers/catalog`, a move to `PUT /api/v1/records/{id}/placement`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.web_common import error_page, guard, render, unit_names, units_for
from schemas.auth import Scope
from schemas.dossier import Dossier, PackageKind
from schemas.tt05 import label
from store import unit_of_work
from store.dossiers.contents import dossier_contents
from store.dossiers.registry import DossierSummary, get_dossier, list_dossiers

router = APIRouter(include_in_schema=False)

#: dossiers a list page shows; the next ones are a link away (`after`)
PAGE_SIZE = 200
#: a dossier code is at most this long (TT 05: string 100)
MAX_CODE = 100


@dataclass(frozen=True)
class FieldLine:
    """One TT 05 field of the dossier as the page shows it: its XML name, its value."""

    name: str  # the TT 05 XML element name, also the label's key
    value: str


def _coded(value: StrEnum | None) -> str:
    return f"{value.value} — {label(value)}" if value is not None else ""


def tt05_fields(summary: DossierSummary) -> list[FieldLine]:
    """The dossier's 18 TT 05/2025 elements, in the circular's order; totals and dates from
    its documents."""
    d: Dossier = summary.fields
    lines = [
        ("fileCode", d.file_code),
        ("title", d.title),
        ("maintenance", _coded(d.maintenance)),
        ("mode", _coded(d.mode)),
        ("language", ", ".join(_coded(lang) for lang in d.languages)),
        ("startDate", summary.start_date.strftime("%d/%m/%Y") if summary.start_date else ""),
        ("endDate", summary.end_date.strftime("%d/%m/%Y") if summary.end_date else ""),
        ("keyword", d.keyword or ""),
        ("totalDoc", str(summary.documents)),
        ("numberOfPaper", str(d.number_of_paper) if d.number_of_paper is not None else ""),
        ("numberOfPage", str(summary.pages)),
        ("format", _coded(d.format)),
        ("inforSign", d.infor_sign or ""),
        ("confidenceLevel", _coded(d.confidence_level)),
        ("paperFileCode", d.paper_file_code or ""),
        ("riskRecovery", "1" if d.risk_recovery else "0"),
        ("riskRecoveryStatus", _coded(d.risk_recovery_status)),
        ("description", d.description or ""),
    ]
    return [FieldLine(name, value) for name, value in lines]


def ready_to_export(summary: DossierSummary) -> bool:
    """A package is made of digitized, reviewed documents only (the API answers 409 else)."""
    return (
        summary.documents > 0
        and summary.digitized == summary.documents
        and summary.needs_review == 0
    )


@router.get("/dossiers", response_class=HTMLResponse)
def dossiers_page(request: Request, svc: ServicesDep, after: str | None = None) -> Response:
    principal = guard(request, svc, Scope.records_read)
    if isinstance(principal, Response):
        return principal
    after = after[:MAX_CODE] if after else None
    with unit_of_work(svc.sessions) as session:
        dossiers = list_dossiers(session, units=principal.units, limit=PAGE_SIZE, after=after)
        names = unit_names(session)
        units = units_for(session, principal)
    return render(
        request, svc, "dossiers.html", principal, page="dossiers", dossiers=dossiers,
        names=names, units=units, may_load=principal.has(Scope.records_write),
        next_after=dossiers[-1].file_code if len(dossiers) == PAGE_SIZE else None,
    )  # fmt: skip


@router.get("/dossiers/{file_code}", response_class=HTMLResponse)
def dossier_page(file_code: str, request: Request, svc: ServicesDep) -> Response:
    principal = guard(request, svc, Scope.records_read)
    if isinstance(principal, Response):
        return principal
    if len(file_code) > MAX_CODE:
        return error_page(request, svc, principal, 404)
    with unit_of_work(svc.sessions) as session:
        summary = get_dossier(session, file_code, units=principal.units)
        if summary is None:
            return error_page(request, svc, principal, 404)
        contents = dossier_contents(session, file_code, secrets=principal.may_see_secret)
        names = unit_names(session)
        may_move = principal.has(Scope.records_write)
        others = list_dossiers(session, units=principal.units, limit=PAGE_SIZE) if may_move else []
    return render(
        request, svc, "dossier.html", principal, page="dossier", dossier=summary,
        fields=tt05_fields(summary), contents=contents, names=names, may_move=may_move,
        codes=[d.file_code for d in others], kinds=list(PackageKind),
        ready=ready_to_export(summary),
    )  # fmt: skip
