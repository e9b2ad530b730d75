"""Progress toward the plan on fixed data, on SQLite and PostgreSQL: the arithmetic, the edge
cases (no inventory, deadline passed, zero pace), the API, the XLSX/CSV report and the CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import app
from schemas.plan import Pace, Plan, Progress
from store import unit_of_work
from store.planning.plans import PlanError, load_plan, parse_plan, read_plan_file
from store.planning.progress import compute_progress, judge
from store.planning.workdays import (
    add_working_days,
    holiday_name,
    is_working_day,
    working_days_between,
)
from store.platform.models import DocumentRow, PageRow
from store.services import Services, set_services
from tests.conftest import bearer

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "deploy" / "plan" / "bac-tu-liem-2023.yaml"
AS_OF = date(2026, 10, 30)  # a Friday; the 28 days before it hold exactly 20 working days

PLAN = f"""
number: 251/KH-UBND
issued_on: 2023-05-29
issuer: Ủy ban nhân dân quận Bắc Từ Liêm
title: Kế hoạch thử
task_group: Phát triển dữ liệu số
indicators:
  - code: DLS-01
    name: Cấp quận
    unit_kinds: [district, department]
    target: 100%
    deadline: {AS_OF + timedelta(days=60)}
  - code: DLS-02
    name: Cấp phường
    unit_kinds: [ward]
    target: 0.7
    deadline: {AS_OF - timedelta(days=10)}
inventory:
  - {{unit: phong-noi-vu, documents: 100, pages: 400}}
  - {{unit: phong-tu-phap, documents: 10}}
  - {{unit: phuong-co-nhue-1, documents: 50}}
  - {{unit: phong-y-te, documents: 0}}
  - {{unit: thanh-tra-quan, documents: 30}}
  - {{unit: phong-kinh-te, documents: 20}}
  - {{unit: phuong-xuan-dinh, documents: 4}}
"""


def _at(day: date, hour: int = 10) -> datetime:
    """A moment of a Vietnamese working day, in UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)


def _docs(
    session,  # type: ignore[no-untyped-def]
    unit: str | None,
    n: int,
    *,
    day: date,
    status: str = "digitized",
    pages: int = 2,
    confidence: float | None = 0.9,
    doc_type: str = "cong_van",
) -> None:
    for i in range(n):
        doc_id = uuid.uuid4().hex[:26]
        session.add(
            DocumentRow(
                id=doc_id, unit_code=unit, dossier=f"{unit}-H{i % 3}", filename=f"{i}.pdf",
                sha256=uuid.uuid4().hex * 2, size=1000, page_count=pages, status=status,
                digitized_at=_at(day) if status != "failed" else None,
                doc_type=doc_type if status != "failed" else None,
                created_at=_at(day), updated_at=_at(day),
            )
        )  # fmt: skip
        if status != "failed":
            for p in range(1, pages + 1):
                session.add(
                    PageRow(document_id=doc_id, number=p, text="x", method="ocr",
                            confidence=confidence)
                )  # fmt: skip


@pytest.fixture
def fixed(svc: Services) -> Services:
    """The fixed data set every figure below is computed from by hand."""
    old = AS_OF - timedelta(days=100)
    recent = AS_OF - timedelta(days=3)
    with unit_of_work(svc.sessions) as session:
        load_plan(session, parse_plan(PLAN), actor="test")
        _docs(session, "phong-noi-vu", 20, day=old)
        _docs(session, "phong-noi-vu", 20, day=recent, doc_type="quyet_dinh")
        _docs(session, "phong-noi-vu", 2, day=recent, status="needs_review", confidence=0.7)
        _docs(session, "phong-noi-vu", 3, day=recent, status="failed")
        _docs(session, "phong-tu-phap", 10, day=old)
        _docs(session, "phuong-co-nhue-1", 5, day=old)
        _docs(session, "phuong-thuong-cat", 3, day=recent)  # a ward with no inventory
        _docs(session, "phong-kinh-te", 10, day=recent, pages=1)
        _docs(session, None, 4, day=recent)  # not yet assigned to a unit
    return svc


def _unit(progress: Progress, code: str):  # type: ignore[no-untyped-def]
    return next(u for u in progress.units if u.unit == code)


