"""The web pages rendered on the server: who may see which page, the login redirect, both
languages, dates as dd/mm/yyyy, and what each page shows — on both databases."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from api.app import app
from api.i18n import LOCALE_DIR as LOCALE
from api.i18n import MESSAGES, fmt_date, fmt_number, fmt_percent, js_messages, translate
from api.web import day_chart
from api.web_common import STATIC, TEMPLATES, safe_next
from schemas.auth import Role
from schemas.plan import DayCount
from store import unit_of_work
from store.accounts.auth import create_user
from store.planning.plans import load_plan, read_plan_file
from store.services import Services, set_services
from tests.conftest import bearer
from tests.data.samples import get_spec, write_bad_files, write_digital_pdf
from worker.app import app as celery_app
from worker.app import configure

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "mật-khẩu-đủ-dài"
UNIT = "phuong-co-nhue-1"
OTHER_UNIT = "phuong-co-nhue-2"
PAGES = ("/dashboard", "/upload", "/batches", "/review", "/search", "/dossiers")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

Login = Callable[..., TestClient]


@pytest.fixture
def site(svc: Services, tmp_path: Path) -> Iterator[Services]:
    """The app with eager tasks, three people, and the district's plan."""
    svc.settings.broker_url = f"filesystem://{tmp_path / 'broker'}"
    configure(celery_app, svc.settings)
    celery_app.conf.task_always_eager = True
    set_services(svc)
    with unit_of_work(svc.sessions) as session:
        create_user(session, "van-thu", PASSWORD, Role.staff, units=[UNIT])
        create_user(session, "van-thu-2", PASSWORD, Role.staff, units=[OTHER_UNIT])
        create_user(session, "lanh-dao", PASSWORD, Role.supervisor)
        create_user(session, "quan-tri", PASSWORD, Role.admin)
        load_plan(session, read_plan_file(REPO / "deploy/plan/bac-tu-liem-2023.yaml"), actor="t")
    try:
        yield svc
    finally:
        set_services(None)
        celery_app.conf.task_always_eager = False


@pytest.fixture
def login(site: Services) -> Iterator[Login]:
    clients: list[TestClient] = []

    def log_in(username: str, lang: str | None = None) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        if lang:
            client.cookies.set("lang", lang)
        return client

    yield log_in
    for client in clients:
        client.close()


def _upload(svc: Services, tmp_path: Path, unit: str = UNIT) -> dict:
    """A batch of a record waiting for review and a broken file, through the API."""
    blank = dataclasses.replace(get_spec("tb-45-pnv"), key="blank", number="      /TB-UBND")
    pdf = write_digital_pdf(tmp_path / "chua-so.pdf", blank).path
    broken = write_bad_files(tmp_path / "bad")["corrupt.pdf"]
    with TestClient(app, headers=bearer(svc)) as client:
        response = client.post(
            "/api/v1/batches",
            files=[
                ("files", ("chua-so.pdf", pdf.read_bytes(), "application/pdf")),
                ("files", ("hỏng <b>.pdf", broken.read_bytes(), "application/pdf")),
            ],
            data={"unit": unit, "dossier": "H49.1", "label": "Hộp <12>"},
        )
    assert response.status_code == 202, response.text
    return response.json()


# --- who sees what -------------------------------------------------------------------------


def test_every_page_sends_strangers_to_the_login(site: Services) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    for path in (*PAGES, "/", "/batches/01ABC", "/records/01ABC?q=quyết định"):
        response = anonymous.get(path)
        assert response.status_code == 303, path
        location = response.headers["location"]
        assert location.startswith("/login?next="), location
    location = anonymous.get("/records/X?q=a%20b&unit=u").headers["location"]
    assert parse_qs(urlsplit(location).query) == {"next": ["/records/X?q=a%20b&unit=u"]}
    anonymous.cookies.set("sohoa_session", "forged-or-expired")
    assert anonymous.get("/dashboard").status_code == 303
    login_page = anonymous.get("/login?next=/search")
    assert login_page.status_code == 200
    assert 'data-next="/search"' in login_page.text
    assert "Đăng nhập" in login_page.text
    for hostile in ("//evil.example/x", "https://evil.example", "/\\evil", "javascript:alert(1)"):
        page = anonymous.get("/login", params={"next": hostile})
        assert 'data-next="/"' in page.text, hostile


