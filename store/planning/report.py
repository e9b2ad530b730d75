"""The periodic report to the steering committee: the progress table, in Vietnamese (or
English), as rows (for the terminal), CSV, and an XLSX workbook with one sheet per level.

Every figure comes from `schemas.plan.Progress`, so the files, the terminal and the dashboard
show the same numbers to the unit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schemas.i18n import DEFAULT_LANG, LANGS, Messages, pick_lang
from schemas.plan import MEASURE_LABELS, PACE_LABELS, Progress, UnitProgress
from schemas.unit import UnitKind

#: the report's words: store/planning/locale/<lang>/LC_MESSAGES/report.po
REPORT = Messages(Path(__file__).parent / "locale", "report")

#: the levels of the report: district-level bodies, then wards
LEVELS: list[tuple[str, tuple[UnitKind, ...]]] = [
    ("district", (UnitKind.district, UnitKind.department)),
    ("ward", (UnitKind.ward,)),
    ("other", (UnitKind.other,)),
]

#: the columns of a unit's line, as keys of the catalog (`report.col.<key>`)
COLUMN_KEYS = [
    "unit_code", "unit", "indicator", "measure", "target", "deadline", "inventory", "digitized",
    "share", "documents", "pages", "dossiers", "pace", "projected", "status", "needs_review",
    "failed", "ocr_confidence",
]  # fmt: skip


def columns(lang: str = DEFAULT_LANG) -> list[str]:
    return [REPORT.text(f"report.col.{key}", lang) for key in COLUMN_KEYS]


def level_label(level: str, lang: str = DEFAULT_LANG) -> str:
    return REPORT.text(f"report.level.{level}", lang)


def total_label(level: str, lang: str = DEFAULT_LANG) -> str:
    label = level_label(level, lang)
    return REPORT.text("report.total", lang, level=label.lower() if lang == "vi" else label)


def vn_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def unit_row(u: UnitProgress, lang: str = DEFAULT_LANG) -> list[object]:
    index = LANGS.index(pick_lang(lang))
    return [
        u.unit,
        u.name,
        u.indicator or "",
        MEASURE_LABELS[u.measure][index],
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
        PACE_LABELS[u.status][index],
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


def report_csv(progress: Progress, lang: str = DEFAULT_LANG) -> str:
    """All units (with a level column) and a total line per level, UTF-8 with BOM so that
    Excel opens the Vietnamese letters right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([REPORT.text("report.level", lang), *columns(lang)])
    for level, kinds in LEVELS:
        units = level_units(progress, kinds)
        if not units:
            continue
        label = level_label(level, lang)
        for u in units:
            writer.writerow([label, *("" if v is None else v for v in unit_row(u, lang))])
        total = total_row(total_label(level, lang), units)
        writer.writerow([label, *("" if v is None else v for v in total)])
    return out.getvalue()


_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")


def report_xlsx(progress: Progress, lang: str = DEFAULT_LANG) -> bytes:
    """A workbook: a summary sheet (plan, indicators, quality), one sheet per level with a
    total line, and the breakdowns by document type and by month."""

    def say(key: str, **params: object) -> str:
        return REPORT.text(f"report.{key}", lang, **params)

    index = LANGS.index(pick_lang(lang))
    book = Workbook()
    summary = book.active
    summary.title = say("sheet.summary")
    plan = progress.plan
    summary.append([say("title")])
    summary["A1"].font = Font(bold=True, size=14)
    if plan:
        date_issued = vn_date(plan.issued_on)
        summary.append([say("plan", number=plan.number, date=date_issued, issuer=plan.issuer)])
        summary.append([say("task_group", group=plan.task_group)])
    summary.append([say("as_of", date=vn_date(progress.as_of))])
    summary.append([])
    header = [
        say(f"col.{key}")
        for key in (
            "indicator", "name", "target", "deadline", "units", "inventory", "digitized",
            "share", "met", "at_risk", "late", "projected_short", "status",
        )
    ]  # fmt: skip
    _header(summary, header)
    for i in progress.indicators:
        summary.append(
            [i.code, i.name, _pct(i.target), vn_date(i.deadline), i.units, i.inventory,
             i.digitized, _pct(i.share), i.units_met, i.units_at_risk, i.units_late,
             vn_date(i.projected_on), PACE_LABELS[i.status][index]]
        )  # fmt: skip
    summary.append([])
    q = progress.quality
    summary.append([say("quality")])
    summary.append([say("quality.documents"), q.documents])
    summary.append([say("col.needs_review"), q.needs_review])
    summary.append([say("col.failed"), q.failed])
    summary.append([say("quality.ocr_confidence"), _pct(q.mean_ocr_confidence)])
    _widths(summary, [14, 70, 12, 12, 10, 12, 12, 10, 8, 10, 8, 12, 18])

    for level, kinds in LEVELS:
        units = level_units(progress, kinds)
        if not units:
            continue
        sheet = book.create_sheet(level_label(level, lang))
        _header(sheet, columns(lang))
        for u in units:
            sheet.append(unit_row(u, lang))
        sheet.append(total_row(total_label(level, lang), units))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
            cell.fill = _TOTAL_FILL
        sheet.freeze_panes = "C2"
        _widths(sheet, [26, 44, 10, 10, 10, 12, 10, 10, 9, 9, 9, 8, 10, 14, 18, 10, 6, 12])

    types = book.create_sheet(say("sheet.by_type"))
    _header(types, [say("col.type"), say("col.code"), say("col.documents"), say("col.pages")])
    for count in progress.by_type:
        types.append([count.label, count.type, count.documents, count.pages])
    _widths(types, [36, 22, 10, 10])
    months = book.create_sheet(say("sheet.by_month"))
    _header(months, [say("col.month"), say("col.documents"), say("col.pages")])
    for m in progress.by_month:
        year, month = m.month.split("-")
        months.append([f"{month}/{year}", m.documents, m.pages])
    _widths(months, [12, 10, 10])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