def test_tet_week_is_not_worked() -> None:
    # Tết Bính Ngọ: Monday 16 to Friday 20 February 2026 are public holidays
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 22)) == 0
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert holiday_name(date(2026, 2, 17)) == "Tết Nguyên Đán"
    # Saturday 26 April 2025 was worked in exchange for Friday 2 May
    assert working_days_between(date(2025, 4, 25), date(2025, 5, 4)) == 3  # Sat 26, Mon 28, Tue 29
    assert is_working_day(date(2025, 4, 26)) and not is_working_day(date(2025, 5, 2))


def test_calendar_arithmetic() -> None:
    assert working_days_between(AS_OF - timedelta(days=28), AS_OF) == 20
    assert working_days_between(AS_OF, AS_OF) == 0
    assert add_working_days(AS_OF, 1) == date(2026, 11, 2)  # Friday → Monday
    assert add_working_days(AS_OF, 0) == AS_OF
    assert add_working_days(AS_OF, 10) == date(2026, 11, 13)
    # 24 November 2026, Vietnam Cultural Day, is a day off: twenty working days end on the 30th
    assert add_working_days(AS_OF, 20) == date(2026, 11, 30)
    deadline = AS_OF + timedelta(days=30)
    assert judge(10, 10, 1.0, deadline, 0, AS_OF) == (Pace.met, None)
    assert judge(6, 10, 0.7, deadline, 0, AS_OF) == (Pace.at_risk, None)  # no pace: never
    assert judge(7, 10, 0.7, deadline, 0, AS_OF)[0] is Pace.met  # 70% of 10 is 7
    assert judge(0, 10, 1.0, AS_OF - timedelta(days=1), 1, AS_OF)[0] is Pace.late
    assert judge(0, None, 1.0, deadline, 1, AS_OF) == (Pace.no_inventory, None)
    assert judge(0, 10, 1.0, deadline, 1.0, AS_OF) == (Pace.on_track, date(2026, 11, 13))
    # a trickle: no date centuries away, just at risk
    assert judge(0, 100_000, 1.0, deadline, 0.05, AS_OF) == (Pace.at_risk, None)


def test_progress_per_unit_on_fixed_data(fixed: Services) -> None:
    with unit_of_work(fixed.sessions) as session:
        progress = compute_progress(session, as_of=AS_OF)
    noi_vu = _unit(progress, "phong-noi-vu")
    # 40 digitized + 2 waiting for review count as digitized; the 3 failed do not
    assert (noi_vu.digitized, noi_vu.inventory, noi_vu.share) == (42, 100, 0.42)
    assert noi_vu.digitized_pages == 84 and noi_vu.digitized_dossiers == 3
    assert noi_vu.per_working_day == 1.1  # 22 documents over 20 working days
    assert noi_vu.pages_per_working_day == 2.2
    # 58 to go at 1.1 a day: 53 working days → after the deadline
    assert noi_vu.projected_on == add_working_days(AS_OF, 53)
    assert noi_vu.status is Pace.at_risk
    assert noi_vu.quality.needs_review == 2 and noi_vu.quality.failed == 3
    assert noi_vu.quality.mean_ocr_confidence == pytest.approx((80 * 0.9 + 4 * 0.7) / 84, 1e-3)

    assert _unit(progress, "phong-tu-phap").status is Pace.met
    assert _unit(progress, "phong-y-te").status is Pace.met  # nothing on paper to digitize
    kinh_te = _unit(progress, "phong-kinh-te")  # 10 to go at 0.5 a day: 20 working days
    assert kinh_te.status is Pace.on_track and kinh_te.projected_on == date(2026, 11, 30)
    thanh_tra = _unit(progress, "thanh-tra-quan")  # nothing done, nothing going on
    assert thanh_tra.status is Pace.at_risk and thanh_tra.projected_on is None
    assert thanh_tra.per_working_day == 0
    co_nhue = _unit(progress, "phuong-co-nhue-1")  # the wards' deadline has passed
    assert co_nhue.status is Pace.late and co_nhue.share == 0.1 and co_nhue.projected_on is None
    thuong_cat = _unit(progress, "phuong-thuong-cat")
    assert thuong_cat.status is Pace.no_inventory and thuong_cat.share is None
    assert thuong_cat.digitized == 3
    # the worst first
    order = [u.status for u in progress.units]
    assert order.index(Pace.late) < order.index(Pace.at_risk) < order.index(Pace.on_track)
    assert order[-1] is Pace.met