def test_each_role_sees_only_its_pages(login: Login) -> None:
    allowed = {
        "van-thu": {"/upload", "/batches", "/review", "/search", "/dossiers"},
        "lanh-dao": {"/dashboard", "/batches", "/search", "/dossiers"},
        "quan-tri": set(PAGES),
    }
    homes = {"van-thu": "/upload", "lanh-dao": "/dashboard", "quan-tri": "/dashboard"}
    for user, pages in allowed.items():
        client = login(user)
        assert client.get("/").headers["location"] == homes[user]
        assert client.get("/login").headers["location"] == homes[user]  # already logged in
        for path in PAGES:
            response = client.get(path)
            expected = 200 if path in pages else 403
            assert response.status_code == expected, (user, path, response.status_code)
            if expected == 403:
                assert "Không có quyền truy cập" in response.text
            else:
                nav = re.findall(r'data-nav="([^"]+)"', response.text)
                assert set(nav) == pages, (user, path)


def test_hostile_query_parameters_are_harmless(login: Login) -> None:
    staff = login("van-thu")
    long = "x" * 5000
    for path in (f"/search?q={long}", f"/review?id={long}", f"/records/abc?q={long}"):
        response = staff.get(path)
        assert response.status_code in (200, 404), path
    search = staff.get("/search", params={"q": '"><script>alert(1)</script>', "unit": "../x"})
    assert "<script>alert(1)" not in search.text
    assert "&#34;&gt;&lt;script&gt;" in search.text or "&quot;&gt;&lt;script&gt;" in search.text
    assert 'value="../x"' not in search.text
    assert staff.get("/login", params={"next": long}).status_code == 303  # logged in: home


def test_pages_carry_their_security_headers(login: Login) -> None:
    response = login("van-thu").get("/upload")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert '<meta name="csrf-token"' in response.text
    static = TestClient(app).get("/static/app.js")
    assert static.status_code == 200
    assert "javascript" in static.headers["content-type"]
    assert TestClient(app).get("/static/../api/web.py").status_code == 404


# --- languages and formats -----------------------------------------------------------------


def test_vietnamese_first_english_on_request(site: Services, login: Login) -> None:
    supervisor = login("lanh-dao")
    vi = supervisor.get("/dashboard")
    assert '<html lang="vi">' in vi.text
    assert "Tiến độ số hoá" in vi.text and "Digitization progress" not in vi.text
    assert "Kế hoạch 251/KH-UBND ngày 29/05/2023" in vi.text

    switch = supervisor.get("/lang/en", params={"next": "/dashboard"})
    assert switch.status_code == 303 and switch.headers["location"] == "/dashboard"
    assert "lang=en" in switch.headers["set-cookie"]
    en = supervisor.get("/dashboard")
    assert '<html lang="en">' in en.text
    assert "Digitization progress" in en.text and "Plan 251/KH-UBND of 29/05/2023" in en.text
    evil = supervisor.get("/lang/vi", params={"next": "https://evil.example/"})
    assert evil.headers["location"] == "/"
    assert "lang=vi" in supervisor.get("/lang/xx").headers["set-cookie"]  # unknown: Vietnamese


def test_catalogs_hold_the_same_keys_and_plural_forms() -> None:
    catalogs = {}
    for lang in ("vi", "en"):
        with (LOCALE / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalogs[lang] = read_po(po, locale=lang)
    ids = {
        lang: {m.id if isinstance(m.id, str) else m.id[0] for m in c if m.id}
        for lang, c in catalogs.items()
    }
    assert ids["vi"] == ids["en"]
    for catalog in catalogs.values():
        for message in catalog:
            assert not message.fuzzy or not message.id, message.id
            strings = message.string if message.pluralizable else (message.string,)
            assert all(s.strip() for s in strings), message.id
    assert translate("common.pages", "en", n=1) == "1 page"
    assert translate("common.pages", "en", n=2) == "2 pages"
    assert translate("common.pages", "vi", n=2) == "2 trang"
    with pytest.raises(KeyError):
        translate("no.such.label", "vi")


def test_every_label_exists_in_both_languages() -> None:
    for key, (vi, en) in MESSAGES.items():
        assert vi.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", vi)) == set(re.findall(r"{(\w+)}", en)), key
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([\w.\-]+)["']""", text))
        assert not re.search(r"\sstyle=", text), f"{template.name}: inline style (CSP)"
        assert not re.search(r"<script(?![^>]*(src=|application/json))", text), template.name
    scripts = js_messages("vi")
    for script in STATIC.glob("*.js"):
        for key in re.findall(r"""S\.t\(\s*"([\w.\-]+)"\s*[,)]""", script.read_text("utf-8")):
            assert key in scripts, f"{script.name} uses {key}, not sent to the page"
    prefixes = {k for k in used if k.endswith(".")}  # t("status." ~ value): a family of labels
    missing = sorted(k for k in used - prefixes if k not in MESSAGES)
    assert not missing, missing
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in MESSAGES), prefix
    for code in (403, 404):
        assert f"error.{code}.title" in MESSAGES and f"error.{code}.text" in MESSAGES


