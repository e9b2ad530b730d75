"""What every web page shares: templates and static files, the security headers, who is
calling (the session cookie), the navigation for their role, rendering a page, the scope
check that answers 403 or sends to the login page, and the units a person may use."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from api.auth import SESSION_COOKIE
from api.deps import ServicesDep
from api.i18n import (
    LANG_COOKIE,
    Translator,
    fmt_date,
    fmt_datetime,
    fmt_number,
    fmt_percent,
    fmt_size,
    js_messages,
    pick_lang,
    role_label,
)
from schemas.auth import Principal, Scope
from schemas.unit import Unit
from store import unit_of_work
from store.accounts.auth import session_principal
from store.accounts.units import list_units
from store.records.review import review_count

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: pages use only their own scripts and styles: no inline script, no inline style, no frame
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def safe_next(value: str | None, default: str = "/") -> str:
    """`value` when it is a path on this site, else `default` (no open redirect)."""
    if not value or len(value) > 2000:
        return default
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    if parts.path in ("/login", "/logout") or parts.path.startswith("/lang/"):
        return default
    return value


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@cache
def _static_version(name: str) -> str:
    path = STATIC / name
    if not path.is_file():
        return "0"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """The URL of a static file, with its content hash so browsers never run stale code."""
    return f"/static/{name}?v={_static_version(name)}"


def page_lang(request: Request) -> str:
    return pick_lang(request.cookies.get(LANG_COOKIE))


def page_principal(request: Request, svc: ServicesDep) -> Principal | None:
    """The person of the request's web session, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with unit_of_work(svc.sessions) as session:
        return session_principal(session, cookie)


def to_login(request: Request) -> RedirectResponse:
    query = urlencode({"next": safe_next(_here(request))})
    return RedirectResponse(f"/login?{query}", status_code=303)


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    scope: Scope
    badge: int | None = None


NAV = (
    NavItem("nav.dashboard", "/dashboard", Scope.reports_read),
    NavItem("nav.upload", "/upload", Scope.batches_write),
    NavItem("nav.batches", "/batches", Scope.batches_read),
    NavItem("nav.dossiers", "/dossiers", Scope.records_read),
    NavItem("nav.review", "/review", Scope.records_write),
    NavItem("nav.search", "/search", Scope.records_read),
)


def _nav(svc: ServicesDep, principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    items = []
    for item in NAV:
        if not principal.has(item.scope):
            continue
        if item.href == "/review":
            with unit_of_work(svc.sessions) as session:
                item = NavItem(item.key, item.href, item.scope, review_count(session, principal))
        items.append(item)
    return items


def home_of(principal: Principal) -> str:
    """Where a person starts: supervisors on the dashboard, staff on the upload page."""
    if principal.has(Scope.reports_read):
        return "/dashboard"
    if principal.has(Scope.batches_write):
        return "/upload"
    return "/search"


def render(
    request: Request,
    svc: ServicesDep,
    template: str,
    principal: Principal | None,
    *,
    page: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = page_lang(request)
    here = _here(request)
    html = _env.get_template(template).render(
        lang=lang,
        t=Translator(lang),
        page=page,
        here=here,
        lang_links={code: f"/lang/{code}?{urlencode({'next': here})}" for code in ("vi", "en")},
        principal=principal,
        role=role_label(principal.role, lang) if principal and principal.role else "",
        csrf_token=principal.csrf_token if principal else None,
        nav=_nav(svc, principal),
        static=static_url,
        js=js_messages(lang),
        fmt_date=fmt_date,
        fmt_datetime=fmt_datetime,
        num=lambda value, digits=0: fmt_number(value, lang, digits),
        pct=lambda share, digits=1: fmt_percent(share, lang, digits),
        size=lambda value: fmt_size(value, lang),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def error_page(
    request: Request, svc: ServicesDep, principal: Principal | None, status_code: int
) -> HTMLResponse:
    return render(
        request, svc, "error.html", principal, page="error", status_code=status_code,
        code=status_code,
    )  # fmt: skip


def guard(request: Request, svc: ServicesDep, *scopes: Scope) -> Principal | Response:
    """The person, or the response to send instead: the login page, or 403."""
    principal = page_principal(request, svc)
    if principal is None:
        return to_login(request)
    if not all(principal.has(s) for s in scopes):
        return error_page(request, svc, principal, 403)
    return principal


def units_for(session: Session, principal: Principal) -> list[Unit]:
    units = list_units(session)
    if principal.units is None:
        return units
    return [u for u in units if u.code in principal.units]


def unit_names(session: Session) -> dict[str, str]:
    return {u.code: u.name for u in list_units(session)}
