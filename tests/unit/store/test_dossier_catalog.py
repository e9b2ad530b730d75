"""Reading a mục lục hồ sơ: columns by TT 05 name or Vietnamese label in any order, codes or
words, every bad row reported with its line and reason while the good rows are kept."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from schemas.tt05 import AccessMode, Language, Maintenance, PhysicalState
from store.dossiers.catalog import CatalogError, parse_catalog


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER_VI = [
    "STT", "Tiêu đề hồ sơ", "Mã hồ sơ", "Thời hạn bảo quản", "Chế độ sử dụng",
    "Ngày bắt đầu", "Ngày kết thúc", "Số tờ", "Tình trạng vật lý", "Mã hồ sơ giấy gốc",
    "Ghi chú",
]  # fmt: skip


def test_an_xlsx_with_vietnamese_labels_under_a_title_row() -> None:
    data = _xlsx([
        ["MỤC LỤC HỒ SƠ PHÔNG UBND PHƯỜNG CỔ NHUẾ 1"],
        [],
        HEADER_VI,
        [1, "Hồ sơ về việc cấp giấy phép xây dựng năm 2023", "H49.64.33.2023.01",
         "Vĩnh viễn", "Công khai", datetime(2023, 1, 5), "28/12/2023", 124, "Tốt",
         "H49.K1.05.01", "Đủ hồ sơ"],
        [2, "Hồ sơ hội nghị tiếp xúc cử tri", "H49.64.33.2023.02", 2, "01",
         "2023-03-01", None, "87", "bình thường", "H49.K1.05.02", None],
    ])  # fmt: skip
    catalog = parse_catalog(data, "muc-luc.xlsx")
    assert catalog.problems == []
    assert catalog.ignored_columns == ["STT"]
    (line1, first), (line2, second) = catalog.dossiers
    assert (line1, line2) == (4, 5)
    assert first.file_code == "H49.64.33.2023.01"
    assert first.title == "Hồ sơ về việc cấp giấy phép xây dựng năm 2023"
    assert first.maintenance is Maintenance.permanent and first.mode is AccessMode.public
    assert (first.start_date, first.end_date) == (date(2023, 1, 5), date(2023, 12, 28))
    assert first.number_of_paper == 124 and first.format is PhysicalState.good
    assert first.languages == [Language.vietnamese]
    assert second.maintenance is Maintenance.years_70  # a code the spreadsheet made a number
    assert second.format is PhysicalState.normal and second.number_of_paper == 87


def test_a_csv_with_the_tt05_names_in_any_order_and_semicolons() -> None:
    text = (
        "paperFileCode;title;fileCode;mode;maintenance;language;riskRecovery;riskRecoveryStatus\n"
        "H49.K2.01.07;Hồ sơ tổ chức Đại hội;H49.64.33.2024.07;03;06;01,02;có;01\n"
    )
    catalog = parse_catalog(text.encode("utf-8-sig"), "catalog.csv")
    assert catalog.problems == []
    ((_, dossier),) = catalog.dossiers
    assert dossier.mode is AccessMode.secret and dossier.maintenance is Maintenance.years_10
    assert dossier.languages == [Language.vietnamese, Language.english]
    assert dossier.risk_recovery is True


def test_every_bad_row_is_reported_with_its_line_and_the_good_rows_are_kept() -> None:
    data = _xlsx([
        HEADER_VI,
        [1, "Hồ sơ tốt", "H49.1", "Vĩnh viễn", "Công khai", None, None, 3, "Tốt", "P.1", None],
        [2, "", "H49.2", "Vĩnh viễn", "Công khai", None, None, 3, "Tốt", "P.2", None],
        [3, "Hồ sơ hạn lạ", "H49.3", "Mãi mãi", "Công khai", None, None, 3, "Tốt", "P.3", None],
        [4, "Hồ sơ ngày sai", "H49.4", "01", "01", "31/02/2023", None, 3, "Tốt", "P.4", None],
        [5, "Hồ sơ thiếu mã giấy", "H49.5", "01", "01", None, None, 3, "Tốt", None, None],
        [6, "Hồ sơ trùng", "H49.1", "01", "01", None, None, 3, "Tốt", "P.6", None],
        [7, "Hồ sơ mã xấu", "H49 / 7", "01", "01", None, None, 3, "Tốt", "P.7", None],
        [8, "Hồ sơ số tờ", "H49.8", "01", "01", None, None, "ba", "Tốt", "P.8", None],
        [None] * 11,
        [10, "Hồ sơ cuối", "H49.10", "01", "01", None, None, None, None, "P.10", None],
    ])  # fmt: skip
    catalog = parse_catalog(data, "muc-luc.xlsx")
    assert [code for _, code in ((ln, d.file_code) for ln, d in catalog.dossiers)] == [
        "H49.1", "H49.10",
    ]  # fmt: skip
    problems = {p.line: p for p in catalog.problems}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9]
    assert problems[3].file_code == "H49.2" and "title" in problems[3].reason
    assert "maintenance" in problems[4].reason
    assert "31/02/2023" in problems[5].reason
    assert "paper original" in problems[6].reason
    assert "line 2" in problems[7].reason
    assert "file_code" in problems[8].reason
    assert "numberOfPaper" in problems[9].reason


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"PK\x03\x04 not really a workbook", "muc-luc.xlsx"),
        (b"a,b,c\n1,2,3\n", "muc-luc.csv"),
        (b"", "empty.csv"),
        ("Tiêu đề\nHồ sơ\n".encode(), "no-code.csv"),
    ],
)
def test_a_file_that_is_no_catalogue_says_so(data: bytes, name: str) -> None:
    with pytest.raises(CatalogError):
        parse_catalog(data, name)
