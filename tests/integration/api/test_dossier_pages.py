"""Dossiers on the web and a document's place: the list and the dossier's page (what each
person may see of which unit, both languages, the TT 05 fields, documents in order, what
waits for review, the export buttons), and `PUT /api/v1/records/{id}/placement` (a move
audited from → to, ordinals unique in a dossier, bad input refused with nothing changed) —
on both databases."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import app
from schemas.auth import Role
from store import unit_of_work
from store.accounts.auth import create_user
from store.dossiers.catalog import parse_catalog
from store.dossiers.placement import PLACE
from store.dossiers.registry import load_catalog
from store.platform.models import AuditRow, DocumentRow
from store.services import Services, set_services
from tests.conftest import bearer

PASSWORD = "mật-khẩu-đủ-dài"
UNIT = "phuong-co-nhue-1"
OTHER_UNIT = "phuong-co-nhue-2"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

CATALOG = (
    "fileCode,title,maintenance,mode,language,paperFileCode,numberOfPaper,format\n"
    "H49.1,Hồ sơ cấp phép xây dựng <2023>,Vĩnh viễn,Công khai,01,H49.K1.05.01,12,Tốt\n"
    "H49.2,Hồ sơ hội nghị cử tri,02,01,01,H49.K1.05.02,8,01\n"
).encode()
OTHER_CATALOG = (
    "fileCode,title,maintenance,mode,paperFileCode\nH50.1,Hồ sơ của phường khác,01,01,H50.1\n"
).encode()

Login = Callable[..., TestClient]


def _document(
    session: Any, unit: str, dossier: str | None, ordinal: int | None, status: str, **fields: Any
) -> str:
    doc_id = uuid.uuid4().hex[:26].upper()
    issued = fields.get("issued_on")
    info = {key: fields.get(key) for key in ("type", "number", "subject", "secrecy")}
    info["issued_on"] = issued.isoformat() if issued else None
    session.add(
        DocumentRow(
            id=doc_id, unit_code=unit, dossier=dossier, dossier_ordinal=ordinal,
            filename=f"{doc_id}.pdf", sha256=uuid.uuid4().hex * 2, size=1, status=status,
            page_count=fields.get("pages"), issued_on=fields.get("issued_on"), document=info,
            doc_type=fields.get("type"), secrecy=fields.get("secrecy"),
        )
    )  # fmt: skip
    return doc_id


@pytest.fixture
def site(svc: Services) -> Iterator[tuple[Services, dict[str, str]]]:
    """Two wards' catalogues, a dossier of three documents and one with one, and people."""
    set_services(svc)
    with unit_of_work(svc.sessions) as session:
        create_user(session, "van-thu", PASSWORD, Role.staff, units=[UNIT])
        create_user(session, "van-thu-2", PASSWORD, Role.staff, units=[OTHER_UNIT])
        create_user(session, "lanh-dao", PASSWORD, Role.supervisor)
        create_user(session, "quan-tri", PASSWORD, Role.admin)
        load_catalog(session, parse_catalog(CATALOG, "muc-luc.csv"), unit=UNIT, actor="t")
        load_catalog(session, parse_catalog(OTHER_CATALOG, "m.csv"), unit=OTHER_UNIT, actor="t")
    with unit_of_work(svc.sessions) as session:
        docs = {
            "first": _document(
                session,
                UNIT,
                "H49.1",
                1,
                "digitized",
                type="quyet_dinh",
                number="12/QĐ-UBND",
                subject="Cấp phép xây dựng nhà ở",
                issued_on=date(2023, 2, 1),
                pages=3,
            ),
            "second": _document(
                session,
                UNIT,
                "H49.1",
                2,
                "needs_review",
                type="cong_van",
                number="   /UBND",
                subject="Về việc bổ sung hồ sơ",
                issued_on=date(2023, 5, 9),
                pages=2,
            ),
            "third": _document(session, UNIT, "H49.1", 3, "queued"),
            "secret": _document(
                session,
                UNIT,
                "H49.1",
                4,
                "digitized",
                subject="Báo cáo mật",
                secrecy="mat",
                pages=1,
                issued_on=date(2023, 6, 1),
            ),
            "voters": _document(
                session,
                UNIT,
                "H49.2",
                1,
                "digitized",
                subject="Biên bản hội nghị",
                pages=4,
                issued_on=date(2023, 3, 3),
            ),
            "other": _document(
                session, OTHER_UNIT, "H50.1", 1, "digitized", subject="Của phường khác", pages=1
            ),
        }
    try:
        yield svc, docs
    finally:
        set_services(None)


