"""The field readers of `classify`: text folding, numbers, dates, types, issuers, signers."""

from __future__ import annotations

from datetime import date

import pytest

from classify.dates import parse_date, parse_passed_date
from classify.issuer import (
    locality,
    match_unit,
    name_key,
    proper_case,
    restore_marks,
    split_parent,
    title_case,
)
from classify.layout import Row, Seg
from classify.numbers import looks_misread, parse_number, repair_type_part
from classify.signer import name_run, read_signer
from classify.text import fix_digits, fold, modern_tones
from classify.types import match_title, type_from_abbreviation
from schemas.vocab import default_units


def test_fold_keeps_length_and_drops_marks() -> None:
    for text in ("ỦY BAN NHÂN DÂN", "Đông Ngạc", "Ð", "x\u0301y"):
        assert len(fold(text)) == len(text)
    assert fold("CỘNG HÒA XÃ HỘI") == "cong hoa xa hoi"
    assert fold("Đức Thắng") == "duc thang"


def test_tone_placements_compare_equal() -> None:
    assert modern_tones("hoà") == "hòa"
    assert modern_tones("UỶ BAN") == "ỦY BAN"
    assert modern_tones("thuỷ lợi") == "thủy lợi"
    assert modern_tones("hoàng") == "hoàng"  # the mark of a closed syllable stays


@pytest.mark.parametrize(
    ("token", "fixed"), [("2O23", "2023"), ("l5", "15"), ("05", "05"), ("lO", None), ("ab", None)]
)
def test_digit_lookalikes(token: str, fixed: str | None) -> None:
    assert fix_digits(token) == fixed


@pytest.mark.parametrize(
    ("line", "number", "code", "notation"),
    [
        ("Số: 251/KH-UBND", "251/KH-UBND", "251", "KH-UBND"),
        ("Sô: 12/UBND-VX", "12/UBND-VX", "12", "UBND-VX"),
        ("S6: 30/2020/NĐ-CP", "30/2020/NĐ-CP", "30", "NĐ-CP"),
        ("Số:  04 /CT-UBND", "04/CT-UBND", "04", "CT-UBND"),
        ("Số: 2O1/KH- UBND", "201/KH-UBND", "201", "KH-UBND"),
        ("Số: 157/QĐ-NĐ-UB", "157/QĐ-NĐ-UB", "157", "QĐ-NĐ-UB"),
        ("Luật số: 140/2025/QH15", "140/2025/QH15", "140", "QH15"),
        ("Số: 66.15/2026/NQ-CP", "66.15/2026/NQ-CP", "66.15", "NQ-CP"),
        ("Số: 45/TB-PNV Bắc Từ Liêm, ngày 15", "45/TB-PNV", "45", "TB-PNV"),
        ("Số: 12/QÐ-UBND", "12/QĐ-UBND", "12", "QĐ-UBND"),  # Eth read for Đ
    ],
)
def test_number_line(line: str, number: str, code: str, notation: str) -> None:
    read = parse_number(line)
    assert read is not None
    assert (read.number, read.code_number, read.code_notation) == (number, code, notation)


def test_a_blank_number_is_not_guessed() -> None:
    read = parse_number("Số: ......./KH-UBND")
    assert read is not None
    assert read.number is None and read.code_number is None
    assert read.code_notation == "KH-UBND"


def test_a_heading_starting_with_so_is_no_number() -> None:
    assert parse_number("SỞ TÀI CHÍNH") is None


@pytest.mark.parametrize(
    ("line", "day", "place"),
    [
        ("Bắc Từ Liêm, ngày 29 tháng 5 năm 2023", date(2023, 5, 29), "Bắc Từ Liêm"),
        ("Hà Nội, ngày 24/7/1993", date(1993, 7, 24), "Hà Nội"),
        ("Hà Nội, ngày 24 / 7/ 1993", date(1993, 7, 24), "Hà Nội"),
        ("Cổ Nhuế 1, ngảy 05 thảng 02 nãm 2O24", date(2024, 2, 5), "Cổ Nhuế 1"),
        ("TP. Hồ Chí Minh, ngày l5 tháng 3 năm 2024", date(2024, 3, 15), "TP. Hồ Chí Minh"),
    ],
)
def test_date_line(line: str, day: date, place: str) -> None:
    read = parse_date(line)
    assert read is not None
    assert (read.issued_on, read.place) == (day, place)


