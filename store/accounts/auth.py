"""Accounts, service tokens and web sessions.

Passwords are hashed with Argon2id. Tokens and session ids are 256-bit random strings, so a
plain SHA-256 of them is what is stored (a slow hash would add nothing but latency to every
request); the plaintext is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, literal_column, select, update
from sqlalchemy.orm import Session

from schemas.auth import ROLE_SCOPES, Principal, Role, Scope, TokenOut, UserOut, parse_scopes
from store.accounts.units import unit_exists
from store.audit.trail import audit
from store.platform.db import rowcount
from store.platform.models import ApiTokenRow, AuditRow, UserRow, WebSessionRow, utcnow

TOKEN_PREFIX = "sohoa_"
#: a last-used time is written at most this often, so reads do not all become writes
_TOUCH_EVERY = timedelta(minutes=5)

_hasher = PasswordHasher()
#: verified against when the user does not exist, so the answer takes as long either way
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AuthError(Exception):
    """A user or token cannot be created as asked (unknown unit, bad role, …)."""


class AccountExists(AuthError):
    """A user of that name exists already."""


class NoSuchAccount(AuthError, KeyError):
    """No user of that name.

    Also a KeyError: callers that looked a user up by name treated a missing one as one.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_units(session: Session, units: Iterable[str]) -> list[str]:
    result = sorted(set(units))
    for code in result:
        if not unit_exists(session, code):
            raise AuthError(f"unknown unit {code!r}")
    return result


# --- users -----------------------------------------------------------------------------------


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    units: Iterable[str] = (),
    full_name: str | None = None,
    actor: str = "cli",
) -> UserRow:
    username = username.strip()
    if not username or len(username) > 100:
        raise AuthError("a user name has 1 to 100 characters")
    if len(password) < 8:
        raise AuthError("a password has at least 8 characters")
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise AccountExists(f"user {username!r} exists")
    unit_list = _check_units(session, units)
    if role == Role.staff and not unit_list:
        raise AuthError("staff work for at least one unit (--unit)")
    user = UserRow(
        username=username,
        full_name=full_name,
        password_hash=_hasher.hash(password),
        role=role.value,
        units=unit_list,
        active=True,
    )
    session.add(user)
    session.flush()
    audit(session, actor, "user.create", detail={"username": username, "role": role.value})
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> None:
    if len(password) < 8:
        raise AuthError("a password has at least 8 characters")
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise NoSuchAccount(f"no user {username!r}")
    user.password_hash = _hasher.hash(password)
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
    audit(session, actor, "user.password", detail={"username": username})


def check_password(session: Session, username: str, password: str) -> UserRow | None:
    """The active user with this name and password, or None (same time either way)."""
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    hashed = user.password_hash if user is not None and user.active else _DUMMY_HASH
    try:
        _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


#: failed logins are counted over this window (from the audit log, so across processes)
LOGIN_WINDOW = timedelta(minutes=15)
#: failures allowed in the window from one client for one user name: guessing from one place
LOGIN_FAILURES_PER_CLIENT = 5
#: failures allowed in the window for one user name from anywhere: guessing from many places
#: (higher, so that guessing from elsewhere does not easily lock the person out)
LOGIN_FAILURES_PER_USER = 30
LOGIN_FAILED = "user.login_failed"


def _login_actor(username: str) -> str:
    return "login:" + username[:94]


def note_login_failure(session: Session, username: str, client: str | None) -> None:
    """Record a failed login (in the audit log, which the throttle reads)."""
    audit(session, _login_actor(username), LOGIN_FAILED, detail={"client": client})


def login_wait(session: Session, username: str, client: str | None) -> int:
    """Seconds before `username` may try again from `client` (0: now): once the failures in
    `LOGIN_WINDOW` reach a limit, until the oldest of them leaves the window. Checked
    before the password, so guessing also costs no hashing."""
    since = utcnow() - LOGIN_WINDOW
    rows = session.execute(
        select(AuditRow.at, AuditRow.detail)
        .where(
            AuditRow.at >= since,
            # a literal, so the partial index of failures (migration 0008) is seen to apply
            AuditRow.action == literal_column(f"'{LOGIN_FAILED}'"),
            AuditRow.actor == _login_actor(username),
        )
        .order_by(AuditRow.at.desc())
        .limit(LOGIN_FAILURES_PER_USER)
    ).all()
    mine = [at for at, detail in rows if (detail or {}).get("client") == client]
    for times, limit in (
        (mine, LOGIN_FAILURES_PER_CLIENT),
        ([r[0] for r in rows], LOGIN_FAILURES_PER_USER),
    ):
        if len(times) >= limit:
            free_at = times[limit - 1] + LOGIN_WINDOW
            return max(1, int((free_at - utcnow()).total_seconds()) + 1)
    return 0