@pytest.fixture
def login(site: tuple[Services, dict[str, str]]) -> Iterator[Login]:
    clients: list[TestClient] = []

    def log_in(username: str, lang: str | None = None) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        credentials = {"username": username, "password": PASSWORD}
        answer = client.post("/api/v1/auth/login", json=credentials)
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        if lang:
            client.cookies.set("lang", lang)
        return client

    yield log_in
    for client in clients:
        client.close()


def _visible_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# --- the pages -----------------------------------------------------------------------------


def test_strangers_go_to_the_login_and_a_limited_account_sees_only_its_units(
    login: Login,
) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    for path in ("/dossiers", "/dossiers/H49.1"):
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    staff = login("van-thu")
    listing = staff.get("/dossiers")
    assert listing.status_code == 200
    assert re.findall(r'<tr data-dossier="([^"]+)"', listing.text) == ["H49.1", "H49.2"]
    assert 'data-nav="/dossiers"' in listing.text and 'aria-current="page"' in listing.text
    other = login("van-thu-2")
    assert re.findall(r'<tr data-dossier="([^"]+)"', other.get("/dossiers").text) == ["H50.1"]
    for path in ("/dossiers/H49.1", "/dossiers/no-such", "/dossiers/" + "x" * 200):
        missing = other.get(path)
        assert missing.status_code == 404, path
        assert "H49.1" not in _visible_text(missing.text).replace(path, "")
    everyone = login("lanh-dao").get("/dossiers")
    assert re.findall(r'<tr data-dossier="([^"]+)"', everyone.text) == ["H49.1", "H49.2", "H50.1"]


def test_the_list_shows_each_dossiers_totals_and_the_catalogue_form(login: Login) -> None:
    staff = login("van-thu")
    page = staff.get("/dossiers").text
    row = re.search(r'<tr data-dossier="H49.1">(.*?)</tr>', page, re.S)
    assert row, page
    cells = row.group(1)
    # digitized (in review or not) of all its documents; pages of what has content
    assert 'data-digitized="3" data-documents="4"' in cells and ">3 / 4<" in cells
    assert 'data-pages="6"' in cells and 'data-review="1"' in cells
    assert "01/02/2023 – 01/06/2023" in cells  # first and last document dates, dd/mm/yyyy
    assert "Hồ sơ cấp phép xây dựng &lt;2023&gt;" in cells  # escaped, never markup
    assert 'href="/dossiers/H49.1"' in cells
    assert ISO_DATE.search(_visible_text(page)) is None
    assert 'id="catalog-form"' in page and "/static/dossiers.js" in page
    assert re.findall(r'<option value="([^"]+)"', page) == [UNIT]  # their unit only
    assert "Tải lên mục lục hồ sơ" in page
    supervisor = login("lanh-dao", lang="en").get("/dossiers").text
    assert "Dossiers" in supervisor and "Digitized / total" in supervisor
    assert 'id="catalog-form"' not in supervisor  # reads, does not load


