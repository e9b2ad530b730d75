"""Names as the state writes them, stamps over the header, subjects, signers' names, `khac`.

Strings are from real documents: the issuing bodies, signers and subjects of the legal texts
in the corpus (`vbpl_documents.jsonl`) and lines as OCR read them off real scans.
"""

from __future__ import annotations

import pytest

from classify import PageInput, WordBox, classify
from classify.gazetteer import correct_names, joint_issuers, official
from classify.header import is_stamp
from classify.signer import name_run, strip_honorifics
from classify.subject import record_subject
from classify.types import match_title, type_from_abbreviation


@pytest.mark.parametrize(
    ("read", "want"),
    [("UBND TỈNH QUANG NGAÀI", "UBND TỈNH QUẢNG NGÃI"),
     ("BỘ THÔNG TIN VÀ TRUYÊN THÔNG", "BỘ THÔNG TIN VÀ TRUYỀN THÔNG"),
     ("TÒA ÁN NHÂN ĐÂN TÓI CAO", "TÒA ÁN NHÂN DÂN TỐI CAO"),
     ("VIÊN KIỀM SÁT NHÂN DÂN TÓI CAO", "VIỆN KIỂM SÁT NHÂN DÂN TỐI CAO"),
     ("TRƯỜNG ĐẠI HỌC CÔNG THƯƠNG THÀNH PHÓ HÒ CHÍ MINH",
      "TRƯỜNG ĐẠI HỌC CÔNG THƯƠNG THÀNH PHỐ HỒ CHÍ MINH"),
     ("Ủy ban nhân dân tỉnh Thừa Thiên Hue", "Ủy ban nhân dân tỉnh Thừa Thiên Huế"),
     # right as printed, or another real name one letter away: left alone
     ("BỘ QUỐC PHÒNG", "BỘ QUỐC PHÒNG"),
     ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"),
     ("SỞ TÀI CHÍNH", "SỞ TÀI CHÍNH"),
     ("UBND PHƯỜNG PHÚC DIỄN", "UBND PHƯỜNG PHÚC DIỄN"),
     ("UBND PHƯỜNG CỔ NHUẾ 1", "UBND PHƯỜNG CỔ NHUẾ 1"),
     ("PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG", "PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG")],
)  # fmt: skip
def test_state_names_set_right_only_when_sure(read: str, want: str) -> None:
    assert correct_names(read) == want


@pytest.mark.parametrize("bad", ["", "   ", "@@@ ### ;;;", "Ủ", "ĐẾN " * 300, "x" * 5000])
def test_state_names_bad_input(bad: str) -> None:
    out = correct_names(bad)
    assert isinstance(out, str)
    assert official(bad) is None


def test_official_name_of_a_ministry_merged_in_2025_is_still_known() -> None:
    assert official("BỘ KẾ HOẠCH VÀ ĐẦU TU") == "Bộ Kế hoạch và Đầu tư"
    assert official("Bộ Nông nghiệp và Môi trường") == "Bộ Nông nghiệp và Môi trường"


def test_joint_issuers() -> None:
    lines = ["TÒA ÁN NHÂN ĐÂN TÓI CAO", "VIÊN KIỀM SÁT NHÂN DÂN TÓI CAO", "BỘ TƯ PHÁP — ~ ="]
    assert joint_issuers(lines, "TTLT-TANDTC-VKSNDTC-BTP") == [
        "Tòa án nhân dân tối cao", "Viện kiểm sát nhân dân tối cao", "Bộ Tư pháp",
    ]  # fmt: skip
    # a parent and its body, one issuer in the symbol: no joint document
    assert joint_issuers(["BỘ TÀI CHÍNH", "CỤC THUẾ"], "CT-CS") == []
    assert joint_issuers(["UBND QUẬN BẮC TỪ LIÊM", "PHÒNG NỘI VỤ"], "KH-UBND-NV") == []
    assert joint_issuers([], "TTLT-BTC-BNV") == []
    assert joint_issuers(["BỘ TÀI CHÍNH"], None) == []


