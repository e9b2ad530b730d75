"""The signer's name by evidence: where the name area is under the signing title, how the
area's readings and a person's certificate decide the name, and the area read again off an
image with a red seal pressed over the name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PIL import Image, ImageDraw, ImageFont

from classify import PageInput, WordBox, classify
from classify.evidence import Reading
from classify.signblock import name_area
from classify.signer_evidence import certified_names, decide_name
from ocr.reread import reread_area
from schemas.record import Signature
from tests.data.defects import red_stamp
from tests.data.typeset import FONT_DIR, FONT_FILES

W, H = 1700, 2400  # a page at 200 dpi, in pixels
LINE = 40


def _line(y: float, x: float, text: str) -> list[WordBox]:
    """Words of a printed line from `x`, 22 px a letter."""
    out, at = [], x
    for word in text.split():
        out.append(WordBox(word, at, y, at + 22 * len(word), y + LINE))
        at += 22 * len(word) + 18
    return out


def _block_page(*titles: tuple[float, str], name: str | None = None) -> PageInput:
    """A last page: body text, `Nơi nhận:` on the left, titles in columns at y=1500."""
    words = _line(1300, 200, "Ủy ban nhân dân phường đề nghị các đơn vị thực hiện./.")
    words += _line(1500, 200, "Nơi nhận:") + _line(1550, 200, "- Như trên;")
    words += _line(1600, 200, "- Lưu: VT.")
    for x, title in titles:
        words += _line(1500, x, title)
    if name:
        words += _line(1800, titles[-1][0], name)
    return PageInput(3, "", words, W, H)


def test_the_area_is_under_the_right_columns_title() -> None:
    page = _block_page((1000, "KT. CHỦ TỊCH"), name=None)
    page = PageInput(3, "", [*page.words, *_line(1545, 1000, "PHÓ CHỦ TỊCH")], W, H)
    area = name_area(page)
    assert area is not None
    x0, y0, x1, y1 = area
    assert x0 < 1000 and x1 > 1000 + 22 * len("CHỦ TỊCH") and x1 <= W
    assert 1585 <= y0 < 1620 and 1900 < y1 <= H  # from under the last title line, downwards


def test_no_area_without_a_title_or_for_a_joint_block() -> None:
    assert name_area(PageInput(1, "", _line(1300, 200, "Nơi nhận: - Như trên;"), W, H)) is None
    assert name_area(PageInput(1, "", None)) is None
    joint = _block_page((150, "KT. BỘ TRƯỞNG"), (700, "KT. VIỆN TRƯỞNG"), (1250, "KT. CHÁNH ÁN"))
    assert name_area(joint) is None


def _r(*texts: str) -> list[Reading]:
    return [Reading(t, 0.8) for t in texts]


def test_readings_that_agree_name_the_signer_as_most_spell_it() -> None:
    got = decide_name(
        "Nguyễn Đình Hiên",
        _r("PGS.TS. Nguyên Đình Hiên", "PGS.TS. Nguyễn Đình Hiền", "PGS.TS. Nguyễn Đình Hiền"),
    )
    assert got is not None and got.name == "Nguyễn Đình Hiền" and not got.conflict
    # a seal's mark glued to the surname with a dot is no part of it
    got = decide_name(None, _r("k Thượng tướng Nguyễn Văn Gấu", "`~‡.Nguyễn Văn Gấu"))
    assert got is not None and got.name == "Nguyễn Văn Gấu"


@pytest.mark.parametrize(
    "readings",
    [[],  # nothing read again
     ["Thượng tướng Nguyễn Văn Gấu"],  # one reading alone
     ["ức Phớc", "Phớc", "“s3 Phớc"],  # no surname
     ["Nguyễn Đình Hiên", "Nguyễn Đình Hiền"]],  # the marks as often one way as the other
)  # fmt: skip
def test_too_little_evidence_leaves_the_page_reading(readings: list[str]) -> None:
    assert decide_name(None, _r(*readings)) is None


def test_readings_that_contradict_the_page_leave_no_name() -> None:
    got = decide_name("Nguyễn Văn Thành", _r("Trần Duy Đông", "Trần Duy Đông"))
    assert got is not None and got.name is None and got.conflict


def _sig(cn: str) -> Signature:
    return Signature(signer=cn, organization="BỘ XÂY DỰNG", signed_at=datetime.now(UTC))


def test_a_persons_certificate_gives_the_spelling_when_it_agrees() -> None:
    sigs = [_sig("VIỆN KIẾN TRÚC QUỐC GIA"), _sig("Cổng Thông tin điện tử Chính phủ")]
    assert certified_names(sigs) == []
    sigs.append(_sig("Trịnh Hồng Việt"))
    assert certified_names(sigs) == ["Trịnh Hồng Việt"]
    got = decide_name("Trịnh Hồng Viết", (), sigs)
    assert got is not None and got.name == "Trịnh Hồng Việt" and got.confidence > 0.9
    assert decide_name("Lê Mai Khanh", (), sigs) is None  # another person signed the file


def test_classify_reads_the_signer_from_the_area_readings() -> None:
    page = _block_page((1000, "KT. CHỦ TỊCH"))
    page = PageInput(1, "", [*page.words, *_line(1545, 1000, "PHÓ CHỦ TỊCH")], W, H)
    plain = classify([page])
    assert plain.document.signer is None
    readings = {"signer": _r("Thượng tướng Nguyễn Văn Gấu", "k Thượng tướng Nguyễn Văn Gấu")}
    got = classify([page], readings=readings)
    assert got.document.signer == "Nguyễn Văn Gấu"
    assert got.field_confidence["signer"] >= 0.8


def test_the_area_is_read_again_under_a_red_seal() -> None:
    page = Image.new("RGB", (W, H), "white")
    draw = ImageDraw.Draw(page)
    bold = ImageFont.truetype(str(FONT_DIR / FONT_FILES["bold"]), 40)
    draw.text((1000, 1500), "KT. CHỦ TỊCH", font=bold, fill="black")
    draw.text((980, 1820), "Nguyễn Văn Gấu", font=bold, fill="black")
    page.info["dpi"] = (200, 200)
    sealed = red_stamp(page, (1050, 1720), radius=170, seed=3)
    lines = reread_area(sealed, (880, 1560, 1500, 1950), frame=(W, H), dpi=200)
    assert any("Nguyễn Văn Gấu" in line.text for line in lines if line.single)
    assert decide_name(None, [Reading(ln.text, ln.confidence) for ln in lines]) is not None


def test_a_stamp_joined_to_a_subject_line_is_cut_off() -> None:
    from classify.subject import after_stamp

    joined = "CÔNG. THÔNG TÍN sa TỦ CHÍNH PHỦ _ Quy định chức năng, nhiệm vụ, ‹ quyền hạn và"
    assert after_stamp(joined) == "Quy định chức năng, nhiệm vụ, ‹ quyền hạn và"
    assert after_stamp("CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ") is None
    assert after_stamp("Quy định chức năng của Sở Công Thương") is None


def test_the_subject_under_a_portal_stamp_keeps_its_first_line() -> None:
    words = _line(100, 150, "ỦY BAN NHÂN DÂN") + _line(
        100, 900, "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    words += _line(150, 200, "TỈNH PHÚ THỌ") + _line(150, 950, "Độc lập - Tự do - Hạnh phúc")
    words += _line(210, 150, "Số: 31/2025/QĐ-UBND") + _line(
        210, 900, "Phú Thọ, ngày 01 tháng 7 năm 2025"
    )
    words += _line(330, 720, "QUYẾT ĐỊNH")
    words += _line(380, 10, "CÔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ Quy định chức năng, nhiệm vụ, ‹")
    words += _line(425, 400, "cơ cấu tổ chức của Sở Công Thương tỉnh Phú Thọ")
    words += _line(520, 200, "Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025;")
    got = classify([PageInput(1, "", words, W, H)])
    assert got.document.subject == (
        "Quy định chức năng, nhiệm vụ, cơ cấu tổ chức của Sở Công Thương tỉnh Phú Thọ"
    )
