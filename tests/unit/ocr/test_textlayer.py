"""A text layer is used only when it is the page's real text."""

from __future__ import annotations

import unicodedata

from ocr.sources import TextLayer
from ocr.textlayer import Verdict, judge

BODY = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; "
    "Ủy ban nhân dân quận Bắc Từ Liêm ban hành Kế hoạch ứng dụng công nghệ thông tin."
)


def layer(text: str, text_area: float = 0.2, image_area: float = 0.0) -> TextLayer:
    return TextLayer(text=text, char_count=len(text), text_area=text_area, image_area=image_area)


def test_real_text_is_used() -> None:
    assert judge(layer(BODY)).usable


def test_no_layer_or_blank_layer_is_ocred() -> None:
    assert not judge(None).usable
    assert not judge(layer("   \n ")).usable


def test_signature_stamp_alone_is_not_the_page() -> None:
    stamp = (
        "Ký bởi: Ủy ban nhân dân quận Bắc Từ Liêm\nEmail: ubnd@hanoi.gov.vn\n"
        "Cơ quan: Thành phố Hà Nội\nThời gian ký: 29.05.2023 16:20:05 +07:00"
    )
    verdict = judge(layer(stamp, text_area=0.01, image_area=1.0))
    assert not verdict.usable
    assert "signature" in verdict.reason


def test_small_text_over_a_page_image_is_ocred() -> None:
    verdict = judge(layer(BODY, text_area=0.005, image_area=0.98))
    assert not verdict.usable
    assert "mostly image" in verdict.reason


def test_legacy_8bit_mojibake_is_ocred() -> None:
    # TCVN3 (.VnTime) bytes read as Latin-1: "Ủy ban nhân dân quận"
    mojibake = (
        "Uû ban nh©n d©n quËn B¾c Tõ Liªm ban hµnh KÕ ho¹ch øng dông c«ng nghÖ th«ng tin " * 2
    )
    assert not judge(layer(mojibake)).usable


def test_missing_unicode_map_is_ocred() -> None:
    assert not judge(layer("(cid:12)(cid:45)(cid:77) " * 20)).usable


ENGLISH = (
    "The district committee adopted a plan for digital government with seventeen indicators, "
    "seven task groups and seventy tasks; the archive is scanned box by box and uploaded. "
)


def fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def test_vietnamese_ocr_layer_without_diacritics_is_ocred() -> None:
    verdict = judge(layer(fold(BODY) * 2, text_area=0.2, image_area=1.0))
    assert not verdict.usable
    assert "diacritics" in verdict.reason
    # English text has no diacritics either, and is the page's real text
    assert judge(layer(ENGLISH * 2)).usable


def test_good_ocr_layer_over_a_scan_is_used() -> None:
    good = TextLayer(BODY * 2, len(BODY) * 2, 0.2, 1.0, invisible=1.0)
    verdict = judge(good)
    assert verdict.usable and "OCR layer" in verdict.reason


def test_decoded_legacy_layer_says_so() -> None:
    decoded = TextLayer(BODY, len(BODY), 0.2, 0.0, encoding="tcvn3")
    assert judge(decoded) == Verdict(True, "text layer in TCVN3, decoded to Unicode")


def test_undecoded_vni_and_control_characters_are_ocred() -> None:
    vni = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam. Ñoäc laäp - Töï do - Haïnh phuùc. " * 3
    assert not judge(layer(vni)).usable
    unmapped = "UBND QU\x01N B\x02C T\x03 LI\x04M ban hành kế hoạch " * 4
    assert judge(layer(unmapped)).reason == "glyphs without a Unicode map"


def test_stamp_continuation_lines_do_not_count_as_content() -> None:
    stamp = (
        "Ký bởi: Văn phòng Ủy ban nhân dân\nquận Bắc Từ Liêm\nEmail: vp@hanoi.gov.vn\n"
        "Cơ quan: Thành phố Hà Nội\nThời gian ký: 29.05.2023 16:20:05 +07:00"
    )
    assert not judge(layer(stamp, text_area=0.01, image_area=1.0)).usable