def test_progress_per_indicator_type_month_and_day(fixed: Services) -> None:
    with unit_of_work(fixed.sessions) as session:
        progress = compute_progress(session, as_of=AS_OF)
    district, wards = progress.indicators
    # units of the district level with an inventory: noi-vu 100, tu-phap 10, y-te 0,
    # thanh-tra 30, kinh-te 20 → 160; digitized 42 + 10 + 0 + 0 + 10
    assert (district.inventory, district.digitized, district.share) == (160, 62, 0.3875)
    assert district.units_with_inventory == 5 and district.units_met == 2
    assert district.status is Pace.at_risk
    assert (wards.inventory, wards.digitized) == (54, 5)
    assert wards.status is Pace.late and wards.units_late == 2
    types = {t.type: t.documents for t in progress.by_type}
    assert types == {"cong_van": 54, "quyet_dinh": 20}
    assert sum(t.documents for t in progress.by_type) == 74  # 70 with a unit + 4 without
    assert sum(m.documents for m in progress.by_month) == 74
    days = {d.day: d.documents for d in progress.by_day}
    assert days[AS_OF - timedelta(days=3)] == 20 + 2 + 3 + 10 + 4
    assert progress.quality.failed == 3 and progress.quality.needs_review == 2
    totals = progress.totals
    assert totals is not None
    assert totals.digitized_documents == sum(u.digitized_documents for u in progress.units) == 70
    assert totals.inventory == 214


def test_a_database_with_no_plan_and_no_records(svc: Services) -> None:
    with unit_of_work(svc.sessions) as session:
        progress = compute_progress(session, as_of=AS_OF)
    assert progress.plan is None and progress.indicators == []
    assert all(u.status is Pace.no_inventory and u.digitized == 0 for u in progress.units)
    assert progress.by_day == [] and progress.quality.mean_ocr_confidence is None


def test_api_report_files_match_the_json(fixed: Services) -> None:
    set_services(fixed)
    try:
        with TestClient(app, headers=bearer(fixed, "reports:read")) as client:
            data = client.get("/api/v1/progress", params={"as_of": AS_OF.isoformat()}).json()
            xlsx = client.get("/api/v1/progress/report.xlsx", params={"as_of": str(AS_OF)})
            csv_text = client.get("/api/v1/progress/report.csv", params={"as_of": str(AS_OF)})
            english = {"as_of": str(AS_OF), "lang": "en"}
            xlsx_en = client.get("/api/v1/progress/report.xlsx", params=english)
            csv_en = client.get("/api/v1/progress/report.csv", params=english)
            unknown = client.get("/api/v1/progress/report.csv", params={"lang": "fr"})
            staff = bearer(fixed, "records:read", "records:write", units=["phong-noi-vu"])
            assert client.get("/api/v1/progress", headers=staff).status_code == 403
            mine = client.put(
                "/api/v1/progress/inventory/phong-noi-vu",
                json={"documents": 120, "pages": 500},
                headers=staff,
            )
            assert mine.status_code == 200, mine.text
            other = client.put(
                "/api/v1/progress/inventory/phong-tu-phap", json={"documents": 1}, headers=staff
            )
            assert other.status_code == 403
            bad = client.put(
                "/api/v1/progress/inventory/phong-noi-vu", json={"documents": -1}, headers=staff
            )
            assert bad.status_code == 422
            after = client.get("/api/v1/progress", params={"as_of": str(AS_OF)}).json()
    finally:
        set_services(None)
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[:3] == ["Tổng hợp", "Cấp quận", "Cấp phường"]
    units = {u["unit"]: u for u in data["units"]}
    for sheet_name, kinds in (("Cấp quận", {"district", "department"}), ("Cấp phường", {"ward"})):
        rows = list(book[sheet_name].iter_rows(values_only=True))
        header, body, total = rows[0], rows[1:-1], rows[-1]
        col = {name: i for i, name in enumerate(header)}
        level = [u for u in data["units"] if u["kind"] in kinds]
        assert [r[0] for r in body] == [u["unit"] for u in level]
        for row in body:  # every line is the API's line
            u = units[row[0]]
            assert row[col["Đã số hóa"]] == u["digitized"]
            assert row[col["Trang"]] == u["digitized_pages"]
            assert row[col["Kiểm kê"]] == u["inventory"]
        assert total[col["Đã số hóa"]] == sum(u["digitized"] for u in level)
        assert total[col["Trang"]] == sum(u["digitized_pages"] for u in level)
        assert total[col["Lỗi"]] == sum(u["quality"]["failed"] for u in level)
    lines = csv_text.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Cấp,Mã đơn vị,Đơn vị")
    assert sum(1 for line in lines if line.startswith("Cấp quận,")) == 13 + 1  # and the total
    noi_vu = next(u for u in after["units"] if u["unit"] == "phong-noi-vu")
    assert noi_vu["inventory"] == 120 and noi_vu["share"] == 0.35
    # the same report in English: the same figures under English words
    book_en = load_workbook(io.BytesIO(xlsx_en.content))
    assert book_en.sheetnames == ["Summary", "District level", "Ward level", "By document type",
                                  "By month"][: len(book_en.sheetnames)]  # fmt: skip
    assert book_en["Summary"]["A1"].value == "Archive digitization progress report"
    rows_en = list(book_en["District level"].iter_rows(values_only=True))
    rows_vi = list(book["Cấp quận"].iter_rows(values_only=True))
    assert rows_en[0][:3] == ("Unit code", "Unit", "Indicator")
    assert [r[7] for r in rows_en[1:]] == [r[7] for r in rows_vi[1:]]
    assert rows_en[-1][1] == "Total, District level"
    assert {r[14] for r in rows_en[1:-1]} <= {"Met", "On track", "At risk", "Late", "No inventory"}
    lines_en = csv_en.content.decode("utf-8-sig").splitlines()
    assert lines_en[0].startswith("Level,Unit code,Unit") and len(lines_en) == len(lines)
    assert unknown.status_code == 422