@pytest.mark.parametrize(
    "line",
    ["Hà Nội, ngày ..... tháng 5 năm 2023", "Hà Nội, ngày    tháng 5 năm 2023",
     "Hà Nội, ngày 31 tháng 02 năm 2023", "Hà Nội, ngày 12 tháng 5 năm 1820"],
)  # fmt: skip
def test_an_unreadable_or_impossible_date_stays_null(line: str) -> None:
    read = parse_date(line)
    assert read is not None and read.issued_on is None and read.problem
    assert read.place == "Hà Nội"


def test_law_date_from_its_end() -> None:
    text = "Luật này được Quốc hội khóa XV, Kỳ họp thứ 10 thông qua ngày 10 tháng 12 năm 2025."
    assert parse_passed_date(text) == date(2025, 12, 10)


@pytest.mark.parametrize(
    ("title", "code"),
    [("KẾ HOẠCH", "ke_hoach"), ("KÉ HOẠCH", "ke_hoach"), ("QUYET DINH", "quyet_dinh"),
     ("QUY ĐỊNH", "quy_dinh"), ("THÔNG TƯ LIÊN TỊCH", "khac"), ("LUẬT", "luat"),
     ("GIẤY CHỨNG NHẬN", "khac"), ("VĂN BẢN HỢP NHẤT", "khac"),
     ("TỜ TRÌNH", "to_trinh"), ("NGHI DJNH", "nghi_dinh"), ("PHÁP LỆNH", "khac"),
     ("GIẤY MỜI", "giay_moi"), ("THƯ CẢM ƠN", "thu_cong")],
)  # fmt: skip
def test_type_titles(title: str, code: str) -> None:
    found = match_title(title)
    assert found is not None and found.code == code


@pytest.mark.parametrize("line", ["Kế hoạch", "CHỦ TỊCH", "KHẨN", "LUAI", "Căn cứ Luật"])
def test_what_is_no_title(line: str) -> None:
    assert match_title(line) is None


def test_a_near_tie_between_titles_is_broken_by_the_symbol() -> None:
    found = match_title("QUYCT ĐỊNH", hint="quyet_dinh")
    assert found is not None and found.code == "quyet_dinh"


@pytest.mark.parametrize(
    ("part", "code"),
    [("KH", "ke_hoach"), ("NĐ", "nghi_dinh"), ("HĐ", "hop_dong"), ("HD", "huong_dan"),
     ("TTr", "to_trinh"), ("TT", "thong_tu"), ("CTr", "chuong_trinh"), ("QyĐ", "quy_dinh"),
     ("UBND", None), ("QH15", None)],
)  # fmt: skip
def test_type_abbreviations(part: str, code: str | None) -> None:
    assert type_from_abbreviation(part) == code


@pytest.mark.parametrize(
    ("lines", "parent", "issuer"),
    [
        (["ỦY BAN NHÂN DÂN", "QUẬN BẮC TỪ LIÊM"], [], ["ỦY BAN NHÂN DÂN", "QUẬN BẮC TỪ LIÊM"]),
        (["UBND QUẬN BẮC TỪ LIÊM", "PHÒNG NỘI VỤ"], ["UBND QUẬN BẮC TỪ LIÊM"], ["PHÒNG NỘI VỤ"]),
        (
            ["UBND QUẬN BẮC TỪ LIÊM", "UBND PHƯỜNG CỔ NHUẾ 1"],
            ["UBND QUẬN BẮC TỪ LIÊM"],
            ["UBND PHƯỜNG CỔ NHUẾ 1"],
        ),
        (["NGÂN HÀNG NHÀ NƯỚC", "VIỆT NAM"], [], ["NGÂN HÀNG NHÀ NƯỚC", "VIỆT NAM"]),
        (["ỦY BAN THƯỜNG VỤ", "QUỐC HỘI"], [], ["ỦY BAN THƯỜNG VỤ", "QUỐC HỘI"]),
        (
            ["UBND THÀNH PHỐ HÀ NỘI", "SỞ TÀI NGUYÊN VÀ", "MÔI TRƯỜNG"],
            ["UBND THÀNH PHỐ HÀ NỘI"],
            ["SỞ TÀI NGUYÊN VÀ", "MÔI TRƯỜNG"],
        ),
    ],
)
def test_parent_and_issuer(lines: list[str], parent: list[str], issuer: list[str]) -> None:
    assert split_parent(lines) == (parent, issuer)


