"""The web pages for archive staff and supervisors: server-rendered HTML (Jinja2), a little
plain JavaScript from /static, no build step and nothing fetched from the internet.

A page asks who is calling from the `sohoa_session` cookie (the same web session the API
accepts); without one it redirects to `/login?next=<this page>`. Each page checks the scope
its data needs and answers 403 otherwise, so a person sees only what their role may. Pages
read the database through `store` like the API does, with the same visibility rule; what a
page changes goes through the API (fetch with the `X-CSRF-Token` header).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ServicesDep
from api.i18n import (
    LANG_COOKIE,
    MESSAGES,
    Translator,
    pick_lang,
    review_reason_text,
    translate,
)
from api.web_common import (
    error_page,
    guard,
    home_of,
    page_lang,
    page_principal,
    render,
    safe_next,
    to_login,
    unit_names,
    units_for,
)
from classify.document import DESCRIPTIVE_FIELDS, KEY_FIELDS, REVIEW_BELOW
from schemas.auth import Scope
from schemas.plan import DayCount, Progress
from schemas.record import Status
from schemas.vocab import document_types
from store import unit_of_work
from store.batches.progress import batch_progress, list_batches
from store.planning.progress import compute_progress
from store.platform.models import DocumentRow
from store.records.corrections import document_corrections
from store.records.documents import pages_of
from store.records.reads import build_record
from store.records.review import review_queue

router = APIRouter(include_in_schema=False)

#: files sent per upload request (each request makes one batch)
UPLOAD_GROUP = 20
#: pages a record page shows as images (the PDF has them all)
RECORD_PAGES_SHOWN = 30
#: pages of the record under review shown beside its fields
REVIEW_PAGES_SHOWN = 10
#: days in the dashboard's chart
CHART_DAYS = 30
#: characters of search words a page keeps (the API refuses longer queries)
MAX_QUERY = 500


# --- login, language -----------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, svc: ServicesDep, next: str | None = None) -> Response:
    target = safe_next(next)
    principal = page_principal(request, svc)
    if principal is not None:
        return RedirectResponse(target if target != "/" else home_of(principal), 303)
    return render(request, svc, "login.html", None, page="login", next=target)


@router.get("/lang/{code}")
def set_language(code: str, next: str | None = None) -> Response:
    """Switch the language of the pages (a cookie; the page is shown again)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE, pick_lang(code), max_age=365 * 24 * 3600, samesite="lax", path="/"
    )
    return response


@router.get("/")
def home(request: Request, svc: ServicesDep) -> Response:
    principal = page_principal(request, svc)
    if principal is None:
        return to_login(request)
    return RedirectResponse(home_of(principal), status_code=303)


# --- dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    pages: int
    documents: int
    weekend: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    top: int
    bottom: int
    left: int
    bars: list[Bar]
    peak: int
    ticks: list[tuple[float, str]]
    start: date
    end: date
    total: int


def day_chart(days: list[DayCount], end: date, count: int = CHART_DAYS) -> Chart:
    """Bars of pages per calendar day for the `count` days up to `end` (SVG units)."""
    width, height, top, bottom, left = 640, 220, 16, 28, 40
    start = end - timedelta(days=count - 1)
    by_day = {d.day: d for d in days if start <= d.day <= end}
    peak = max((d.pages for d in by_day.values()), default=0)
    plot_w, plot_h = width - left - 8, height - top - bottom
    step = plot_w / count
    bars, ticks = [], []
    for i in range(count):
        day = start + timedelta(days=i)
        found = by_day.get(day)
        pages = found.pages if found else 0
        bar_h = plot_h * pages / peak if peak else 0.0
        x = left + i * step
        bars.append(
            Bar(
                x=round(x + step * 0.15, 2),
                y=round(top + plot_h - bar_h, 2),
                width=round(step * 0.7, 2),
                height=round(bar_h, 2),
                day=day,
                pages=pages,
                documents=found.documents if found else 0,
                weekend=day.weekday() >= 5,
            )
        )
        if (count - 1 - i) % 7 == 0:
            ticks.append((round(x + step / 2, 2), day.strftime("%d/%m")))
    return Chart(
        width=width, height=height, top=top, bottom=bottom, left=left, bars=bars, peak=peak,
        ticks=ticks, start=start, end=end, total=sum(b.pages for b in bars),
    )  # fmt: skip


def _bar_width(share: float | None) -> float:
    return round(min(1.0, max(0.0, share or 0.0)) * 100, 2)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, svc: ServicesDep) -> Response:
    principal = guard(request, svc, Scope.reports_read)
    if isinstance(principal, Response):
        return principal
    with unit_of_work(svc.sessions) as session:
        progress: Progress = compute_progress(session, units=principal.units)
    chart = day_chart(progress.by_day, progress.as_of)
    return render(
        request, svc, "dashboard.html", principal, page="dashboard",
        progress=progress, chart=chart, bar_width=_bar_width,
        units=progress.units, totals=progress.totals,
    )  # fmt: skip


# --- upload and batches --------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, svc: ServicesDep) -> Response:
    principal = guard(request, svc, Scope.batches_write)
    if isinstance(principal, Response):
        return principal
    with unit_of_work(svc.sessions) as session:
        units = units_for(session, principal)
    return render(
        request, svc, "upload.html", principal, page="upload", units=units, group=UPLOAD_GROUP
    )