def test_formats_follow_the_office_conventions() -> None:
    assert fmt_date(date(2023, 5, 29)) == "29/05/2023"
    assert fmt_date("2024-01-08") == "08/01/2024"
    assert fmt_date(None) == ""
    assert fmt_number(1234567, "vi") == "1.234.567"
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_percent(0.125, "vi") == "12,5 %"
    assert fmt_percent(0.7, "vi", 0) == "70 %"
    assert fmt_percent(1.0, "en") == "100%"
    plan = translate("dash.plan", "en", number="1/KH", date="01/02/2023")
    assert plan == "Plan 1/KH of 01/02/2023"
    with pytest.raises(KeyError):
        translate("no.such.label", "vi")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/records/01ABC?q=x", "/records/01ABC?q=x"),
        ("/search", "/search"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/a", "/"),
        ("search", "/"),
        ("/login?next=/x", "/"),
        ("/lang/en", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_next_is_a_path_of_this_site(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


# --- what the pages show -------------------------------------------------------------------


def test_upload_batches_and_the_batch_page(site: Services, login: Login, tmp_path: Path) -> None:
    staff = login("van-thu")
    upload = staff.get("/upload")
    assert re.findall(r'<option value="([^"]+)"', upload.text) == [UNIT]  # their unit only
    assert "webkitdirectory" in upload.text

    batch = _upload(site, tmp_path)
    listing = staff.get("/batches")
    assert f'href="/batches/{batch["id"]}"' in listing.text
    assert "Hộp &lt;12&gt;" in listing.text  # escaped, never markup
    assert re.search(r">\d{2}/\d{2}/\d{4} \d{2}:\d{2}<", listing.text)

    page = staff.get(f"/batches/{batch['id']}")
    assert page.status_code == 200
    assert "Tệp PDF bị hỏng, không đọc được" in page.text  # the error, in plain Vietnamese
    assert "hỏng &lt;b&gt;.pdf" in page.text
    assert 'data-done="true"' in page.text
    assert page.text.count("data-retry=") == 1  # the broken file can be retried
    assert ISO_DATE.search(_visible_text(page.text)) is None

    outsider = login("van-thu-2")
    assert outsider.get(f"/batches/{batch['id']}").status_code == 404
    assert f"/batches/{batch['id']}" not in outsider.get("/batches").text
    assert staff.get("/batches/" + "x" * 100).status_code == 404
    english = login("lanh-dao", lang="en").get(f"/batches/{batch['id']}")
    assert "The PDF is damaged and cannot be read" in english.text
    assert english.text.count("data-retry=") == 0  # supervisors read, they do not retry


def test_review_queue_and_record_page(site: Services, login: Login, tmp_path: Path) -> None:
    batch = _upload(site, tmp_path)
    waiting = batch["entries"][0]["record_id"]
    staff = login("van-thu")
    review = staff.get("/review")
    assert f'data-record="{waiting}"' in review.text
    number = re.search(r'<div class="field([^"]*)" data-field="number"', review.text)
    assert number and "uncertain" in number.group(1)
    issued = re.search(r'<div class="field([^"]*)" data-field="issued_on"', review.text)
    assert issued and "uncertain" not in issued.group(1)
    assert 'value="15/03/2024"' in review.text  # the date read, as dd/mm/yyyy
    # the classifier's reasons, in Vietnamese
    assert "Số, ký hiệu: Không đọc được số văn bản" in review.text
    assert f"/api/v1/records/{waiting}/pages/1.png" in review.text
    assert "Enter" in review.text and "J hoặc N" in review.text
    assert login("van-thu-2").get("/review").text.count("data-field=") == 0  # not their unit

    record = staff.get(f"/records/{waiting}?q=giao nhận")
    assert record.status_code == 200
    assert "Lịch giao nhận hồ sơ" in record.text
    assert "15/03/2024" in record.text and ISO_DATE.search(_visible_text(record.text)) is None
    assert f'href="/api/v1/records/{waiting}/pdf"' in record.text
    assert 'data-q="giao nhận"' in record.text
    assert f'href="/review?id={waiting}"' in record.text

    supervisor = login("lanh-dao")
    assert f'href="/review?id={waiting}"' not in supervisor.get(f"/records/{waiting}").text
    assert login("van-thu-2").get(f"/records/{waiting}").status_code == 404
    assert staff.get("/records/no-such-record").status_code == 404

    corrected = staff.patch(
        f"/api/v1/records/{waiting}", json={"number": "45/TB-UBND", "issued_on": "2024-03-16"}
    )
    assert corrected.status_code == 200, corrected.text
    assert "Không còn tài liệu nào chờ kiểm tra" in staff.get("/review").text
    history = staff.get(f"/records/{waiting}").text
    assert "45/TB-UBND" in history and "16/03/2024" in history and "Lịch sử chỉnh sửa" in history
    failed = batch["entries"][1]["record_id"]
    broken = staff.get(f"/records/{failed}")
    assert "Tệp PDF bị hỏng" in broken.text and f"/api/v1/records/{failed}/pdf" not in broken.text


def test_dashboard_shows_progress_against_the_plan(
    site: Services, login: Login, tmp_path: Path
) -> None:
    supervisor = login("lanh-dao")
    before = supervisor.get("/dashboard")
    assert before.status_code == 200
    assert _kpi(before.text, "documents") == 0
    _upload(site, tmp_path)
    after = supervisor.get("/dashboard")
    assert _kpi(after.text, "documents") == 1  # the record waiting for review has content
    assert re.search(r'data-quality="needs_review">1<', after.text)
    assert re.search(r'data-quality="failed">1<', after.text)
    row = re.search(rf'<tr data-unit="{UNIT}" data-status="(\w+)">(.*?)</tr>', after.text, re.S)
    assert row and 'data-digitized="1"' in row.group(2)
    assert "DLS-01" in after.text and "DLS-02" in after.text
    assert 'href="/api/v1/progress/report.xlsx?lang=vi"' in after.text
    assert 'href="/api/v1/progress/report.csv?lang=vi"' in after.text
    assert re.search(r'data-pages="\d+"', after.text)  # the chart's bars
    assert ISO_DATE.search(_visible_text(after.text)) is None
    statuses = re.findall(r'<tr data-unit="[^"]+" data-status="(\w+)"', after.text)
    severity = ["late", "at_risk", "on_track", "no_inventory", "met"]
    assert statuses == sorted(statuses, key=severity.index)  # the worst first


def test_the_chart_covers_the_last_thirty_days() -> None:
    end = date(2024, 3, 31)
    chart = day_chart(
        [
            DayCount(day=date(2024, 3, 1), documents=1, pages=10),  # outside the window
            DayCount(day=date(2024, 3, 30), documents=2, pages=40),
            DayCount(day=date(2024, 3, 31), documents=1, pages=20),
        ],
        end,
    )
    assert len(chart.bars) == 30 and chart.start == date(2024, 3, 2) and chart.end == end
    assert chart.peak == 40 and chart.total == 60
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.day == date(2024, 3, 30) and tallest.y == chart.top
    assert chart.bars[-1].height == pytest.approx(tallest.height / 2)
    assert all(b.height == 0 for b in chart.bars[:-2])
    assert chart.ticks[-1][1] == "31/03"
    empty = day_chart([], end)
    assert empty.peak == 0 and all(b.height == 0 for b in empty.bars)


def _kpi(html: str, name: str) -> int:
    match = re.search(rf'data-kpi="{name}">([^<]*)<', html)
    assert match, name
    return int(re.sub(r"\D", "", match.group(1)) or 0)


def _visible_text(html: str) -> str:
    """The text people read: no tags, no scripts, no attribute values."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)
