"""`classify()` on whole documents: clean text, OCR-like text, word boxes, and what it must
not do (invent a value)."""

from __future__ import annotations

from datetime import date

import pytest

from classify import Classification, PageInput, WordBox, classify, name_key
from schemas.review import ReviewCode, ReviewReason
from tests.data.classify_eval import truth_pages
from tests.data.more_specs import expected
from tests.data.specs import get_spec, load_specs

ADMIN = ["kh-251-ubnd", "cv-12-ubnd-vx", "tb-45-pnv", "qd-86-ubnd-cn1", "bc-128-ubnd-xd"]


def _check(result: Classification, want: dict[str, str | None]) -> None:
    doc = result.document
    assert doc.type == want["type"]
    assert doc.number == want["number"]
    assert (doc.issued_on.isoformat() if doc.issued_on else None) == want["issued_on"]
    assert name_key(doc.issuer or "") == name_key(want["issuer"] or "")
    assert doc.subject == want["subject"]
    assert doc.signer == want["signer"]
    assert (doc.secrecy, doc.urgency) == (want["secrecy"], want["urgency"])
    assert result.unit == want["unit"]


@pytest.mark.parametrize("key", ADMIN)
@pytest.mark.parametrize("boxes", [False, True])
def test_hand_written_documents(key: str, boxes: bool) -> None:
    spec = get_spec(key)
    result = classify(truth_pages(spec, boxes))
    _check(result, expected(spec))
    assert not result.needs_review, result.reasons


def test_the_plan_reads_as_the_record_contract_says() -> None:
    result = classify(truth_pages(get_spec("kh-251-ubnd"), boxes=False))
    doc = result.document
    assert (doc.type, doc.type_label, doc.archive_type_code) == ("ke_hoach", "Kế hoạch", "10")
    assert (doc.number, doc.code_number, doc.code_notation) == ("251/KH-UBND", "251", "KH-UBND")
    assert doc.issued_on == date(2023, 5, 29) and doc.place == "Bắc Từ Liêm"
    assert doc.issuer == "Ủy ban nhân dân quận Bắc Từ Liêm"
    assert (doc.signer, doc.signer_title) == ("Nguyễn Văn Thành", "Chủ tịch")
    assert doc.confidence is not None and doc.confidence > 0.9
    assert result.field_confidence["number"] > 0.9


def test_parent_body_is_kept_apart() -> None:
    result = classify(truth_pages(get_spec("tb-45-pnv"), boxes=False))
    assert result.document.issuer == "Phòng Nội vụ"
    assert result.issuer_parent == "Ủy ban nhân dân quận Bắc Từ Liêm"
    assert result.header == "UBND QUẬN BẮC TỪ LIÊM / PHÒNG NỘI VỤ"


@pytest.mark.parametrize("spec", load_specs()[5:], ids=lambda s: s.key)
def test_corpus_documents(spec) -> None:
    result = classify(truth_pages(spec, boxes=False))
    _check(result, expected(spec))


# What Tesseract makes of a Decree-30 page: the two header columns and the recipients and
# signer joined line by line, marks lost on some capitals, `Sô:` for `Số:`.
OCR_PAGE_1 = """\
UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM

QUẬN BẮC TỪ LIÊM Độc lập - Tự do - Hạnh phúc
Sô: 25l/KH-UBND Bắc Từ Liêm, ngảy 29 tháng 5 nãm 2023
| KHẨN |

KÉ HOẠCH

Ứng dụng công nghệ thông tin, phát triển chính quyền số và bảo
đảm an toàn thông tin mạng quận Bắc Từ Liêm năm 2023

Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về
công tác văn thư; trừ văn bản mật
"""
OCR_PAGE_2 = """\
Trên đây là Kế hoạch ứng dụng công nghệ thông tin, yêu cầu các đơn vị
nghiêm túc triển khai thực hiện./.

Nơi nhận: TM. ỦY BAN NHÂN DÂN
- UBND Thành phố; KT. CHU TỊCH
- Sở Thông tin và Truyền thông; PHÓ CHỦ TỊCH
- Lưu: VT, VHTT. : z

¬⁄©=
Nguyễn Thị Thu Hương
"""


def test_ocr_text_without_boxes() -> None:
    result = classify([PageInput(1, OCR_PAGE_1), PageInput(2, OCR_PAGE_2)])
    doc = result.document
    assert doc.type == "ke_hoach"
    assert doc.number == "251/KH-UBND"
    assert doc.issued_on == date(2023, 5, 29)
    assert doc.issuer == "Ủy ban nhân dân quận Bắc Từ Liêm" and result.unit == "quan-bac-tu-liem"
    assert doc.subject and doc.subject.startswith("Ứng dụng") and doc.subject.endswith("2023")
    assert (doc.signer, doc.signer_title) == ("Nguyễn Thị Thu Hương", "Phó Chủ tịch")
    assert (doc.urgency, doc.secrecy) == ("khan", None)  # `mật` in the body is no mark
    assert result.field_confidence["number"] < 0.9  # `25l` was read as 251


def _words(rows: list[list[tuple[str, float]]], size: float = 12.0) -> list[WordBox]:
    """Word boxes for rows of (text, x) runs, each row one engine line (as hOCR gives)."""
    out = []
    for i, row in enumerate(rows):
        y = 60 + i * 18
        for text, x in row:
            for word in text.split():
                out.append(WordBox(word, x, y, x + 6.5 * len(word), y + size, line=i))
                x += 6.5 * len(word) + 3.2
    return out