@pytest.mark.parametrize(
    ("printed", "name"),
    [("BỘ KHOA HỌC VÀ CÔNG NGHỆ", "Bộ Khoa học và Công nghệ"),
     ("NGÂN HÀNG NHÀ NƯỚC VIỆT NAM", "Ngân hàng Nhà nước Việt Nam"),
     ("ỦY BAN THƯỜNG VỤ QUỐC HỘI", "Ủy ban Thường vụ Quốc hội"),
     ("UBND TỈNH NGHỆ AN", "Ủy ban nhân dân tỉnh Nghệ An"),
     ("PHÒNG LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "Phòng Lao động - Thương binh và Xã hội"),
     ("UỶ BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "Ủy ban nhân dân thành phố Hà Nội")],
)  # fmt: skip
def test_issuer_capitalisation(printed: str, name: str) -> None:
    assert proper_case(printed) == name


def test_signer_titles() -> None:
    assert title_case("PHÓ CHỦ TỊCH") == "Phó Chủ tịch"
    assert title_case("CHỦ TỊCH QUỐC HỘI") == "Chủ tịch Quốc hội"
    assert title_case("Q. CHỦ TỊCH") == "Q. Chủ tịch"


def test_names_compare_across_spellings() -> None:
    assert name_key("UBND PHƯỜNG THỤY PHƯƠNG") == name_key("Ủy ban nhân dân phường Thuỵ Phương")


@pytest.mark.parametrize(
    ("issuer", "parent", "code"),
    [
        ("PHÒNG NỘI VỤ", "UBND QUẬN BẮC TỪ LIÊM", "phong-noi-vu"),
        ("UBND PHƯỜNG CỔ NHUẾ 1", "UBND QUẬN BẮC TỪ LIÊM", "phuong-co-nhue-1"),
        ("ỦY BAN NHÂN DÂN QUẬN BẮC TỪ LIÊM", None, "quan-bac-tu-liem"),
        ("ÚY BAN NHÂN DÂN QUẬN BẮC TỪ LIÊM", None, "quan-bac-tu-liem"),
        ("UBND PHƯỜNG PHÚ DIỄN", None, "phuong-phu-dien"),
        ("UBND PHƯỜNG PHÚC DIỄN", None, "phuong-phuc-dien"),
        ("PHÒNG NỘI VỤ", "UBND QUẬN CẦU GIẤY", None),  # another district's
        ("UBND PHƯỜNG CỔ NHUẾ", None, None),  # 1 or 2: not to be guessed
        ("UBND TỈNH NGHỆ AN", None, None),
    ],
)
def test_known_units(issuer: str, parent: str | None, code: str | None) -> None:
    found = match_unit(issuer, parent, default_units())
    assert (found.unit.code if found else None) == code


def test_units_out_of_their_time_are_not_matched() -> None:
    units = default_units()
    assert match_unit("PHÒNG NỘI VỤ", "UBND QUẬN BẮC TỪ LIÊM", units, date(2025, 8, 1)) is None
    assert match_unit("PHÒNG NỘI VỤ", "UBND QUẬN BẮC TỪ LIÊM", units, date(2020, 8, 1))


@pytest.mark.parametrize(
    ("line", "name"),
    [("Nguyễn Văn Thành", "Nguyễn Văn Thành"),
     ("- Lưu: VT, VHTT. Nguyễn Văn Thành", "Nguyễn Văn Thành"),
     ("Thượng tướng Nguyễn Trường Thắng", "Nguyễn Trường Thắng"),  # the rank is no name
     ("PGS.TS. Nguyễn Đình Hiền", "Nguyễn Đình Hiền"),
     ("Ss Trần Văn Bình", "Trần Văn Bình"),  # a stray mark of the seal before the name
     ("- Lưu: VT.", None), ("Hà", None)],
)  # fmt: skip
def test_signer_name(line: str, name: str | None) -> None:
    found = name_run(line)
    assert (found[0] if found else None) == name


def test_symbol_type_part_repaired_from_the_title() -> None:
    read = parse_number("Số: 86/QĐĐ-UBND")
    assert read is not None
    fixed = repair_type_part(read, "QĐ")
    assert fixed is not None and (fixed.number, fixed.code_notation) == ("86/QĐ-UBND", "QĐ-UBND")
    far = parse_number("Số: 86/KH-UBND")
    assert far is not None and repair_type_part(far, "QĐ") is None


@pytest.mark.parametrize(
    ("notation", "misread"),
    [("KH-UBND", False), ("TTr-UBND", False), ("QĐ-TTg", False), ("STTTT-VP", False),
     ("GUQ-TIr", True), ("TTT-ĐT", True)],
)  # fmt: skip
def test_misread_notations(notation: str, misread: bool) -> None:
    assert looks_misread(notation) is misread


def test_marks_put_back_on_capitals() -> None:
    assert restore_marks("UBND HUYỆN TƯ LIEM", ["Từ Liêm"]) == "UBND HUYỆN TỪ LIÊM"
    assert restore_marks("SỞ THONG TIN VÀ TRUYEN THONG") == "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    assert restore_marks("ỦY BAN NHÂN DÂN TĨNH NGHỆ AN") == "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN"
    assert restore_marks("BAN QUẢN LÝ DỰ ÁN") == "BAN QUẢN LÝ DỰ ÁN"  # marked words stay


def test_locality_of_a_unit_name() -> None:
    assert locality("Ủy ban nhân dân phường Đông Ngạc") == "Đông Ngạc"
    assert locality("Ủy ban nhân dân quận Bắc Từ Liêm") == "Bắc Từ Liêm"


@pytest.mark.parametrize(
    ("read", "name"),
    [("Trần Thanh Quần", "Trần Thanh Quân"), ("Hoàng Vẫn Hà", "Hoàng Văn Hà"),
     ("Độ Thí Sơn", "Đỗ Thị Sơn"), ("Phạm Hữư Đức Linh", "Phạm Hữu Đức Linh"),
     ("Nguyễn Văn Thành", "Nguyễn Văn Thành")],
)  # fmt: skip
def test_name_marks_misread_under_a_seal(read: str, name: str) -> None:
    found = name_run(read)
    assert found is not None and found[0] == name


@pytest.mark.parametrize("read", ["Văn Kim Quân", "Km Tuấn", "1rịnh Ñgớc Tùng"])
def test_a_name_without_its_surname_is_not_recorded(read: str) -> None:
    assert name_run(read) is None


@pytest.mark.parametrize(
    ("line", "title"),
    [("⁄5'Q: CHỦ TỊCH", "Q. CHỦ TỊCH"), ("CñỦ TỊCH'QUỐC HỘI", "CHỦ TỊCH QUỐC HỘI"),
     ("Z PHÓ CHỦ TỊCH", "PHÓ CHỦ TỊCH"), ("PHỐ CHÁNH-THANH TRA", "PHÓ CHÁNH THANH TRA")],
)  # fmt: skip
def test_signer_titles_read_through_the_seal(line: str, title: str) -> None:
    rows = [Row([Seg(line)]), Row([Seg("Nguyễn Văn An")])]
    found = read_signer(rows)
    assert found.title == title
    assert found.name == "Nguyễn Văn An"
