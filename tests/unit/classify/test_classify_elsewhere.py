"""Number and date lines outside the header table: a certificate's foot, a consolidated text's
closing block; never instead of a header line that is there."""

from __future__ import annotations

from datetime import date

from classify import classify
from classify.elsewhere import date_elsewhere, number_elsewhere
from classify.layout import PageInput, page_rows

CERTIFICATE = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
GIẤY CHỨNG NHẬN
CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM
ỦY BAN NHÂN DÂN THÀNH PHỐ THANH HÓA
Chứng nhận
Cơ sở: HỘ KINH DOANH BÁNH TRUNG THU BÀ BÀI
Điện thoại: 0912 345 678 Fax: ....................
Số điện thoại: 0237 385 2000
Căn cứ Quyết định số 12/2020/QĐ-UBND ngày 05 tháng 3 năm 2020 của UBND tỉnh
ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM THEO QUY ĐỊNH
TP Thanh Hóa, ngày 30 tháng 8 năm 2023
KT. CHỦ TỊCH
PHÓ CHỦ TỊCH
Lê Mai Khanh
Số cấp: 155 /2023/GCNATTP-TPTH
Giấy chứng nhận có hiệu lực đến
Ngày 30 tháng 8 năm 2026
"""


def _rows(text: str):  # type: ignore[no-untyped-def]
    return page_rows(PageInput(1, text))


def test_a_certificate_foot_gives_number_and_date() -> None:
    number = number_elsewhere(_rows(CERTIFICATE))
    assert number is not None and number.number == "155/2023/GCNATTP-TPTH"
    when = date_elsewhere(_rows(CERTIFICATE))
    assert when is not None and when.issued_on == date(2023, 8, 30)
    assert when.place == "TP Thanh Hóa"
    result = classify([PageInput(1, CERTIFICATE)])
    assert result.document.number == "155/2023/GCNATTP-TPTH"
    assert result.document.issued_on == date(2023, 8, 30)
    # found outside the header: believed, but less than a header line
    assert 0.7 <= result.field_confidence["number"] <= 0.8
    assert 0.7 <= result.field_confidence["issued_on"] <= 0.8


def test_lines_that_are_not_the_document_s_are_passed_over() -> None:
    text = "\n".join(
        [
            "Số điện thoại: 0237 385 2000",
            "Số nhà 12, ngõ 68",
            "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
            "Giấy chứng nhận có hiệu lực đến ngày 30 tháng 8 năm 2026",
            "Ngày 30 tháng 8 năm 2026",
            "Số: 12/",
        ]
    )
    assert number_elsewhere(_rows(text)) is None
    assert date_elsewhere(_rows(text)) is None
    assert number_elsewhere([]) is None and date_elsewhere([]) is None


def test_a_header_number_line_is_never_replaced() -> None:
    text = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
QUẬN BẮC TỪ LIÊM Độc lập - Tự do - Hạnh phúc
Số: ##/KH-UBND Bắc Từ Liêm, ngày 29 tháng 5 năm 2023
KẾ HOẠCH
Ứng dụng công nghệ thông tin năm 2023
Nội dung kế hoạch.
Số cấp: 155/2023/GCNATTP-TPTH
"""
    result = classify([PageInput(1, text)])
    assert result.document.number is None  # the header's is unreadable: nothing else stands in
    assert result.needs_review


def test_a_consolidated_text_closes_with_its_number_on_the_last_page() -> None:
    first = """BỘ QUỐC PHÒNG
THÔNG TƯ
Quy định và hướng dẫn tổ chức lễ tang
Điều 1. Phạm vi điều chỉnh
"""
    last = """Điều 30. Hiệu lực thi hành
XÁC THỰC VĂN BẢN HỢP NHẤT
Số: 46/VBHN-BQP
Hà Nội, ngày 04 tháng 5 năm 2026
KT. BỘ TRƯỞNG
"""
    result = classify([PageInput(1, first), PageInput(2, last)])
    assert result.document.number == "46/VBHN-BQP"
    assert result.document.issued_on == date(2026, 5, 4)
