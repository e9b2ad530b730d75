"""Logging in and out of the web interface; who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from api.auth import SESSION_COOKIE, Caller, unauthorized
from api.deps import ServicesDep
from schemas.auth import Principal, Role, Scope
from store import unit_of_work
from store.accounts.auth import (
    check_password,
    close_session,
    login_wait,
    note_login_failure,
    open_session,
    user_principal,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    kind: str
    name: str
    role: Role | None
    scopes: list[Scope]
    units: list[str] | None = Field(description="Units the caller is limited to; null: all")
    csrf_token: str | None = Field(
        default=None, description="Send it back as X-CSRF-Token on every change (web sessions)"
    )


def _me(principal: Principal) -> Me:
    return Me(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        scopes=sorted(principal.scopes),
        units=None if principal.units is None else sorted(principal.units),
        csrf_token=principal.csrf_token,
    )


@router.post(
    "/login",
    response_model=Me,
    responses={
        401: {"description": "Wrong credentials"},
        429: {"description": "Too many failed logins for this user name; see Retry-After"},
    },
)
def login(body: Login, request: Request, response: Response, svc: ServicesDep) -> Me:
    """Password login: sets an HttpOnly session cookie and returns the CSRF token.

    After 5 failures in 15 minutes for one user name from one client (30 from anywhere),
    the name is refused with 429 until the oldest failure is 15 minutes old, the right
    password included."""
    client = request.client.host if request.client else None
    with unit_of_work(svc.sessions) as session:
        wait = login_wait(session, body.username, client)
        if wait:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "Quá nhiều lần đăng nhập sai; hãy thử lại sau. "
                "Too many failed logins; try again later.",
                headers={"Retry-After": str(wait)},
            )
        user = check_password(session, body.username, body.password)
        lifetime = timedelta(hours=svc.settings.session_hours)
        if user is None:
            note_login_failure(session, body.username, client)  # committed: the throttle counts it
        else:
            session_id, csrf = open_session(session, user, lifetime)
            principal = user_principal(user, csrf_token=csrf)
    if user is None:
        raise unauthorized("wrong user name or password")
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        secure=svc.settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    return _me(principal)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    _: Caller,
    svc: ServicesDep,
    sohoa_session: Annotated[str | None, Cookie()] = None,
) -> Response:
    if sohoa_session:
        with unit_of_work(svc.sessions) as session:
            close_session(session, sohoa_session)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(principal: Caller) -> Me:
    return _me(principal)
