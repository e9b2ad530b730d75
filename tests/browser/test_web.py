"""The web interface in a real browser against a real `sohoa serve`.

Staff log in, upload three files (a born-digital PDF whose number was left blank, so it goes
to review; a scanned PNG; a broken PDF), watch the batch finish live on the batch page, find
the scan by an unaccented word of its text, and correct the blank number in the review
queue with the keyboard. A supervisor sees the dashboard's numbers move and downloads the
XLSX report, whose totals must equal `GET /api/v1/progress`. Every page is photographed.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import PASSWORD, STAFF_UNIT, Server
from tests.data.samples import get_spec, write_bad_files, write_digital_pdf, write_png

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: words of the scanned letter only (chính quyền số), typed without diacritics
SEARCH_WORDS = "chinh quyen so"
CORRECT_NUMBER = "45/TB-UBND"


def _samples(folder: Path) -> list[Path]:
    blank = dataclasses.replace(get_spec("tb-45-pnv"), key="blank-number", number="      /TB-UBND")
    review = write_digital_pdf(folder / "thong-bao-chua-so.pdf", blank).path
    scan = write_png(folder / "cong-van-12.png", get_spec("cv-12-ubnd-vx")).path
    broken = folder / "ho-so-hong.pdf"
    broken.write_bytes(write_bad_files(folder / "bad")["corrupt.pdf"].read_bytes())
    return [review, scan, broken]


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/(upload|dashboard)$"))


def _figures(page: Any) -> dict[str, int]:
    """The dashboard's headline numbers, read as people see them (1.234 → 1234)."""

    def number(selector: str) -> int:
        return int(re.sub(r"\D", "", page.text_content(selector) or "") or 0)

    return {
        "documents": number("[data-kpi=documents]"),
        "pages": number("[data-kpi=pages]"),
        "needs_review": number("[data-quality=needs_review]"),
        "failed": number("[data-quality=failed]"),
    }


def _values(sheet: Any) -> dict[str, Any]:
    """Label → value of the two-column lines of the summary sheet."""
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}