def user_principal(user: UserRow, csrf_token: str | None = None) -> Principal:
    role = Role(user.role)
    return Principal(
        kind="user",
        name=user.username,
        role=role,
        scopes=ROLE_SCOPES[role],
        units=frozenset(user.units or ()) if role == Role.staff else None,
        csrf_token=csrf_token,
    )


def list_users(session: Session) -> Sequence[UserOut]:
    rows = session.scalars(select(UserRow).order_by(UserRow.username)).all()
    return [user_out(r) for r in rows]


# --- service tokens --------------------------------------------------------------------------


def create_token(
    session: Session,
    name: str,
    scopes: Iterable[str],
    *,
    units: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    actor: str = "cli",
) -> tuple[str, ApiTokenRow]:
    """A new token: (the plaintext, shown only now; its row)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AuthError("a token name has 1 to 100 characters")
    try:
        scope_set = parse_scopes(scopes)
    except ValueError as exc:
        raise AuthError(str(exc)) from None
    if not scope_set:
        raise AuthError("a token needs at least one scope")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=name,
        token_hash=_digest(plaintext),
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        scopes=sorted(s.value for s in scope_set),
        units=None if units is None else _check_units(session, units),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "token.create",
        detail={"token_id": row.id, "name": name, "scopes": row.scopes, "units": row.units},
    )
    return plaintext, row


def token_principal(session: Session, plaintext: str) -> Principal | None:
    """The caller a bearer token stands for, or None when it is unknown, revoked or expired."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(plaintext)))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        session.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == row.id).values(last_used_at=now)
        )
    scopes = frozenset(Scope(s) for s in row.scopes if s in Scope._value2member_map_)
    return Principal(
        kind="token",
        name=row.name,
        scopes=scopes,
        units=None if row.units is None else frozenset(row.units),
    )


def revoke_token(session: Session, token_id: int, *, actor: str) -> bool:
    result = session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if rowcount(result):
        audit(session, actor, "token.revoke", detail={"token_id": token_id})
    return bool(rowcount(result))


def list_tokens(session: Session) -> Sequence[TokenOut]:
    rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)).all()
    return [token_out(r) for r in rows]


# --- web sessions ----------------------------------------------------------------------------


def open_session(session: Session, user: UserRow, lifetime: timedelta) -> tuple[str, str]:
    """A new browser session: (the cookie value, the CSRF token pages must echo)."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = utcnow()
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
    session.add(
        WebSessionRow(
            id_hash=_digest(session_id),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    audit(session, f"user:{user.username}", "user.login")
    return session_id, csrf


def session_principal(session: Session, session_id: str) -> Principal | None:
    if not session_id or len(session_id) > 200:
        return None
    row = session.get(WebSessionRow, _digest(session_id))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    return user_principal(user, csrf_token=row.csrf_token)


def close_session(session: Session, session_id: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == _digest(session_id)))


def update_user(
    session: Session,
    username: str,
    *,
    actor: str,
    role: Role | None = None,
    units: Iterable[str] | None = None,
    active: bool | None = None,
    full_name: str | None = None,
) -> UserRow:
    """Change a person's role, units or state; disabling logs them out everywhere."""
    user = session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None:
        raise NoSuchAccount(f"no user {username!r}")
    changes: dict[str, object] = {}
    if role is not None and role.value != user.role:
        changes["role"] = {"old": user.role, "new": role.value}
        user.role = role.value
    if units is not None:
        new_units = _check_units(session, units)
        if new_units != sorted(user.units or []):
            changes["units"] = {"old": user.units, "new": new_units}
            user.units = new_units
    if full_name is not None and full_name != user.full_name:
        changes["full_name"] = {"old": user.full_name, "new": full_name}
        user.full_name = full_name
    if active is not None and active != user.active:
        changes["active"] = {"old": user.active, "new": active}
        user.active = active
    if Role(user.role) == Role.staff and not user.units:
        raise AuthError("staff work for at least one unit")
    if changes:
        if "active" in changes or "role" in changes or "units" in changes:
            session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
        audit(session, actor, "user.update", detail={"username": username, "changes": changes})
    return user


def user_out(user: UserRow) -> UserOut:
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        units=list(user.units or []),
        active=user.active,
        created_at=user.created_at,
    )


def token_out(row: ApiTokenRow) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=[Scope(s) for s in row.scopes if s in Scope._value2member_map_],
        units=row.units,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked_at is not None,
    )