def test_plan_files_are_validated(svc: Services) -> None:
    plan = read_plan_file(EXAMPLE)
    assert plan.number == "251/KH-UBND" and len(plan.inventory) == 26
    district, wards = plan.indicators
    assert district.target > wards.target  # stricter for the district than for the wards
    for text, problem in (
        ("number: [", "YAML"),
        ("- a\n- b\n", "mapping"),
        (PLAN.replace("target: 0.7", "target: 1.5"), "target"),
        (PLAN.replace("code: DLS-02", "code: DLS-01"), "unique"),
        (PLAN.replace("unit_kinds: [ward]", "unit_kinds: [village]"), "unit_kinds"),
        (PLAN + "  - {unit: phong-noi-vu, documents: 1}\n", "twice"),
        (PLAN + "surprise: 1\n", "surprise"),
        ("x: " + "a" * (1024 * 1024), "1 MiB"),
    ):
        with pytest.raises(PlanError, match=problem):
            parse_plan(text)
    unknown = PLAN.replace("unit: phong-tu-phap", "unit: khong-co-don-vi")
    with unit_of_work(svc.sessions) as session, pytest.raises(PlanError, match="unknown unit"):
        load_plan(session, parse_plan(unknown), actor="test")
    assert isinstance(parse_plan(PLAN), Plan)


def test_cli_loads_the_example_plan_and_prints_the_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["SOHOA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["COLUMNS"] = "200"

    def sohoa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    loaded = sohoa("plan", "load", str(EXAMPLE))
    assert loaded.returncode == 0, loaded.stderr
    assert "2 indicators" in loaded.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("number: 1\n", encoding="utf-8")
    assert sohoa("plan", "load", str(broken)).returncode == 2
    assert sohoa("plan", "inventory", "phong-noi-vu", "--documents", "5").returncode == 0
    assert sohoa("plan", "inventory", "khong-co", "--documents", "5").returncode == 2
    xlsx = tmp_path / "r.xlsx"
    printed = sohoa("report", "--as-of", "27/11/2026", "--xlsx", str(xlsx))
    assert printed.returncode == 0, printed.stderr
    assert "Cấp phường" in printed.stdout and "Tổng cấp quận" in printed.stdout
    english = sohoa("report", "--as-of", "27/11/2026", "--lang", "en")
    assert "Ward level" in english.stdout and "Total, District level" in english.stdout
    assert sohoa("report", "--lang", "fr").returncode == 2
    assert "Chậm tiến độ" in printed.stdout  # the example's deadlines are in 2025
    assert load_workbook(xlsx).sheetnames[0] == "Tổng hợp"