def test_the_dossier_page_lists_its_documents_in_order_with_their_tt05_fields(
    site: tuple[Services, dict[str, str]], login: Login
) -> None:
    _, docs = site
    staff = login("van-thu")
    page = staff.get("/dossiers/H49.1")
    assert page.status_code == 200
    html = page.text
    rows = re.findall(r'<tr data-record="([^"]+)" data-ordinal="(\d*)" data-status="(\w+)"', html)
    assert rows == [
        (docs["first"], "1", "digitized"),
        (docs["second"], "2", "needs_review"),
        (docs["third"], "3", "queued"),
    ]  # the secret one is not listed to staff: counted only
    assert "1 tài liệu mật không hiển thị" in html
    assert "<code>H49.1.0000001</code>" in html and "<code>H49.1.0000002</code>" in html
    assert "02 · Quyết định" in html  # the TT 05 typeName code and its name
    assert "12/QĐ-UBND" in html and "Cấp phép xây dựng nhà ở" in html and "01/02/2023" in html
    fields = re.findall(r'<div data-tt05="(\w+)">', html)
    assert len(fields) == 18 and fields[0] == "fileCode" and fields[-1] == "description"
    assert "01 — Vĩnh viễn" in html and "H49.K1.05.01" in html
    assert re.search(r'data-total="documents">4<', html)
    assert re.search(r'data-total="needs_review">1<', html)
    waiting = re.findall(r'data-waiting="([^"]+)"', html)
    assert waiting == [docs["second"]]
    assert f'href="/review?id={docs["second"]}"' in html
    for kind in ("sip", "aip", "dip"):
        assert f'href="/api/v1/dossiers/H49.1/package?kind={kind}"' in html
    assert 'id="not-ready"' in html  # some documents are not digitized and reviewed yet
    assert 'id="placement-form"' in html and '<option value="H49.2">' in html
    assert ISO_DATE.search(_visible_text(html)) is None

    supervisor = login("lanh-dao", lang="en").get("/dossiers/H49.1").text
    assert f'data-record="{docs["secret"]}"' in supervisor  # may read secrets
    assert "Documents in the dossier" in supervisor and "Export SIP" in supervisor
    assert 'id="placement-form"' not in supervisor
    ready = login("van-thu").get("/dossiers/H49.2").text
    assert 'id="not-ready"' not in ready and 'aria-disabled="true"' not in ready


# --- moving a document ---------------------------------------------------------------------


def _place(client: TestClient, record_id: str, **body: Any) -> Any:
    return client.put(f"/api/v1/records/{record_id}/placement", json=body)


def test_moving_a_document_is_audited_and_ordinals_stay_unique(
    site: tuple[Services, dict[str, str]], login: Login
) -> None:
    svc, docs = site
    staff = login("van-thu")
    # a taken ordinal is refused and nothing moves
    taken = _place(staff, docs["third"], dossier="H49.1", ordinal=1)
    assert taken.status_code == 409 and taken.json()["code"] == "ordinal_taken"
    # a free one: from 3 to 7 in the same dossier
    moved = _place(staff, docs["third"], dossier="H49.1", ordinal=7)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["previous_dossier"], body["previous_ordinal"]) == ("H49.1", 3)
    assert (body["dossier"], body["ordinal"], body["arc_doc_code"]) == ("H49.1", 7, "H49.1.0000007")
    assert body["changed"] and moved.headers["etag"]
    # to another dossier without an ordinal: after its last document
    across = _place(staff, docs["second"], dossier="H49.2").json()
    assert (across["dossier"], across["ordinal"], across["previous_ordinal"]) == ("H49.2", 2, 2)
    # the same place again changes nothing
    again = _place(staff, docs["second"], dossier="H49.2")
    assert again.status_code == 200 and again.json()["changed"] is False
    # out of any dossier
    out = _place(staff, docs["first"], dossier=None).json()
    assert (out["dossier"], out["ordinal"], out["arc_doc_code"]) == (None, None, None)
    record = staff.get(f"/api/v1/records/{docs['second']}").json()
    assert (record["dossier"], record["dossier_ordinal"]) == ("H49.2", 2)
    with unit_of_work(svc.sessions) as session:
        lines = session.scalars(
            select(AuditRow).where(AuditRow.action == PLACE).order_by(AuditRow.id)
        ).all()
        assert [(a.actor, a.document_id) for a in lines] == [
            ("user:van-thu", docs["third"]), ("user:van-thu", docs["second"]),
            ("user:van-thu", docs["first"]),
        ]  # fmt: skip
        assert lines[1].detail == {"from": {"dossier": "H49.1", "ordinal": 2},
                                   "to": {"dossier": "H49.2", "ordinal": 2}}  # fmt: skip
        assert lines[0].at is not None
        second = session.get(DocumentRow, docs["second"])
        assert second is not None and second.version == 2  # bumped once: the no-op did not
    page = staff.get("/dossiers/H49.2").text
    assert re.findall(r'data-record="([^"]+)" data-ordinal="(\d*)"', page) == [
        (docs["voters"], "1"), (docs["second"], "2"),
    ]  # fmt: skip


