"""The periodic report to the steering committee: the progress table, in Vietnamese, as rows
(for the terminal), CSV, and an XLSX workbook with one sheet per level.

Every figure comes from `schemas.plan.Progress`, so the files, the terminal and the dashboard
show the same numbers to the unit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from schemas.plan import MEASURE_LABELS, PACE_LABELS, Progress, UnitProgress
from schemas.unit import UnitKind

#: the levels of the report: district-level bodies, then wards
LEVELS: list[tuple[str, tuple[UnitKind, ...]]] = [
    ("Cấp quận", (UnitKind.district, UnitKind.department)),
    ("Cấp phường", (UnitKind.ward,)),
    ("Khác", (UnitKind.other,)),
]

COLUMNS = [
    "Mã đơn vị",
    "Đơn vị",
    "Chỉ tiêu",
    "Đơn vị đo",
    "Mục tiêu (%)",
    "Hạn",
    "Kiểm kê",
    "Đã số hóa",
    "Tỷ lệ (%)",
    "Văn bản",
    "Trang",
    "Hồ sơ",
    "Trang/ngày làm việc",
    "Dự kiến hoàn thành",
    "Tình trạng",
    "Chờ kiểm tra",
    "Lỗi",
    "Độ tin cậy OCR TB (%)",
]


def vn_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def unit_row(u: UnitProgress) -> list[object]:
    return [
        u.unit,
        u.name,
        u.indicator or "",
        MEASURE_LABELS[u.measure][0],
        _pct(u.target),
        vn_date(u.deadline),
        u.inventory,
        u.digitized,
        _pct(u.share),
        u.digitized_documents,
        u.digitized_pages,
        u.digitized_dossiers,
        u.pages_per_working_day,
        vn_date(u.projected_on),
        PACE_LABELS[u.status][0],
        u.quality.needs_review,
        u.quality.failed,
        _pct(u.quality.mean_ocr_confidence),
    ]


def level_units(progress: Progress, kinds: Iterable[UnitKind]) -> list[UnitProgress]:
    kinds = tuple(kinds)
    return [u for u in progress.units if u.kind in kinds]


def total_row(label: str, units: Sequence[UnitProgress]) -> list[object]:
    """The sum line of a table: every count is the sum of the lines above it."""
    inventory = [u.inventory for u in units if u.inventory is not None]
    counted = sum(u.digitized for u in units if u.inventory is not None)
    inv_sum = sum(inventory) if inventory else None
    return [
        "",
        label,
        "",
        "",
        None,
        "",
        inv_sum,
        sum(u.digitized for u in units),
        _pct(counted / inv_sum) if inv_sum else None,
        sum(u.digitized_documents for u in units),
        sum(u.digitized_pages for u in units),
        sum(u.digitized_dossiers for u in units),
        round(sum(u.pages_per_working_day for u in units), 3),
        "",
        "",
        sum(u.quality.needs_review for u in units),
        sum(u.quality.failed for u in units),
        None,
    ]


def report_csv(progress: Progress) -> str:
    """All units (with a level column) and a total line per level, UTF-8 with BOM so that
    Excel opens the Vietnamese letters right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["Cấp", *COLUMNS])
    for label, kinds in LEVELS:
        units = level_units(progress, kinds)
        if not units:
            continue
        for u in units:
            writer.writerow([label, *("" if v is None else v for v in unit_row(u))])
        total = total_row(f"Tổng {label.lower()}", units)
        writer.writerow([label, *("" if v is None else v for v in total)])
    return out.getvalue()


_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")


def report_xlsx(progress: Progress) -> bytes:
    """A workbook: a summary sheet (plan, indicators, quality), one sheet per level with a
    total line, and the breakdowns by document type and by month."""
    book = Workbook()
    summary = book.active
    summary.title = "Tổng hợp"
    plan = progress.plan
    title = "Báo cáo tiến độ số hóa tài liệu lưu trữ"
    summary.append([title])
    summary["A1"].font = Font(bold=True, size=14)
    if plan:
        summary.append([f"Kế hoạch {plan.number} ngày {vn_date(plan.issued_on)} — {plan.issuer}"])
        summary.append([f"Nhóm nhiệm vụ: {plan.task_group}"])
    summary.append([f"Số liệu đến ngày {vn_date(progress.as_of)}"])
    summary.append([])
    header = [
        "Chỉ tiêu", "Nội dung", "Mục tiêu (%)", "Hạn", "Số đơn vị", "Kiểm kê", "Đã số hóa",
        "Tỷ lệ (%)", "Đạt", "Có nguy cơ", "Chậm", "Dự kiến", "Tình trạng",
    ]  # fmt: skip
    _header(summary, header)
    for i in progress.indicators:
        summary.append(
            [i.code, i.name, _pct(i.target), vn_date(i.deadline), i.units, i.inventory,
             i.digitized, _pct(i.share), i.units_met, i.units_at_risk, i.units_late,
             vn_date(i.projected_on), PACE_LABELS[i.status][0]]
        )  # fmt: skip
    summary.append([])
    q = progress.quality
    summary.append(["Chất lượng"])
    summary.append(["Văn bản đã số hóa", q.documents])
    summary.append(["Chờ kiểm tra", q.needs_review])
    summary.append(["Lỗi", q.failed])
    summary.append(["Độ tin cậy OCR trung bình (%)", _pct(q.mean_ocr_confidence)])
    _widths(summary, [14, 70, 12, 12, 10, 12, 12, 10, 8, 10, 8, 12, 18])

    for label, kinds in LEVELS:
        units = level_units(progress, kinds)
        if not units:
            continue
        sheet = book.create_sheet(label)
        _header(sheet, COLUMNS)
        for u in units:
            sheet.append(unit_row(u))
        sheet.append(total_row(f"Tổng {label.lower()}", units))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
            cell.fill = _TOTAL_FILL
        sheet.freeze_panes = "C2"
        _widths(sheet, [26, 44, 10, 10, 10, 12, 10, 10, 9, 9, 9, 8, 10, 14, 18, 10, 6, 12])

    types = book.create_sheet("Theo loại văn bản")
    _header(types, ["Loại văn bản", "Mã", "Văn bản", "Trang"])
    for t in progress.by_type:
        types.append([t.label, t.type, t.documents, t.pages])
    _widths(types, [36, 22, 10, 10])
    months = book.create_sheet("Theo tháng")
    _header(months, ["Tháng", "Văn bản", "Trang"])
    for m in progress.by_month:
        year, month = m.month.split("-")
        months.append([f"{month}/{year}", m.documents, m.pages])
    _widths(months, [12, 10, 10])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    sheet.append(names)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(sheet, widths: list[int]) -> None:  # type: ignore[no-untyped-def]
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