@router.get("/batches", response_class=HTMLResponse)
def batches_page(request: Request, svc: ServicesDep) -> Response:
    principal = guard(request, svc, Scope.batches_read)
    if isinstance(principal, Response):
        return principal
    with unit_of_work(svc.sessions) as session:
        batches, _ = list_batches(session, principal, limit=100)
        names = unit_names(session)
    return render(
        request, svc, "batches.html", principal, page="batches", batches=batches, names=names
    )


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(batch_id: str, request: Request, svc: ServicesDep) -> Response:
    principal = guard(request, svc, Scope.batches_read)
    if isinstance(principal, Response):
        return principal
    if len(batch_id) > 64:
        return error_page(request, svc, principal, 404)
    with unit_of_work(svc.sessions) as session:
        batch = batch_progress(session, batch_id)
        names = unit_names(session)
    if batch is None or not principal.may_use_unit(batch.unit):
        return error_page(request, svc, principal, 404)
    return render(
        request, svc, "batch.html", principal, page="batch", batch=batch, names=names,
        may_retry=principal.has(Scope.batches_write), statuses=list(Status),
        failed=batch.counts.get(Status.failed, 0),
    )  # fmt: skip


# --- review --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewField:
    name: str
    value: Any
    confidence: float | None
    uncertain: bool
    kind: str  # text, textarea, date, select
    choices: list[tuple[str, str]]


_TEXT_FIELDS = ("number", "place", "issuer", "signer", "signer_title")


def review_fields(
    document: dict[str, Any], classification: dict[str, Any], t: Translator
) -> list[ReviewField]:
    """The editable fields of a record, each with how sure the machine was of it."""
    confidence: dict[str, float] = classification.get("field_confidence") or {}

    def field(name: str, kind: str, choices: list[tuple[str, str]] | None = None) -> ReviewField:
        conf = confidence.get(name)
        value = document.get(name)
        unsure = (conf is not None and conf < REVIEW_BELOW) or (
            name in (*KEY_FIELDS, *DESCRIPTIVE_FIELDS) and value in (None, "")
        )
        return ReviewField(name, value, conf, unsure, kind, choices or [])

    types = [("", t("type.none"))] + [(c, d.name) for c, d in document_types().items()]
    secrecy = [("", t("secrecy.none"))] + [
        (c, t(f"secrecy.{c}")) for c in ("mat", "toi_mat", "tuyet_mat")
    ]
    urgency = [("", t("urgency.none"))] + [
        (c, t(f"urgency.{c}")) for c in ("khan", "thuong_khan", "hoa_toc")
    ]
    return [
        field("type", "select", types),
        field("number", "text"),
        field("issued_on", "date"),
        field("issuer", "text"),
        field("subject", "textarea"),
        field("place", "text"),
        field("signer", "text"),
        field("signer_title", "text"),
        field("secrecy", "select", secrecy),
        field("urgency", "select", urgency),
    ]


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, svc: ServicesDep, id: str | None = None) -> Response:
    principal = guard(request, svc, Scope.records_read, Scope.records_write)
    if isinstance(principal, Response):
        return principal
    t = Translator(page_lang(request))
    with unit_of_work(svc.sessions) as session:
        queue = list(review_queue(session, principal))
        ids = [d.id for d in queue]
        index = ids.index(id) if id in ids else 0
        current = queue[index] if queue else None
        context: dict[str, Any] = {"queue": queue, "index": index, "current": current}
        if current is not None:
            record = build_record(current, list(pages_of(session, current.id)))
            classification = current.classification or {}
            context.update(
                record=record,
                fields=review_fields(record.document.model_dump(mode="json"), classification, t),
                reasons=[
                    review_reason_text(r, t.lang) for r in classification.get("reasons") or []
                ],
                prev_id=ids[index - 1] if index > 0 else None,
                next_id=ids[index + 1] if index + 1 < len(ids) else None,
                page_numbers=list(range(1, min(record.source.pages or 0, REVIEW_PAGES_SHOWN) + 1)),
            )
        names = unit_names(session)
    return render(request, svc, "review.html", principal, page="review", names=names, **context)


# --- search and records --------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    svc: ServicesDep,
    q: str | None = None,
    unit: str | None = None,
    status: str | None = None,
) -> Response:
    principal = guard(request, svc, Scope.records_read)
    if isinstance(principal, Response):
        return principal
    with unit_of_work(svc.sessions) as session:
        units = units_for(session, principal)
    return render(
        request, svc, "search.html", principal, page="search", q=(q or "")[:MAX_QUERY],
        units=units, unit=unit if unit in {u.code for u in units} else "",
        status=status if status in Status._value2member_map_ else "",
        statuses=list(Status),
    )  # fmt: skip


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    record_id: str, request: Request, svc: ServicesDep, q: str | None = None
) -> Response:
    principal = guard(request, svc, Scope.records_read)
    if isinstance(principal, Response):
        return principal
    if len(record_id) > 64:
        return error_page(request, svc, principal, 404)
    with unit_of_work(svc.sessions) as session:
        doc = session.get(DocumentRow, record_id)
        secrecy = None if doc is None else doc.secrecy or (doc.document or {}).get("secrecy")
        if doc is None or not principal.may_see(doc.unit_code, secrecy):
            return error_page(request, svc, principal, 404)
        record = build_record(doc, list(pages_of(session, record_id)))
        history = document_corrections(session, record_id)
        names = unit_names(session)
        waiting = doc.status == Status.needs_review.value
    has_content = record.status in (Status.digitized, Status.needs_review)
    shown = min(len(record.pages), RECORD_PAGES_SHOWN) if has_content else 0
    return render(
        request, svc, "record.html", principal, page="record", record=record,
        history=history, names=names, q=(q or "")[:MAX_QUERY], has_content=has_content,
        pages=record.pages[:shown], total_pages=len(record.pages),
        may_review=waiting and principal.has(Scope.records_write),
        field_label=lambda name: _field_label(name, page_lang(request)),
    )  # fmt: skip


def _field_label(name: str, lang: str) -> str:
    key = f"field.{name}"
    return translate(key, lang) if key in MESSAGES else name
