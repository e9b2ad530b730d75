"""Who is calling: bearer tokens for services, a session cookie for people in a browser.

Every route but health declares what it needs with `Caller`, `require(scope)` or
`require_role(role)`. A request without valid credentials gets 401; with credentials but not
the right to the route, 403. A browser session must echo its CSRF token in the
`X-CSRF-Token` header on every request that changes something (bearer tokens are not sent
by browsers on their own, so they need none).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated

from cachetools import TTLCache
from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from schemas.auth import Principal, Role, Scope
from store import unit_of_work
from store.accounts.auth import session_principal, token_principal
from store.services import Services, services

SESSION_COOKIE = "sohoa_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared as security schemes so the OpenAPI document says how to authenticate.
_bearer = HTTPBearer(auto_error=False, description="A service token from `sohoa token create`")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="A web session from POST /auth/login"
)


#: how long a process trusts a service token it has checked, without asking the database
#: again: the cost of a revocation reaching the other API processes late by this much
TOKEN_CACHE_SECONDS = 10.0
#: a process remembers this many tokens at most; the least recently used go first
_TOKEN_CACHE_SIZE = 1000
_token_cache: TTLCache[str, Principal] = TTLCache(_TOKEN_CACHE_SIZE, TOKEN_CACHE_SECONDS)
_token_cache_lock = threading.Lock()


def _cached_token(plaintext: str) -> tuple[str, Principal | None]:
    key = hashlib.sha256(plaintext.encode()).hexdigest()
    with _token_cache_lock:
        return key, _token_cache.get(key)


def _remember_token(key: str, principal: Principal) -> None:
    with _token_cache_lock:
        _token_cache[key] = principal


def forget_tokens() -> None:
    """Drop what this process remembers of tokens (after a revocation here)."""
    with _token_cache_lock:
        _token_cache.clear()


def unauthorized(detail: str = "authentication required") -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(detail: str = "not allowed") -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


_Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_Cookie = Annotated[str | None, Depends(_cookie)]


async def current_principal(request: Request, bearer: _Bearer, cookie: _Cookie) -> Principal:
    """The authenticated caller, or 401."""
    return await _authenticate(request, bearer, cookie)


async def _authenticate(
    request: Request, bearer: HTTPAuthorizationCredentials | None, cookie: str | None
) -> Principal:
    """A coroutine: a token checked a moment ago is found without leaving the event loop, and
    only a database lookup goes to a worker thread. Not a dependency of its own: each level
    of dependencies costs FastAPI work on every request, and `require` calls it directly."""
    svc = services()
    if bearer is not None:
        key, principal = _cached_token(bearer.credentials)
        if principal is None:
            principal = await run_in_threadpool(_token_principal, svc, bearer.credentials)
            if principal is None:
                raise unauthorized("invalid or expired token")
            _remember_token(key, principal)
        request.state.principal = principal
        request.state.credential = ("token", bearer.credentials)
        return principal
    if not cookie:
        raise unauthorized()
    principal = await run_in_threadpool(_session_principal, svc, cookie)
    if principal is None:
        raise unauthorized("session expired")
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise forbidden("missing or wrong CSRF token")
    request.state.principal = principal
    request.state.credential = ("session", cookie)
    return principal


async def still_authenticated(request: Request) -> bool:
    """Whether the credentials this request came with still hold, asked of the database
    (not of the token cache): a long response (an event stream) ends when its token is
    revoked or expires, its session is closed or its user deactivated."""
    credential = getattr(request.state, "credential", None)
    if credential is None:
        return False
    kind, value = credential
    lookup = _token_principal if kind == "token" else _session_principal
    return await run_in_threadpool(lookup, services(), value) is not None


def _token_principal(svc: Services, plaintext: str) -> Principal | None:
    with unit_of_work(svc.sessions) as session:
        return token_principal(session, plaintext)


def _session_principal(svc: Services, cookie: str) -> Principal | None:
    with unit_of_work(svc.sessions) as session:
        return session_principal(session, cookie)


Caller = Annotated[Principal, Depends(current_principal)]


def require(*scopes: Scope) -> Callable[[Request, _Bearer, _Cookie], Awaitable[Principal]]:
    """A dependency: the caller, who must hold every one of `scopes`."""

    async def dependency(request: Request, bearer: _Bearer, cookie: _Cookie) -> Principal:
        principal = await _authenticate(request, bearer, cookie)
        if not all(principal.has(s) for s in scopes):
            raise forbidden("missing scope " + " ".join(s.value for s in scopes))
        return principal

    return dependency


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency for people's routes (users, plan): the caller's role is one of `roles`.
    Admin tokens pass too: an operator may script administration."""

    async def dependency(principal: Caller) -> Principal:
        if principal.role in roles or (Role.admin in roles and principal.has(Scope.admin)):
            return principal
        raise forbidden("not allowed for this role")

    return dependency


RecordsReader = Annotated[Principal, Depends(require(Scope.records_read))]
RecordsWriter = Annotated[Principal, Depends(require(Scope.records_write))]
BatchesReader = Annotated[Principal, Depends(require(Scope.batches_read))]
BatchesWriter = Annotated[Principal, Depends(require(Scope.batches_write))]
ReportsReader = Annotated[Principal, Depends(require(Scope.reports_read))]
Admin = Annotated[Principal, Depends(require(Scope.admin))]