@pytest.mark.parametrize(
    ("line", "stamp"),
    [("CÔNG VĂN ĐẾN", True), ("ĐẾN", True), ("Ì ĐẾN", True), ("ĐẾN noày.G21041.2021....", True),
     ("CGHINHPHII.VN : TW", True), ("CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ", True),
     ("LÔNG THÔNG JIN BIỂN TỬ CHỈNH PHÙ", True), ("Giờ....... Ngày Lý. series", True),
     ("BỘ QUỐC PHÒNG", False), ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", False),
     ("TRUNG TÂM CÔNG NGHỆ THÔNG TIN", False), ("", False),
     ("TRUNG TÂM THÔNG TIN ĐIỆN TỬ", False), ("CỤC THƯƠNG MẠI ĐIỆN TỬ VÀ KINH TẾ SỐ", False),
     ("đến Việt Nam để sửa chữa", False)],
)  # fmt: skip
def test_stamps_and_portal_marks(line: str, stamp: bool) -> None:
    assert is_stamp(line) is stamp


_SCAN_WITH_STAMPS = """G

CHINHPHU.VN

THỦ TƯỚNG CHÍNH PHỦ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
————— Độc lập - Tự do - Hạnh phúc

Số: 01/2025/QĐ-TTg Hà Nội, ngày 03 tháng 01 năm 2025

QUYẾT ĐỊNH

CÔNG. THÔNG TÍN sa TỦ CHÍNH PHỦ

Bãi bỏ toàn bộ Quyết định số 78/2010/QĐ-TTg ngày 30 tháng 11 năm 2010
của Thủ tướng Chính phủ về mức giá trị hàng hóa nhập khẩu
gửi qua dịch vụ chuyển phát nhanh được miễn thuế

Ì ĐẾN

Căn cứ Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025;
"""


def test_stamps_over_the_header_and_title_are_not_read_as_issuer_or_subject() -> None:
    doc = classify([PageInput(1, _SCAN_WITH_STAMPS)]).document
    assert doc.issuer == "Thủ tướng Chính phủ"
    assert doc.type == "quyet_dinh"
    assert doc.subject == (
        "Bãi bỏ toàn bộ Quyết định số 78/2010/QĐ-TTg ngày 30 tháng 11 năm 2010 của Thủ tướng "
        "Chính phủ về mức giá trị hàng hóa nhập khẩu gửi qua dịch vụ chuyển phát nhanh được "
        "miễn thuế"
    )


_RECEIPT_ONLY = """VĂN PHÒNG CHÍNH PHÙ_ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
CÔNG VĂN ĐẾN Độc lập - Tự do - Hạnh phúc

Giờ....... Ngày Lý. series
"""


def test_the_body_named_in_a_receipt_stamp_is_no_issuer() -> None:
    doc = classify([PageInput(1, _RECEIPT_ONLY)]).document
    assert doc.issuer is None


_JOINT = """TÒA ÁN NHÂN ĐÂN TÓI CAO CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
VIÊN KIỀM SÁT NHÂN DÂN TÓI CAO Độc lập - Tự do - Hạnh phúc
BỘ TƯ PHÁP — ~ =
Số: 01/2016/TTLT-TANDTC-VKSNDTC-BTP Hà Nội, ngày 06 tháng 01 năm 2016

THÔNG TƯ LIÊN TỊCH
Hướng dẫn thi hành một số quy định của Luật hôn nhân và gia đình

Căn cứ Luật ban hành văn bản quy phạm pháp luật số 17/2008/QH12;
"""


def test_joint_circular() -> None:
    result = classify([PageInput(1, _JOINT)])
    doc = result.document
    assert doc.issuer == "Tòa án nhân dân tối cao; Viện kiểm sát nhân dân tối cao; Bộ Tư pháp"
    assert doc.type == "khac" and doc.archive_type_code == "32"
    assert doc.subject == "Hướng dẫn thi hành một số quy định của Luật hôn nhân và gia đình"


_CONG_VAN = """BỘ TÀI CHÍNH CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
CỤC THUẾ Độc lập - Tự do - Hạnh phúc
Số: 2191/CT-CS Hà Nội, ngày 08 tháng 4 năm 2026
V/v chính sách thuế TNDN

Kính gửi: Thuế tỉnh Ninh Bình.
"""


def test_cong_van_subject_without_its_vv_mark() -> None:
    doc = classify([PageInput(1, _CONG_VAN)]).document
    assert doc.type == "cong_van"
    assert doc.subject == "chính sách thuế TNDN"
    assert doc.issuer == "Cục Thuế"