def test_bad_placements_are_refused_and_change_nothing(
    site: tuple[Services, dict[str, str]], login: Login
) -> None:
    svc, docs = site
    staff = login("van-thu")
    unknown = _place(staff, docs["first"], dossier="H99.404")
    elsewhere = _place(staff, docs["first"], dossier="H50.1")  # another ward's dossier
    assert unknown.status_code == elsewhere.status_code == 404
    assert unknown.json()["code"] == elsewhere.json()["code"] == "no_such_dossier"
    assert unknown.json()["detail"].replace("H99.404", "X") == elsewhere.json()["detail"].replace(
        "H50.1", "X"
    )  # the same answer: nothing said of the other ward's dossier
    hidden = _place(staff, docs["other"], dossier="H49.1")  # another ward's record
    missing = _place(staff, "NO-SUCH-RECORD", dossier="H49.1")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    for ordinal in (0, -3, 10_000_000):
        bad = _place(staff, docs["first"], dossier="H49.1", ordinal=ordinal)
        assert bad.status_code == 422, ordinal
        assert bad.json()["detail"][0]["loc"][-1] == "ordinal"
    no_dossier = _place(staff, docs["first"], dossier=None, ordinal=2)
    assert no_dossier.status_code == 422 and "an ordinal needs a dossier" in no_dossier.text
    assert _place(staff, docs["first"]).status_code == 422  # the dossier must be said
    assert _place(staff, docs["first"], dossier="H49.1", unit="x").status_code == 422
    # an administrator sees every unit, but a ward's record does not go in another's dossier
    admin = TestClient(app, headers=bearer(svc))
    mixed = _place(admin, docs["other"], dossier="H49.1")
    assert mixed.status_code == 422 and "phuong-co-nhue-2" in mixed.text
    # a supervisor reads, does not move
    assert _place(login("lanh-dao"), docs["first"], dossier="H49.2").status_code == 403
    # If-Match as on PATCH: an old ETag is refused
    stale = staff.put(
        f"/api/v1/records/{docs['first']}/placement", json={"dossier": "H49.2"},
        headers={"If-Match": '"old-v0-0"'},
    )  # fmt: skip
    assert stale.status_code == 412
    with unit_of_work(svc.sessions) as session:
        assert session.scalars(select(AuditRow).where(AuditRow.action == PLACE)).all() == []
        placed = {
            d.id: (d.dossier, d.dossier_ordinal, d.version)
            for d in session.scalars(select(DocumentRow))
        }
    assert placed[docs["first"]] == ("H49.1", 1, 1)
    assert placed[docs["other"]] == ("H50.1", 1, 1)


def test_the_openapi_document_describes_the_placement() -> None:
    document = app.openapi()
    operation = document["paths"]["/api/v1/records/{record_id}/placement"]["put"]
    assert set(operation["responses"]) >= {"200", "404", "409", "412", "422"}
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["required"] == ["dossier"]
    ordinal = next(o for o in schema["properties"]["ordinal"]["anyOf"] if o.get("type"))
    assert (ordinal["minimum"], ordinal["maximum"]) == (1, 9_999_999)
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert (
        "arc_doc_code" in document["components"]["schemas"][answer.rsplit("/", 1)[1]]["properties"]
    )
