"""Accounts, tokens and sessions: who may call the API, and what they get when they may not."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import app
from api.auth import forget_tokens
from schemas.auth import Role
from store import unit_of_work
from store.accounts.auth import (
    LOGIN_FAILED,
    LOGIN_FAILURES_PER_CLIENT,
    LOGIN_FAILURES_PER_USER,
    LOGIN_WINDOW,
    check_password,
    create_token,
    create_user,
    note_login_failure,
)
from store.platform.models import ApiTokenRow, AuditRow, UserRow, WebSessionRow, utcnow
from store.services import Services, set_services
from tests.conftest import bearer

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture
def api(svc: Services) -> Iterator[TestClient]:
    set_services(svc)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        set_services(None)


def _user(svc: Services, name: str, role: Role, units: tuple[str, ...] = ()) -> None:
    with unit_of_work(svc.sessions) as session:
        create_user(session, name, PASSWORD, role, units=units)


def _login(api: TestClient, name: str, password: str = PASSWORD) -> str:
    response = api.post("/api/v1/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def test_nothing_but_health_is_open(api: TestClient) -> None:
    assert api.get("/healthz").status_code == 200
    for path in ("/api/v1/records/x", "/api/v1/batches/x", "/api/v1/auth/me", "/api/v1/users"):
        response = api.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.post("/api/v1/batches", files=[("files", ("a.pdf", b"x"))]).status_code == 401


def test_password_login_session_and_logout(svc: Services, api: TestClient) -> None:
    _user(svc, "lan", Role.staff, ("phuong-co-nhue-1",))
    wrong = api.post("/api/v1/auth/login", json={"username": "lan", "password": "sai-mat-khau"})
    assert wrong.status_code == 401
    nobody = api.post("/api/v1/auth/login", json={"username": "ai-do", "password": PASSWORD})
    assert nobody.status_code == 401 and nobody.json() == wrong.json()
    csrf = _login(api, "lan")
    cookie = api.cookies.get("sohoa_session")
    assert cookie
    me = api.get("/api/v1/auth/me").json()
    assert me["name"] == "lan" and me["role"] == "staff"
    assert me["units"] == ["phuong-co-nhue-1"]
    assert "records:secret" not in me["scopes"]
    with unit_of_work(svc.sessions) as session:  # only a hash of the cookie is kept
        stored = session.scalars(select(WebSessionRow.id_hash)).all()
    assert cookie not in stored and len(stored) == 1
    assert api.post("/api/v1/auth/logout").status_code == 403  # no CSRF token
    assert api.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    api.cookies.set("sohoa_session", cookie)  # a stolen cookie is dead after logout
    assert api.get("/api/v1/auth/me").status_code == 401


def test_a_cookie_session_must_echo_its_csrf_token(svc: Services, api: TestClient) -> None:
    _user(svc, "hoa", Role.staff, ("phuong-co-nhue-1",))
    csrf = _login(api, "hoa")
    files = [("files", ("a.pdf", b"%PDF-1.4 not really"))]
    forged = api.post("/api/v1/batches", files=files)
    assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
    wrong = api.post("/api/v1/batches", files=files, headers={"X-CSRF-Token": csrf + "x"})
    assert wrong.status_code == 403
    ok = api.post("/api/v1/batches", files=files, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 202, ok.text
    assert ok.json()["unit"] == "phuong-co-nhue-1"  # a ward's staff upload for their ward


def test_expired_sessions_and_disabled_users_are_refused(svc: Services, api: TestClient) -> None:
    _user(svc, "minh", Role.supervisor)
    _login(api, "minh")
    assert api.get("/api/v1/auth/me").status_code == 200
    with unit_of_work(svc.sessions) as session:
        session.execute(update(WebSessionRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.get("/api/v1/auth/me").status_code == 401
    _login(api, "minh")
    with unit_of_work(svc.sessions) as session:
        session.execute(update(UserRow).where(UserRow.username == "minh").values(active=False))
    assert api.get("/api/v1/auth/me").status_code == 401
    again = api.post("/api/v1/auth/login", json={"username": "minh", "password": PASSWORD})
    assert again.status_code == 401


def test_tokens_revoked_expired_and_malformed(svc: Services, api: TestClient) -> None:
    headers = bearer(svc, "records:read")
    assert api.get("/api/v1/auth/me", headers=headers).json()["kind"] == "token"
    token = headers["Authorization"].split()[1]
    with unit_of_work(svc.sessions) as session:
        row = session.scalars(select(ApiTokenRow)).one()
        assert row.token_hash != token and token.startswith(row.prefix)
        row.expires_at = utcnow() - timedelta(minutes=1)
    # a checked token is trusted for a few seconds without the database; then it is refused
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 200
    forget_tokens()
    assert api.get("/api/v1/auth/me", headers=headers).status_code == 401
    for value in ("Bearer ", "Bearer sohoa_" + "x" * 5000, "Basic dXNlcjpwYXNz", "Bearer \x00"):
        response = api.get("/api/v1/auth/me", headers={"Authorization": value})
        assert response.status_code in (401, 403), value


def test_scopes_decide_the_routes(svc: Services, api: TestClient) -> None:
    reader = bearer(svc, "records:read")
    files = [("files", ("a.pdf", b"%PDF-1.4"))]
    response = api.post("/api/v1/batches", files=files, headers=reader)
    assert response.status_code == 403
    assert api.get("/api/v1/users", headers=reader).status_code == 403
    assert api.get("/api/v1/records/nothing", headers=reader).status_code == 404
    assert (
        api.get("/api/v1/records/nothing", headers=bearer(svc, "batches:write")).status_code == 403
    )


def test_unit_limited_token_uploads_only_for_its_unit(svc: Services, api: TestClient) -> None:
    headers = bearer(svc, "batches:write", "batches:read", units=["phuong-co-nhue-1"])
    files = [("files", ("a.pdf", b"%PDF-1.4"))]
    other = api.post("/api/v1/batches", files=files, data={"unit": "phong-noi-vu"}, headers=headers)
    assert other.status_code == 403
    mine = api.post("/api/v1/batches", files=files, headers=headers)
    assert mine.status_code == 202 and mine.json()["unit"] == "phuong-co-nhue-1"


def test_admin_manages_users_and_tokens_over_http(svc: Services, api: TestClient) -> None:
    admin = bearer(svc, "admin", "records:read")
    new = {"username": "thu", "password": PASSWORD, "role": "staff", "units": ["phong-noi-vu"]}
    assert api.post("/api/v1/users", json=new, headers=admin).status_code == 201
    assert api.post("/api/v1/users", json=new, headers=admin).status_code == 409
    bad_unit = {**new, "username": "x", "units": ["khong-co"]}
    assert api.post("/api/v1/users", json=bad_unit, headers=admin).status_code == 422
    no_unit = {**new, "username": "y", "units": []}
    assert api.post("/api/v1/users", json=no_unit, headers=admin).status_code == 422
    _login(api, "thu")
    assert api.get("/api/v1/auth/me").status_code == 200
    change = api.patch("/api/v1/users/thu", json={"active": False}, headers=admin)
    assert change.status_code == 200 and change.json()["active"] is False
    assert api.get("/api/v1/auth/me").status_code == 401  # disabling ends the sessions
    assert api.patch("/api/v1/users/nobody", json={}, headers=admin).status_code == 404

    created = api.post(
        "/api/v1/tokens",
        json={"name": "e-office", "scopes": ["records:read"], "units": ["phong-noi-vu"]},
        headers=admin,
    )
    assert created.status_code == 201
    token = created.json()["token"]
    me = api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["units"] == ["phong-noi-vu"] and me["scopes"] == ["records:read"]
    listed = api.get("/api/v1/tokens", headers=admin).json()
    assert all("token" not in t for t in listed)
    token_id = created.json()["id"]
    assert api.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 204
    assert api.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 404
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    bad_scope = {"name": "x", "scopes": ["everything"]}
    assert api.post("/api/v1/tokens", json=bad_scope, headers=admin).status_code == 422
    with unit_of_work(svc.sessions) as session:
        actions = session.scalars(select(AuditRow.action)).all()
    assert {"user.create", "user.update", "token.create", "token.revoke"} <= set(actions)


def test_passwords_are_argon2_hashes(svc: Services) -> None:
    _user(svc, "an", Role.admin)
    with unit_of_work(svc.sessions) as session:
        stored = session.scalars(select(UserRow.password_hash)).one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert check_password(session, "an", PASSWORD) is not None
        assert check_password(session, "an", PASSWORD.upper()) is None


def test_cli_creates_users_and_prints_the_token_last(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["SOHOA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["PYTHONPATH"] = str(REPO)

    def sohoa(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            input=stdin, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    made = sohoa("user", "create", "lan", "--role", "staff", "--unit", "phuong-co-nhue-1",
                 stdin=PASSWORD + "\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert sohoa("user", "create", "lan", stdin=PASSWORD + "\n").returncode == 2
    assert sohoa("user", "create", "ngan", stdin="short\n").returncode == 2
    created = sohoa("token", "create", "e-office", "--scope", "records:read", "--days", "30")
    assert created.returncode == 0, created.stderr
    token = created.stdout.splitlines()[-1]
    assert token.startswith("sohoa_")
    listed = sohoa("token", "list").stdout
    assert "e-office" in listed and token not in listed
    assert sohoa("token", "create", "x", "--scope", "nope").returncode == 2
    assert "lan\tstaff\tphuong-co-nhue-1" in sohoa("user", "list").stdout
    assert sohoa("token", "revoke", "1").returncode == 0
    assert sohoa("token", "revoke", "1").returncode == 2


def test_token_hash_is_not_the_token(svc: Services) -> None:
    with unit_of_work(svc.sessions) as session:
        plaintext, row = create_token(session, "svc", ["records:read"])
        assert plaintext not in (row.token_hash, row.prefix)
        assert len(plaintext) > 40


def test_guessing_a_password_is_throttled(svc: Services, api: TestClient) -> None:
    _user(svc, "tuan", Role.staff, ("phuong-co-nhue-1",))
    _user(svc, "ha", Role.staff, ("phuong-co-nhue-1",))

    def attempt(name: str, password: str) -> int:
        body = {"username": name, "password": password}
        return api.post("/api/v1/auth/login", json=body).status_code

    for i in range(LOGIN_FAILURES_PER_CLIENT):
        assert attempt("tuan", f"doan-{i}") == 401
    refused = api.post("/api/v1/auth/login", json={"username": "tuan", "password": PASSWORD})
    assert refused.status_code == 429  # even the right password, until the window passes
    assert 0 < int(refused.headers["retry-after"]) <= LOGIN_WINDOW.total_seconds() + 1
    assert attempt("ha", PASSWORD) == 200  # another name is not concerned
    with unit_of_work(svc.sessions) as session:
        failures = session.scalars(
            select(AuditRow).where(AuditRow.action == LOGIN_FAILED, AuditRow.actor == "login:tuan")
        ).all()
        assert len(failures) == LOGIN_FAILURES_PER_CLIENT  # the refused attempts are not counted
        # the failures age out of the window: the name may log in again
        for row in failures:
            row.at = row.at - LOGIN_WINDOW
    assert attempt("tuan", PASSWORD) == 200


def test_failures_from_many_places_throttle_a_name(svc: Services, api: TestClient) -> None:
    _user(svc, "khanh", Role.supervisor)
    with unit_of_work(svc.sessions) as session:
        for i in range(LOGIN_FAILURES_PER_USER):
            note_login_failure(session, "khanh", f"10.0.{i}.1")  # one failure each
    response = api.post("/api/v1/auth/login", json={"username": "khanh", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.json()["detail"]