@pytest.mark.parametrize(
    ("printed", "record"),
    [("V/v chính sách thuế TNDN", "chính sách thuế TNDN"),
     ("V/V triển khai các Nghị quyết", "triển khai các Nghị quyết"),
     ("Về việc giao đề tài và cử người hướng dẫn luận văn thạc sĩ",
      "Về việc giao đề tài và cử người hướng dẫn luận văn thạc sĩ"),
     ("Vận động quỹ vì người nghèo", "Vận động quỹ vì người nghèo"),
     ("", ""), ("V/v", "")],
)  # fmt: skip
def test_record_subject(printed: str, record: str) -> None:
    assert record_subject(printed) == record


@pytest.mark.parametrize(
    ("printed", "name"),
    [("Thượng tướng Nguyễn Trường Thắng", "Nguyễn Trường Thắng"),
     ("Đại tướng Lương Tam Quang", "Lương Tam Quang"),
     ("PGS.TS. Nguyễn Đình Hiền", "Nguyễn Đình Hiền"),
     ("TS. Trịnh Hồng Việt", "Trịnh Hồng Việt"),
     ("ThS. Lê Mai Khanh", "Lê Mai Khanh"),
     ("Phan Thanh Hùng", "Phan Thanh Hùng"),
     ("Thượng tướng", "Thượng tướng"),  # nothing but a rank: nothing to strip it from
     ("", "")],
)  # fmt: skip
def test_signer_names_without_ranks_or_titles(printed: str, name: str) -> None:
    assert strip_honorifics(printed) == name


def test_signer_name_read_without_its_degree() -> None:
    found = name_run("PGS.TS. Nguyễn Đình Hiền")
    assert found is not None and found[0] == "Nguyễn Đình Hiền"


@pytest.mark.parametrize(
    ("title", "code"),
    [("GIẤY CHỨNG NHẬN", "khac"), ("VĂN BẢN HỢP NHẤT", "khac"), ("THÔNG TƯ LIÊN TỊCH", "khac"),
     ("THÔNG TƯ", "thong_tu"), ("QUYẾT ĐỊNH", "quyet_dinh")],
)  # fmt: skip
def test_titles_of_no_listed_type(title: str, code: str) -> None:
    found = match_title(title)
    assert found is not None and found.code == code


@pytest.mark.parametrize(
    ("part", "code"),
    [("VBHN", "khac"), ("GCNATTP", "khac"), ("TTLT", "khac"), ("QĐ", "quyet_dinh"),
     ("UBND", None), ("", None), (None, None)],
)  # fmt: skip
def test_symbol_parts_of_no_listed_type(part: str | None, code: str | None) -> None:
    assert type_from_abbreviation(part) == code


_CERTIFICATE = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
THÀNH PHỐ THANH HÓA Độc lập - Tự do - Hạnh phúc

GIẤY CHỨNG NHẬN
CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM
ỦY BAN NHÂN DÂN THÀNH PHỐ THANH HÓA
Chứng nhận
Cơ sở: HUYỀN NGÂN BAKERY
"""


def test_certificate_is_khac_with_its_subject() -> None:
    doc = classify([PageInput(1, _CERTIFICATE)]).document
    assert doc.type == "khac" and doc.archive_type_code == "32"
    assert doc.subject == "CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM"
    assert doc.issuer == "Ủy ban nhân dân thành phố Thanh Hóa"


def test_very_long_garbage_header_reads_nothing_made_up() -> None:
    junk = "\n".join(["ĐẾN ĐẾN CÔNG VĂN ĐẾN CHINHPHU.VN " * 20] * 30)
    result = classify([PageInput(1, junk)])
    assert result.document.issuer is None
    assert result.needs_review


_CERTIFICATE_FRAMED = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
--------------
GIẤY CHỨNG NHẬN
CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM
ỦY BAN NHÂN DÂN THÀNH PHỐ THANH HÓA
Chứng nhận
Cơ sở: HỘ KINH DOANH BÁNH TRUNG THU BÀ BÀI
"""


def test_certificate_names_its_issuer_under_the_title() -> None:
    doc = classify([PageInput(1, _CERTIFICATE_FRAMED)]).document
    assert doc.type == "khac"
    assert doc.issuer == "Ủy ban nhân dân thành phố Thanh Hóa"
    assert doc.subject == "CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM"


def _centred_boxes(lines: list[tuple[str, float]]) -> list[WordBox]:
    """Word boxes of centred lines, each at its own top (pt): a gap is a bigger step."""
    words = []
    for number, (line, top) in enumerate(lines):
        width = 6.0 * len(line)
        x = 300 - width / 2
        for word in line.split():
            words.append(WordBox(word, x, top, x + 6.0 * len(word), top + 12, line=number))
            x += 6.0 * (len(word) + 1)
    return words


