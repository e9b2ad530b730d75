"""The crops the second recognizer reads: cut upright from a page stored turned or tilted,
white where the box leaves the page; and which fields are worth a second reading."""

from __future__ import annotations

from PIL import Image, ImageDraw

from classify.evidence import REREAD_BELOW, unsure_fields
from ocr.handwritten import FieldText, upright_crop

#: a page in the frame it is read in (upright), with one dark block where a field would be
W, H = 400, 300
BLOCK = (100, 50, 180, 90)


def _upright() -> Image.Image:
    page = Image.new("L", (W, H), 255)
    ImageDraw.Draw(page).rectangle(BLOCK, fill=0)
    return page


def _dark_share(image: Image.Image) -> float:
    grey = image.convert("L")
    return sum(grey.histogram()[:128]) / (grey.width * grey.height)


def test_a_crop_of_an_upright_page_is_the_region() -> None:
    crop = upright_crop(_upright(), BLOCK, frame=(W, H))
    assert crop.size == (80, 40) and crop.mode == "RGB"
    assert _dark_share(crop) > 0.95


def test_a_page_stored_sideways_is_cropped_upright() -> None:
    # stored turned 90° counter-clockwise: it was read after turning it 90° clockwise
    stored = _upright().rotate(90, expand=True)
    crop = upright_crop(stored, BLOCK, frame=stored.size, rotation=90)
    assert crop.size == (80, 40)
    assert _dark_share(crop) > 0.95
    beside = upright_crop(stored, (200, 150, 280, 190), frame=stored.size, rotation=90)
    assert _dark_share(beside) == 0.0


def test_a_larger_render_is_scaled_to_the_boxes_frame() -> None:
    big = _upright().resize((W * 2, H * 2))
    crop = upright_crop(big, BLOCK, frame=(W, H))
    assert crop.size == (80, 40) and _dark_share(crop) > 0.9


def test_a_box_off_the_page_is_white() -> None:
    crop = upright_crop(_upright(), (W + 10, H + 10, W + 50, H + 30), frame=(W, H))
    assert crop.size == (40, 20) and _dark_share(crop) == 0.0


def test_digit_score_is_the_weakest_digit() -> None:
    assert FieldText("12/KH", (0.9, 0.7, 0.99, 0.2, 0.3)).digit_score == 0.7
    assert FieldText("", ()).digit_score == 0.0 and FieldText("", ()).confidence == 0.0


def test_only_unsure_fields_are_read_again() -> None:
    sure = REREAD_BELOW + 0.05
    assert unsure_fields({"number": sure, "issued_on": sure}) == set()
    assert unsure_fields({"number": 0.5, "issued_on": sure}) == {"number"}
    assert unsure_fields({"number": sure, "issued_on": 0.0}) == {"day", "month"}
    assert unsure_fields({}) == {"number", "day", "month"}
