"""Every route × every role × own/other unit × secret/not.

The expected answer is derived from one table (what each route needs) and the visibility rule,
never written out case by case, so a new route that is not in the table fails the test that
checks the table covers the OpenAPI document.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import app
from schemas.auth import ROLE_SCOPES, Role, Scope
from store import unit_of_work
from store.accounts.auth import create_token, create_user
from store.services import Services, set_services
from tests.conftest import bearer, make_services
from tests.data.samples import get_spec, write_digital_pdf
from worker.app import app as celery_app
from worker.app import configure

OWN, OTHER = "phuong-co-nhue-1", "phong-noi-vu"
PASSWORD = "mat-khau-thu-nghiem"

#: what each route needs: scopes, and whether it is about one record (visibility applies)
#: or one batch (unit applies). "any" = any authenticated caller; "open" = no credentials.
RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/healthz"): ("open",),
    ("GET", "/readyz"): ("open",),
    ("POST", "/api/v1/auth/login"): ("open",),
    ("POST", "/api/v1/auth/logout"): ("any",),
    ("GET", "/api/v1/auth/me"): ("any",),
    ("GET", "/api/v1/units"): ("any",),
    ("GET", "/api/v1/schemas/record.json"): ("any",),
    ("GET", "/api/v1/plan"): ("any",),
    ("PUT", "/api/v1/plan"): ("admin",),
    ("GET", "/api/v1/progress/inventory"): ("any",),
    ("PUT", "/api/v1/progress/inventory/{unit}"): ("records:write", "unit"),
    ("GET", "/api/v1/progress"): ("reports:read",),
    ("GET", "/api/v1/progress/report.xlsx"): ("reports:read",),
    ("GET", "/api/v1/progress/report.csv"): ("reports:read",),
    ("GET", "/metrics"): ("reports:read|admin",),
    ("GET", "/api/v1/users"): ("admin",),
    ("POST", "/api/v1/users"): ("admin",),
    ("PATCH", "/api/v1/users/{username}"): ("admin",),
    ("GET", "/api/v1/tokens"): ("admin",),
    ("POST", "/api/v1/tokens"): ("admin",),
    ("DELETE", "/api/v1/tokens/{token_id}"): ("admin",),
    ("GET", "/api/v1/webhooks"): ("admin",),
    ("POST", "/api/v1/webhooks"): ("admin",),
    ("GET", "/api/v1/webhooks/{webhook_id}"): ("admin",),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): ("admin",),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ("admin",),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ("admin",),
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/replay"): ("admin",),
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): ("admin",),
    ("POST", "/api/v1/batches"): ("batches:write", "unit"),
    ("GET", "/api/v1/batches"): ("batches:read",),
    ("GET", "/api/v1/batches/{batch_id}"): ("batches:read", "batch"),
    ("GET", "/api/v1/batches/{batch_id}/events"): ("batches:read", "batch"),
    ("POST", "/api/v1/batches/{batch_id}/retry"): ("batches:write", "batch"),
    ("POST", "/api/v1/batches/{batch_id}/cancel"): ("batches:write", "batch"),
    ("GET", "/api/v1/records"): ("records:read",),
    ("GET", "/api/v1/records/{record_id}"): ("records:read", "record"),
    ("PATCH", "/api/v1/records/{record_id}"): ("records:write", "record"),
    ("GET", "/api/v1/records/{record_id}/text"): ("records:read", "record"),
    ("GET", "/api/v1/records/{record_id}/pdf"): ("records:read", "record"),
    ("GET", "/api/v1/records/{record_id}/original"): ("records:read", "record"),
    ("GET", "/api/v1/records/{record_id}/history"): ("records:read", "record"),
    ("GET", "/api/v1/records/{record_id}/pages/{n}.png"): ("records:read", "record"),
    ("GET", "/api/v1/records/{record_id}/pages/{n}/words"): ("records:read", "record"),
    ("POST", "/api/v1/records/{record_id}/retry"): ("records:write", "record"),
    ("POST", "/api/v1/records/{record_id}/accept"): ("records:write", "record"),
    ("GET", "/api/v1/dossiers"): ("records:read",),
    ("GET", "/api/v1/dossiers/{file_code}"): ("records:read",),
    ("POST", "/api/v1/dossiers/catalog"): ("records:write", "unit"),
    ("GET", "/api/v1/dossiers/{file_code}/package"): ("records:read",),
    ("PUT", "/api/v1/records/{record_id}/placement"): ("records:write", "record"),
}


@dataclass(frozen=True)
class Caller:
    name: str
    scopes: frozenset[Scope]
    units: frozenset[str] | None  # None: every unit
    headers: dict[str, str]


@dataclass(frozen=True)
class Record:
    id: str
    unit: str
    secret: bool
    batch_id: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Services, dict[str, Caller], dict[str, Record]]]:
    """Callers of every kind and four records: own/other unit × secret/not, on each database."""
    tmp = tmp_path_factory.mktemp("matrix")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'sohoa.db'}"
    else:
        url = request.getfixturevalue("pg_server")
        from tests.conftest import _reset_pg

        _reset_pg(url)
    svc = make_services(url, f"file://{tmp / 'objects'}", broker_url=f"filesystem://{tmp / 'b'}")
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True
    set_services(svc)
    callers: dict[str, Caller] = {}
    with unit_of_work(svc.sessions) as session:
        for role, units in ((Role.staff, (OWN,)), (Role.supervisor, ()), (Role.admin, ())):
            scopes = ROLE_SCOPES[role]
            limited = frozenset(units) if role == Role.staff else None
            token, _ = create_token(
                session, f"as-{role}", [s.value for s in scopes], units=units or None
            )
            callers[role.value] = Caller(
                role.value, scopes, limited, {"Authorization": f"Bearer {token}"}
            )
        staff_scopes = ROLE_SCOPES[Role.staff]
        token, _ = create_token(
            session, "staff-other", [s.value for s in staff_scopes], units=[OTHER]
        )
        callers["staff-other-unit"] = Caller(
            "staff-other-unit", staff_scopes, frozenset({OTHER}),
            {"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        token, _ = create_token(session, "reader", ["records:read"])
        callers["service-reader"] = Caller(
            "service-reader", frozenset({Scope.records_read}), None,
            {"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        token, _ = create_token(session, "nothing", ["batches:read"], units=[OWN])
        callers["service-batches-own"] = Caller(
            "service-batches-own", frozenset({Scope.batches_read}), frozenset({OWN}),
            {"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        create_user(session, "lan", PASSWORD, Role.staff, units=[OWN])
    callers["anonymous"] = Caller("anonymous", frozenset(), frozenset(), {})

    admin = bearer(svc)
    records: dict[str, Record] = {}
    with TestClient(app, headers=admin) as client:
        specs = ["cv-12-ubnd-vx", "tb-45-pnv", "qd-86-ubnd-cn1", "kh-251-ubnd"]
        for (unit, secret), spec in zip(
            itertools.product((OWN, OTHER), (False, True)), specs, strict=True
        ):
            pdf = write_digital_pdf(tmp / f"{spec}.pdf", get_spec(spec))
            answer = client.post(
                "/api/v1/batches",
                files=[("files", (f"{spec}.pdf", Path(pdf.path).read_bytes(), "application/pdf"))],
                data={"unit": unit},
            )
            assert answer.status_code == 202, answer.text
            body = answer.json()
            record_id = body["entries"][0]["record_id"]
            if secret:
                marked = client.patch(f"/api/v1/records/{record_id}", json={"secrecy": "mat"})
                assert marked.status_code == 200, marked.text
            key = f"{'own' if unit == OWN else 'other'}{'-secret' if secret else ''}"
            records[key] = Record(record_id, unit, secret, body["id"])
    yield svc, callers, records
    set_services(None)
    celery_app.conf.task_always_eager = False
    svc.close()


def _allowed(caller: Caller, need: str) -> bool:
    if need == "any":
        return caller.name != "anonymous"
    return any(Scope(option) in caller.scopes for option in need.split("|"))


def _may_see(caller: Caller, record: Record) -> bool:
    if Scope.records_read not in caller.scopes:
        return False
    if record.secret and Scope.records_secret not in caller.scopes:
        return False
    return caller.units is None or record.unit in caller.units


def _may_use(caller: Caller, unit: str) -> bool:
    return caller.units is None or unit in caller.units


def test_the_table_covers_every_route_of_the_document() -> None:
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented == set(RULES), (
        f"not in the table: {sorted(documented - set(RULES))}; "
        f"gone from the API: {sorted(set(RULES) - documented)}"
    )


def _request(
    client: TestClient, method: str, path: str, caller: Caller, record: Record | None
) -> int:
    """Send a harmless but valid request for the route; the status code."""
    values = {
        "record_id": record.id if record else "x",
        "batch_id": record.batch_id if record else "x",
        "n": "1",
        "unit": OWN,
        "username": "lan",
        "token_id": "999999",
        "webhook_id": "999999",
        "delivery_id": "999999",
        "file_code": "H49.1",
    }
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    kwargs: dict[str, object] = {}
    if (method, path) == ("POST", "/api/v1/batches"):
        kwargs = {"files": [("files", ("x.pdf", b"%PDF-1.4 x", "application/pdf"))],
                  "data": {"unit": OWN}}  # fmt: skip
    elif (method, path) == ("POST", "/api/v1/dossiers/catalog"):
        kwargs = {"files": [("file", ("m.csv", b"fileCode,title\nH49.9,x\n", "text/csv"))],
                  "data": {"unit": OWN}}  # fmt: skip
    elif method == "PATCH" and "records" in path:
        kwargs = {"json": {"place": "Hà Nội"}}
    elif method == "PUT" and path.endswith("/placement"):
        kwargs = {"json": {"dossier": None}}  # out of any dossier: valid for every record
    elif method == "PUT" and "inventory" in path:
        kwargs = {"json": {"documents": 10}}
    elif method in ("POST", "PATCH", "PUT"):
        kwargs = {"json": {}}
    if path.endswith("/events"):
        with client.stream(method, url, headers=caller.headers) as response:
            return response.status_code
    return client.request(method, url, headers=caller.headers, **kwargs).status_code  # type: ignore[arg-type]


ROUTES = sorted(RULES)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_every_caller_every_record(
    world: tuple[Services, dict[str, Caller], dict[str, Record]], route: tuple[str, str]
) -> None:
    _svc, callers, records = world
    method, path = route
    need, *about = RULES[route]
    if need == "open" or path.endswith("/logout"):
        return  # open routes; logout is checked in test_auth
    failures = []
    with TestClient(app) as client:
        for caller in callers.values():
            targets: list[Record | None] = list(records.values()) if about else [None]
            for record in targets:
                status = _request(client, method, path, caller, record)
                hidden = record is not None and (
                    (about == ["record"] and not _may_see(caller, record))
                    or (about == ["batch"] and not _may_use(caller, record.unit))
                )
                if caller.name == "anonymous":
                    expected: set[int] | str = {401}
                elif not _allowed(caller, need):
                    expected = {403}
                elif hidden:
                    expected = {404}
                elif about == ["unit"] and not _may_use(caller, OWN):
                    expected = {403}
                else:
                    expected = "allowed"
                ok = (
                    status not in (401, 403)
                    and status < 500
                    and not (about == ["record"] and status == 404)
                    if expected == "allowed"
                    else status in expected  # type: ignore[operator]
                )
                if not ok:
                    what = f"{record.unit}{' secret' if record.secret else ''}" if record else ""
                    failures.append(f"{caller.name} {what}: {status}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_lists_and_search_show_only_what_the_caller_may_see(
    world: tuple[Services, dict[str, Caller], dict[str, Record]],
) -> None:
    _svc, callers, records = world
    with TestClient(app) as client:
        # every record there is (the route tests above added some), as the admin sees them
        everything = client.get(
            "/api/v1/records", params={"limit": 200}, headers=callers["admin"].headers
        ).json()["items"]
        assert {r.id for r in records.values()} <= {item["id"] for item in everything}
        all_records = [
            Record(item["id"], item["unit"], bool((item.get("document") or {}).get("secrecy")), "")
            for item in everything
        ]
        for caller in callers.values():
            if Scope.records_read not in caller.scopes:
                continue
            listed = client.get("/api/v1/records", params={"limit": 200}, headers=caller.headers)
            assert listed.status_code == 200, listed.text
            ids = {item["id"] for item in listed.json()["items"]}
            expected = {r.id for r in all_records if _may_see(caller, r)}
            assert ids == expected, caller.name
            found = client.get(
                "/api/v1/records", params={"q": "uy ban nhan dan", "limit": 200},
                headers=caller.headers,
            )  # fmt: skip
            assert found.status_code == 200
            hits = {item["id"] for item in found.json()["items"]}
            assert hits <= expected, caller.name
            assert hits, caller.name  # the four documents all name an Ủy ban nhân dân