def test_a_certificates_issuer_after_a_gap_under_its_subject() -> None:
    """The framed certificate of a city's people's committee, read from its PDF's words:
    a gap above the issuer line under the subject (the gap ended the subject before the
    issuer was looked at)."""
    lines = [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 60), ("Độc lập - Tự do - Hạnh phúc", 76),
        ("GIẤY CHỨNG NHẬN", 130), ("CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM", 148),
        ("ỦY BAN NHÂN DÂN THÀNH PHỐ THANH HÓA", 200), ("Chứng nhận", 218),
        ("Cơ sở: HỘ KINH DOANH BÁNH TRUNG THU BÀ BÀI", 260),
        ("Loại hình sản xuất: Sản xuất bánh nướng, bánh dẻo.", 278),
    ]  # fmt: skip
    text = "\n".join(line for line, _ in lines)
    page = PageInput(1, text, _centred_boxes(lines), 600, 842)
    doc = classify([page]).document
    assert doc.issuer == "Ủy ban nhân dân thành phố Thanh Hóa"
    assert doc.subject == "CƠ SỞ ĐỦ ĐIỀU KIỆN AN TOÀN THỰC PHẨM"


_VBHN_FIRST = """VĂN PHÒNG CHÍNH PHÙ_ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
CÔNG VĂN ĐẾN Độc lập - Tự do - Hạnh phúc

THÔNG TƯ
Quy định và hướng dẫn tổ chức lễ tang đối với quân nhân, công nhân, viên chức quốc phòng

Thông tư số 86/2016/TT-BQP ngày 20 tháng 6 năm 2016 của Bộ trưởng Bộ Quốc phòng
"""
_VBHN_LAST = """Điều 37. Trách nhiệm thi hành

1. Tổng Tham mưu trưởng, Chủ nhiệm Tổng cục Chính trị chịu trách nhiệm thi hành.

BỘ QUỐC PHÒNG XÁC THỰC VĂN BẢN HỢP NHẤT
Số: đó /VBHN-BQP Hà Nội, ngày ØJ) tháng ,Š năm 2026

KT, BỌ TRƯỞNG
"""


def test_consolidated_text_is_khac_certified_by_the_body_on_its_last_page() -> None:
    pages = [PageInput(1, _VBHN_FIRST), PageInput(2, "Điều 1. Phạm vi"), PageInput(3, _VBHN_LAST)]
    doc = classify(pages).document
    assert doc.type == "khac"
    assert doc.issuer == "Bộ Quốc phòng"


@pytest.mark.parametrize("last", ["", "XÁC THỰC", "xác thực văn bản hợp nhất là việc ..."])
def test_no_consolidated_text_without_its_certifying_block(last: str) -> None:
    doc = classify([PageInput(1, _CONG_VAN), PageInput(2, last)]).document
    assert doc.type == "cong_van"


def test_joint_document_with_one_name_read_records_no_signer() -> None:
    last = "KT. CHÁNH ÁN\nPHÓ CHÁNH ÁN\n\n\nNguyễn Thị Thủy Khiêm\n"
    result = classify([PageInput(1, _JOINT), PageInput(2, last)])
    assert result.document.signer is None
    assert any(r.field == "signer" for r in result.reasons)
    alone = classify([PageInput(1, _CONG_VAN), PageInput(2, last)])
    assert alone.document.signer == "Nguyễn Thị Thủy Khiêm"


@pytest.mark.parametrize(
    ("read", "want"),
    [("Quang Ngaài", "Quảng Ngãi"), ("Ha Noi", "Hà Nội"), ("Phu Tho", "Phú Thọ"),
     ("Quảng Ngãi", None), ("Bắc Từ Liêm", None), ("Thanh Hoa", None), ("", None),
     ("!!!", None), ("Hà Nội " * 200, None)],
)  # fmt: skip
def test_place_of_the_date_line(read: str, want: str | None) -> None:
    from classify.gazetteer import official_place

    assert official_place(read) == want


def test_place_set_right_on_a_document_of_another_body() -> None:
    text = _CONG_VAN.replace("Hà Nội, ngày", "Quang Ngaài, ngày")
    assert classify([PageInput(1, text)]).document.place == "Quảng Ngãi"
