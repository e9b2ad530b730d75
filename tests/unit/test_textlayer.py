"""A text layer is used only when it is the page's real text."""

from __future__ import annotations

from ocr.sources import TextLayer
from ocr.textlayer import judge

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