def test_word_boxes_split_what_one_engine_line_joins() -> None:
    rows = [
        [("UBND QUẬN BẮC TỪ LIÊM", 100), ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 330)],
        [("UBND PHƯỜNG ĐỨC THẮNG", 100), ("Độc lập - Tự do - Hạnh phúc", 350)],
        [("Số: 07/TTr-UBND", 110), ("Đức Thắng, ngày 03 tháng 02 năm 2021", 330)],
        [("TỜ TRÌNH", 290)],
        [("Về việc xin chủ trương sửa chữa trụ sở", 200)],
        [("Kính gửi: Ủy ban nhân dân quận Bắc Từ Liêm.", 150)],
    ]
    page = PageInput(1, "", _words(rows), width=595, height=842)
    result = classify([page])
    doc = result.document
    assert (doc.type, doc.number, doc.issued_on) == ("to_trinh", "07/TTr-UBND", date(2021, 2, 3))
    assert doc.issuer == "Ủy ban nhân dân phường Đức Thắng" and result.unit == "phuong-duc-thang"
    assert doc.subject == "Về việc xin chủ trương sửa chữa trụ sở"
    assert doc.place == "Đức Thắng"


def test_nothing_is_invented_for_a_blank_number_and_day() -> None:
    text = (
        "ỦY BAN NHÂN DÂN\nPHƯỜNG MINH KHAI\nSố:        /QĐ-UBND\n\n"
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
        "Minh Khai, ngày      tháng 4 năm 2022\n\nQUYẾT ĐỊNH\nVề việc thành lập Tổ công tác\n"
    )
    result = classify([PageInput(1, text)])
    doc = result.document
    assert doc.type == "quyet_dinh" and doc.code_notation == "QĐ-UBND"
    assert doc.number is None and doc.code_number is None and doc.issued_on is None
    assert doc.place == "Minh Khai"
    assert result.needs_review
    assert result.field_confidence["number"] == 0.0 and result.field_confidence["issued_on"] == 0.0
    assert ReviewReason(code=ReviewCode.number_unreadable, field="number") in result.reasons
    assert {r.field for r in result.reasons} >= {"number", "issued_on"}


def test_a_page_that_is_no_decree_30_document_gives_nulls() -> None:
    text = "Danh sách hộ gia đình\nSTT Họ và tên Địa chỉ\n1 Nguyễn Văn A Tổ 3\n2 Trần Thị B Tổ 5\n"
    result = classify([PageInput(1, text)])
    doc = result.document
    assert (doc.type, doc.number, doc.issued_on, doc.issuer, doc.subject) == (None,) * 5
    assert (doc.secrecy, doc.urgency, doc.signer) == (None, None, None)
    assert result.needs_review


def test_no_pages() -> None:
    result = classify([])
    assert result.needs_review and result.document.type is None


@pytest.mark.parametrize(
    ("marks", "secrecy", "urgency"),
    [(["TỐI MẬT"], "toi_mat", None), (["MẬT", "HỎA TỐC"], "mat", "hoa_toc"),
     (["[THƯỢNG KHẨN]"], None, "thuong_khan"), (["TUYET MAT"], "tuyet_mat", None)],
)  # fmt: skip
def test_marks(marks: list[str], secrecy: str | None, urgency: str | None) -> None:
    text = "\n".join(
        ["UBND QUẬN BẮC TỪ LIÊM", "Số: 15/BC-UBND", "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
         "Độc lập - Tự do - Hạnh phúc", "Bắc Từ Liêm, ngày 05 tháng 6 năm 2020", "", *marks, "",
         "BÁO CÁO", "Tình hình an ninh trật tự tháng 5", "", "Căn cứ tình hình thực tế;"]
    )  # fmt: skip
    result = classify([PageInput(1, text)])
    assert (result.document.secrecy, result.document.urgency) == (secrecy, urgency)
    assert result.document.type == "bao_cao"


def test_cong_van_without_v_v_is_known_by_its_salutation() -> None:
    text = (
        "UBND QUẬN BẮC TỪ LIÊM\nPHÒNG Y TẾ\nSố: 31/PYT\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "Độc lập - Tự do - Hạnh phúc\nBắc Từ Liêm, ngày 11 tháng 9 năm 2019\n\n"
        "Kính gửi: Ủy ban nhân dân các phường.\n\nThực hiện chỉ đạo của cấp trên, đề nghị ...\n"
    )
    result = classify([PageInput(1, text)])
    assert result.document.type == "cong_van" and result.unit == "phong-y-te"
    assert result.document.subject is None


def test_old_layout() -> None:
    text = (
        "UỶ BAN NHÂN DÂN\nHUYỆN TỪ LIÊM\n-----*-----\nSố: 157/QĐ-NĐ-UB\n\n"
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
        "Từ Liêm, ngày 24 / 7/ 1993\n\nQUYẾT ĐỊNH\nVề việc giao đất làm nhà ở\n"
    )
    result = classify([PageInput(1, text)])
    doc = result.document
    assert (doc.type, doc.number) == ("quyet_dinh", "157/QĐ-NĐ-UB")
    assert doc.issued_on == date(1993, 7, 24)
    assert doc.issuer == "Ủy ban nhân dân huyện Từ Liêm" and result.unit is None
    assert doc.subject == "Về việc giao đất làm nhà ở"