def test_staff_and_supervisor_work_through_the_pages(
    server: Server, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    files = _samples(tmp_path)
    base = server.base
    boss = browser.new_context(viewport=DESKTOP, locale="vi-VN", accept_downloads=True)
    staff = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    try:
        # --- the supervisor's dashboard before -------------------------------------------
        sup = boss.new_page()
        _login(sup, base, "lanh-dao")
        assert sup.url.endswith("/dashboard")
        before = _figures(sup)

        # --- staff: login page, upload ----------------------------------------------------
        page = staff.new_page()
        page.goto(f"{base}/records/anything")
        assert "/login?next=%2Frecords%2Fanything" in page.url
        page.screenshot(path=str(screenshots / "login.png"))
        page.fill("#username", "van-thu")
        page.fill("#password", "not the password")
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#login-error:not([hidden])")
        assert "Sai tên đăng nhập hoặc mật khẩu" in page.text_content("#login-error")
        _login(page, base, "van-thu")
        assert page.url.endswith("/upload")
        assert page.locator("nav a[href='/dashboard']").count() == 0  # not for staff
        assert page.input_value("#unit") == STAFF_UNIT
        page.fill("#dossier", "H49.64.33.2024.01")
        page.fill("#label", "Hộp 12, giá 3")
        page.set_input_files("#files", [str(f) for f in files])
        assert page.locator("#file-table tbody tr").count() == 3
        page.screenshot(path=str(screenshots / "upload.png"), full_page=True)

        events: list[tuple[str, int, str]] = []
        page.on(
            "response",
            lambda r: events.append((r.url, r.status, r.headers.get("content-type", "")))
            if r.url.endswith("/events") else None,
        )  # fmt: skip
        page.click("#start")
        page.wait_for_url(re.compile(r".*/batches/[0-9A-Z]+$"), timeout=60_000)
        batch_id = page.url.rsplit("/", 1)[-1]

        # --- the batch finishes live ------------------------------------------------------
        page.wait_for_selector("#batch[data-done=true]", timeout=150_000)
        page.wait_for_function(
            "document.querySelectorAll('#entries tr[data-status=failed]').length === 1"
            " && document.querySelectorAll('#entries tr[data-status=needs_review]').length === 1"
            " && document.querySelectorAll('#entries tr[data-status=digitized]').length === 1",
            timeout=30_000,
        )
        assert any(status == 200 and "text/event-stream" in kind for _, status, kind in events)
        broken_row = page.locator("#entries tr[data-status=failed]")
        assert "Tệp PDF bị hỏng" in broken_row.text_content()
        assert broken_row.locator("[data-retry]").count() == 1
        assert not page.is_hidden("#batch-finished")
        page.screenshot(path=str(screenshots / "batch.png"), full_page=True)
        broken_row.locator("[data-retry]").click()  # the file is still broken: it fails again
        page.wait_for_selector("#toast:has-text('Đã đưa tệp vào hàng đợi lại')")
        page.wait_for_selector("#batch[data-done=true]", timeout=60_000)
        page.wait_for_selector("#entries tr[data-status=failed] [data-retry]", timeout=30_000)
        batch = page.request.get(f"{base}/api/v1/batches/{batch_id}").json()
        by_name = {e["filename"]: e for e in batch["entries"]}
        scan_id = by_name["cong-van-12.png"]["record_id"]
        review_id = by_name["thong-bao-chua-so.pdf"]["record_id"]

        page.goto(f"{base}/batches")
        assert page.locator(f"a[href='/batches/{batch_id}']").count() == 1
        page.screenshot(path=str(screenshots / "batches.png"))

        # --- the dashboard moved ----------------------------------------------------------
        sup.reload()
        middle = _figures(sup)
        assert middle["documents"] == before["documents"] + 2  # digitized + waiting review
        assert middle["needs_review"] == before["needs_review"] + 1
        assert middle["failed"] == before["failed"] + 1
        assert middle["pages"] > before["pages"]

        # --- search without diacritics, the record with highlighted words -----------------
        page.goto(f"{base}/search?q={SEARCH_WORDS.replace(' ', '+')}")
        hit = page.locator(f"#results li[data-record='{scan_id}']")
        hit.wait_for(timeout=15_000)
        assert page.locator(f"#results li[data-record='{review_id}']").count() == 0
        assert hit.locator("mark").count() >= 1
        page.screenshot(path=str(screenshots / "search.png"), full_page=True)
        hit.locator("h3 a").click()
        page.wait_for_url(re.compile(rf".*/records/{scan_id}\?q=.*"))
        page.wait_for_selector("figure.page .word.hit", timeout=15_000)
        assert page.evaluate("document.querySelector('figure.page img').naturalWidth") > 500
        assert page.text_content("[data-status]").strip() == "Đã số hoá"
        assert re.search(r"\d{2}/\d{2}/\d{4}", page.text_content(".meta"))
        page.screenshot(path=str(screenshots / "record.png"), full_page=True)

        # --- review with the keyboard -----------------------------------------------------
        page.goto(f"{base}/review")
        page.wait_for_selector(f"#review[data-record='{review_id}']")
        assert "uncertain" in (page.get_attribute(".field[data-field=number]", "class") or "")
        page.wait_for_function(
            "document.querySelector('figure.page img').complete"
            " && document.querySelector('figure.page img').naturalWidth > 0"
        )
        page.screenshot(path=str(screenshots / "review.png"))
        page.keyboard.press("e")  # the first uncertain field: the number
        assert page.evaluate("document.activeElement.name") == "number"
        page.keyboard.type(CORRECT_NUMBER)
        page.keyboard.press("Enter")
        page.wait_for_selector("#review-empty", timeout=15_000)
        record = page.request.get(f"{base}/api/v1/records/{review_id}").json()
        assert record["status"] == "digitized"
        assert record["document"]["number"] == CORRECT_NUMBER
        history = page.request.get(f"{base}/api/v1/records/{review_id}/history").json()
        changes = {h["field"]: (h["new"], h["actor"]) for h in history}
        assert changes["number"] == (CORRECT_NUMBER, "user:van-thu")

        # --- the supervisor: dashboard after, English, the report -------------------------
        sup.reload()
        after = _figures(sup)
        assert after["documents"] == middle["documents"]
        assert after["needs_review"] == before["needs_review"]
        unit_row = sup.locator(f"tr[data-unit='{STAFF_UNIT}'] [data-digitized]")
        assert int(unit_row.get_attribute("data-digitized") or -1) >= 2
        assert re.search(r"\d{2}/\d{2}/\d{4}", sup.text_content("[data-as-of]"))
        sup.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
        sup.click(".langs a[hreflang=en]")
        sup.wait_for_selector("h1:has-text('Digitization progress')")
        sup.click(".langs a[hreflang=vi]")
        sup.wait_for_selector("h1:has-text('Tiến độ số hoá')")

        progress = sup.request.get(f"{base}/api/v1/progress").json()
        with sup.expect_download() as download_info:
            sup.click("[data-export=xlsx]")
        book = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
        summary = _values(book["Tổng hợp"])
        assert summary["Văn bản đã số hóa"] == progress["quality"]["documents"]
        assert summary["Chờ kiểm tra"] == progress["quality"]["needs_review"] == 0
        assert summary["Lỗi"] == progress["quality"]["failed"]
        wards = book["Cấp phường"]
        header = [c.value for c in wards[1]]
        total = [c.value for c in wards[wards.max_row]]
        ward_units = [u for u in progress["units"] if u["kind"] == "ward"]
        assert total[header.index("Văn bản")] == sum(u["digitized_documents"] for u in ward_units)
        assert total[header.index("Trang")] == sum(u["digitized_pages"] for u in ward_units)
        assert after["documents"] == progress["totals"]["digitized_documents"]

        phone = boss.new_page()
        phone.set_viewport_size(PHONE)
        phone.goto(f"{base}/dashboard")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        phone.screenshot(path=str(screenshots / "dashboard-phone.png"), full_page=True)

        # --- logging out ends the session -------------------------------------------------
        page.click("#logout")
        page.wait_for_url(re.compile(r".*/login$"))
        page.goto(f"{base}/upload")
        assert "/login?next=%2Fupload" in page.url
    finally:
        staff.close()
        boss.close()


DOSSIER, OTHER_DOSSIER = "H49.64.33.2024.10", "H49.64.33.2024.11"


def test_staff_load_a_catalogue_and_put_documents_in_order(
    server: Server, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    """The mục lục loaded from the dossiers page (its bad row shown with its line), a
    dossier's documents in order, a taken ordinal refused on the page, a document moved."""
    scans = tmp_path / DOSSIER
    scans.mkdir()
    for name, key in (("1.pdf", "cv-12-ubnd-vx"), ("2.pdf", "qd-86-ubnd-cn1")):
        write_digital_pdf(scans / name, get_spec(key))
    done = server.sohoa("digitize", str(scans), "--unit", STAFF_UNIT, "--dossier", DOSSIER)
    assert done.returncode == 0, done.stderr
    catalog = tmp_path / "muc-luc.csv"
    catalog.write_text(
        "fileCode,title,maintenance,mode,paperFileCode\n"
        f"{DOSSIER},Hồ sơ công văn đi năm 2024,Vĩnh viễn,Công khai,H49.K2.01.10\n"
        f"{OTHER_DOSSIER},Hồ sơ quyết định năm 2024,01,01,H49.K2.01.11\n"
        "H49.64.33.2024.12,,01,01,H49.K2.01.12\n",
        encoding="utf-8",
    )
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    try:
        page = context.new_page()
        _login(page, server.base, "van-thu")
        page.click("nav a[href='/dossiers']")
        page.wait_for_url(re.compile(r".*/dossiers$"))
        page.set_input_files("#catalog-file", str(catalog))
        page.click("#catalog-send")
        page.wait_for_selector("#catalog-result:not([hidden])", timeout=15_000)
        assert page.get_attribute("#catalog-summary", "data-loaded") == "2"
        assert page.get_attribute("#catalog-summary", "data-problems") == "1"
        assert page.locator("#catalog-problems tr[data-line='4']").count() == 1
        page.screenshot(path=str(screenshots / "dossiers-load.png"), full_page=True)

        page.reload()
        row = page.locator(f"tr[data-dossier='{DOSSIER}']")
        assert row.locator("[data-documents]").get_attribute("data-documents") == "2"
        row.locator("a").first.click()
        page.wait_for_url(re.compile(rf".*/dossiers/{re.escape(DOSSIER)}$"))
        ordinals = page.locator("#documents tr[data-record]")
        assert [ordinals.nth(i).get_attribute("data-ordinal") for i in range(2)] == ["1", "2"]
        first, second = (ordinals.nth(i).get_attribute("data-record") for i in range(2))
        assert page.locator(f"a[data-package=sip][href$='{DOSSIER}/package?kind=sip']").count()
        page.screenshot(path=str(screenshots / "dossier.png"), full_page=True)

        # a taken ordinal: refused, said on the page, nothing moves
        page.select_option("#move-record", second)
        page.fill("#move-ordinal", "1")
        page.click("#move-send")
        page.wait_for_selector("#move-error:not([hidden])", timeout=15_000)
        assert "Số thứ tự 1" in page.text_content("#move-error")
        # a free one: the page shows the new order
        page.fill("#move-ordinal", "5")
        with page.expect_navigation():
            page.click("#move-send")
        assert page.get_attribute(f"tr[data-record='{second}']", "data-ordinal") == "5"
        # to the other dossier, after its last document (it has none: 1)
        page.select_option("#move-record", first)
        page.fill("#move-dossier", OTHER_DOSSIER)
        page.fill("#move-ordinal", "")
        with page.expect_navigation():
            page.click("#move-send")
        assert page.locator(f"tr[data-record='{first}']").count() == 0
        page.goto(f"{server.base}/dossiers/{OTHER_DOSSIER}")
        assert page.get_attribute(f"tr[data-record='{first}']", "data-ordinal") == "1"
        assert f"{OTHER_DOSSIER}.0000001" in page.text_content("#documents")

        page.set_viewport_size(PHONE)
        page.goto(f"{server.base}/dossiers/{DOSSIER}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        page.screenshot(path=str(screenshots / "dossier-phone.png"), full_page=True)
        page.click(".langs a[hreflang=en]")
        page.wait_for_selector("h2:has-text('Documents in the dossier')")
    finally:
        context.close()


def test_the_login_page_says_when_guessing_is_held(
    server: Server, browser: Any, screenshots: Path
) -> None:
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(f"{server.base}/login")
        for attempt in range(6):  # a name nobody has: held all the same
            page.fill("#username", "khong-co-ai")
            page.fill("#password", f"doan-{attempt}")
            with page.expect_response("**/api/v1/auth/login") as answer:
                page.click("#login-form button[type=submit]")
            assert answer.value.status == (401 if attempt < 5 else 429)
        page.wait_for_function(
            "document.getElementById('login-error').textContent.includes('Quá nhiều')"
        )
        assert not page.is_hidden("#login-error")
        page.screenshot(path=str(screenshots / "login-held.png"))
    finally:
        context.close()
