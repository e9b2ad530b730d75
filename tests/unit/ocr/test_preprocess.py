"""Page preprocessing without Tesseract: geometry, hOCR mapping, skew and orientation,
colour dropout, noise and scale decisions."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.clean import NOISY, noise_level
from ocr.dropout import drop_colour_ink, spread_max
from ocr.geometry import IDENTITY, apply, compose, invert, plan_page, quarter_turn
from ocr.hocr import parse_hocr
from ocr.hocr_map import map_hocr, upright_hocr
from ocr.preprocess import analyse, make_ocr_image, target_scale
from tests.data.defects import red_stamp, rotate, skew
from tests.data.samples import get_spec, render_pages
from tests.data.typeset import FONT_DIR, FONT_FILES

# --- geometry ------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_quarter_turns_match_pillow(rotation: int) -> None:
    img = Image.new("L", (40, 30), 255)
    img.putpixel((3, 5), 0)  # the pixel spanning (3, 5)-(4, 6)
    turned = rotate(img, rotation)  # the generator's clockwise turn
    x, y = apply(quarter_turn(rotation, 40, 30), 3.5, 5.5)  # the pixel's centre
    assert turned.getpixel((math.floor(x), math.floor(y))) == 0


def test_plan_inverts_and_composes() -> None:
    plan = plan_page((2480, 3508), rotation=90, skew=-2.5, scale=1.5)
    for x, y in [(0, 0), (2480, 3508), (1000, 200)]:
        u, v = apply(plan.forward, x, y)
        assert apply(plan.backward, u, v) == pytest.approx((x, y), abs=1e-6)
    assert compose(plan.forward, plan.backward) == pytest.approx(IDENTITY, abs=1e-9)
    assert invert(invert(plan.forward)) == pytest.approx(plan.forward)
    # Turned on its side, then grown so no corner is cut off, then scaled.
    w, h = plan.out_size
    assert w > 3508 * 1.5 and h > 2480 * 1.5
    with pytest.raises(ValueError):
        invert((0.0, 0.0, 1.0, 0.0, 0.0, 1.0))


# --- hOCR back to the original frame -------------------------------------------------

HOCR = """<html><body>
<div class='ocr_page' id='page_1'
  title='image "x.pgm"; bbox 0 0 200 100; ppageno 0; scan_res 300 300'>
 <div class='ocr_carea' id='block_1_1' title="bbox 10 20 190 30">
  <p class='ocr_par' id='par_1_1' lang='vie' title="bbox 10 20 190 30">
   <span class='ocr_line' id='line_1_1'
     title="bbox 10 20 190 30; baseline 0 -2; x_size 12; x_descenders 2; x_ascenders 3">
    <span class='ocrx_word' id='word_1_1' title='bbox 10 20 50 30; x_wconf 91'>Ủy</span>
    <span class='ocrx_word' id='word_1_2' title='bbox 60 20 190 30; x_wconf 88'>ban</span>
   </span>
  </p>
 </div>
</div></body></html>"""


def test_a_quarter_turn_maps_boxes_exactly_and_turns_the_lines() -> None:
    # The scan is 100×200 (sideways); it was read turned clockwise by 90° (200×100).
    plan = plan_page((100, 200), rotation=90)
    mapped = parse_hocr(map_hocr(HOCR, plan.backward, (100, 200), 300))
    assert (mapped.width, mapped.height) == (100, 200)
    (line,) = mapped.lines
    # OCR (u, v) came from scan (x, y) = (v, 200 − u).
    assert [w.bbox for w in line.words] == [(20, 150, 30, 190), (20, 10, 30, 140)]
    assert line.bbox == (20, 10, 30, 190)
    assert line.text_angle == 90  # the text runs up the scan
    assert line.baseline == pytest.approx((0.0, -2.0))
    assert [w.text for w in line.words] == ["Ủy", "ban"]
    assert [w.confidence for w in line.words] == [0.91, 0.88]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_mapping_there_and_back_is_the_identity(rotation: int) -> None:
    plan = plan_page((200, 100) if rotation == 180 else (100, 200), rotation=rotation)
    there = map_hocr(HOCR, plan.backward, plan.size, 300)
    back = parse_hocr(map_hocr(there, plan.forward, plan.out_size, 300))
    original = parse_hocr(HOCR)
    assert back.lines[0].bbox == original.lines[0].bbox
    assert [w.bbox for w in back.lines[0].words] == [w.bbox for w in original.lines[0].words]
    assert back.lines[0].text_angle == 0
    assert back.lines[0].baseline == pytest.approx(original.lines[0].baseline)


def test_stored_hocr_can_be_read_upright_again() -> None:
    plan = plan_page((100, 200), rotation=270, skew=1.5)
    stored = map_hocr(HOCR, plan.backward, (100, 200), 300)
    again = parse_hocr(upright_hocr(stored, 270, 1.5))
    assert (again.width, again.height) == plan.out_size
    original = parse_hocr(HOCR).lines[0]
    for word, before in zip(again.lines[0].words, original.words, strict=True):
        assert word.bbox == pytest.approx(before.bbox, abs=4)  # boxes grow by the tilt
    assert again.lines[0].text_angle == 0


def test_a_deskewed_line_maps_to_a_tilted_baseline_in_a_box_around_it() -> None:
    # Lines tilted 3° counter-clockwise were read level; page 200×100, no growth needed
    # for the check, scale 2 (read at twice the size).
    plan = plan_page((200, 100), skew=3.0, scale=2.0)
    text = map_hocr(HOCR, plan.backward, (200, 100), 150)
    assert "scan_res 150 150" in text
    assert "x_size 6" in text  # halved with the scale
    (line,) = parse_hocr(text).lines
    assert line.text_angle == 0
    slope, _ = line.baseline or (0.0, 0.0)
    assert slope == pytest.approx(-math.tan(math.radians(3)), abs=1e-3)  # rises to the right
    for word, original in zip(line.words, parse_hocr(HOCR).lines[0].words, strict=True):
        x0, y0, x1, y1 = original.bbox
        for corner in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
            x, y = apply(plan.backward, *corner)
            assert word.bbox[0] - 1 <= x <= word.bbox[2] + 1
            assert word.bbox[1] - 1 <= y <= word.bbox[3] + 1


# --- skew and orientation --------------------------------------------------------------


def _fake_text(size: tuple[int, int] = (1240, 1754), seed: int = 1) -> Image.Image:
    """Lines of word-like dark bars at 150 dpi: what a page of text is to a projection."""
    rng = random.Random(seed)
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    for top in range(150, size[1] - 150, 31):
        x = 180
        while x < size[0] - 180:
            width = rng.randint(20, 110)
            draw.rectangle((x, top, min(x + width, size[0] - 180), top + 12), fill=20)
            x += width + rng.randint(20, 90)  # about half the line is ink, as in text
    img.info["dpi"] = (150, 150)
    return img


@pytest.mark.parametrize("angle", [-9.5, -3.0, -0.7, 0.0, 0.4, 2.5, 7.0])
def test_skew_is_measured_to_a_tenth_of_a_degree(angle: float) -> None:
    found = analyse(skew(_fake_text(), angle), 150).orientation
    assert found.skew == pytest.approx(angle, abs=0.1)
    assert found.has_text


def test_lines_running_down_the_page_mean_a_page_on_its_side() -> None:
    found = analyse(rotate(skew(_fake_text(), 2.0), 90), 150).orientation
    assert found.rotation in (90, 270)  # bars have no top: which way needs letters
    assert found.skew == pytest.approx(2.0, abs=0.1)


def test_a_page_of_little_but_a_seal_and_a_signature_is_left_level() -> None:
    # a last page: three short lines, the signer's block under a seal scanned in grey, a
    # long pen stroke; nothing on it is in lines, and its best "slant" (that of the seal's
    # and the signature's ink) must not be used to turn it
    dpi = 200
    page = Image.new("L", (1654, 2339), 255)
    page.info["dpi"] = (dpi, dpi)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT_DIR / FONT_FILES["bold"]), 34)
    for i, text in enumerate(["Nơi nhận:", "- Như trên;", "- Lưu: VT."]):
        draw.text((220, 200 + 45 * i), text, font=font, fill=0)
    draw.text((1000, 200), "TRƯỞNG PHÒNG", font=font, fill=0)
    draw.text((1000, 480), "Bùi Ngọc Hương", font=font, fill=0)
    for k in range(6):  # the signature's loops, slanting down to the right
        draw.arc((950 + 60 * k, 300 + 12 * k, 1150 + 60 * k, 420 + 12 * k), 0, 300, fill=0, width=4)
    sealed = red_stamp(page, (1120, 380), seed=2).convert("L")
    found = analyse(sealed, dpi).orientation
    assert found.skew == 0.0
    assert not found.certain  # Tesseract's OSD decides the way up


@pytest.fixture(scope="module")
def page_150() -> Image.Image:
    return render_pages(get_spec("cv-12-ubnd-vx"), dpi=150)[0].image


@pytest.mark.parametrize("fed", [0, 90, 180, 270])
def test_orientation_of_real_text_is_found_without_tesseract(
    page_150: Image.Image, fed: int
) -> None:
    found = analyse(rotate(skew(page_150, -1.5), fed), 150).orientation
    assert found.rotation == (360 - fed) % 360
    assert found.certain
    assert found.skew == pytest.approx(-1.5, abs=0.2)


def test_a_blank_page_is_left_alone() -> None:
    blank = Image.new("L", (1240, 1754), 250)
    analysis = analyse(blank, 150)
    assert not analysis.orientation.has_text
    prepared = make_ocr_image(analysis, analysis.orientation.rotation, 0.0)
    assert prepared.plan.is_identity and prepared.image.size == blank.size


# --- colour dropout --------------------------------------------------------------------


def _signed_block() -> tuple[Image.Image, np.ndarray]:
    """Black text under a red seal and a blue pen stroke; and where the text is."""
    font = ImageFont.truetype(str(FONT_DIR / FONT_FILES["bold"]), 40)
    text = Image.new("RGB", (600, 300), "white")
    ImageDraw.Draw(text).text((40, 120), "CHỦ TỊCH Nguyễn Văn A", font=font, fill="black")
    ink = np.asarray(text.convert("L")) < 100
    text.info["dpi"] = (300, 300)
    page = red_stamp(text, (250, 140), radius=120, seed=3)
    ImageDraw.Draw(page).line([(60, 260), (300, 200), (560, 250)], fill=(24, 38, 120), width=4)
    return page, ink


def test_a_red_seal_and_a_blue_signature_go_and_the_text_under_them_stays() -> None:
    page, ink = _signed_block()
    out = np.asarray(drop_colour_ink(page, 300).image)
    before = np.asarray(page.convert("L"))
    near_text = spread_max(ink.astype(np.uint8), 3) > 0  # letters' grey rims included
    seal_only = (before < 200) & ~near_text
    seal_only[190:280] = False  # the pen stroke is checked below
    assert seal_only.sum() > 2000
    assert np.percentile(out[seal_only], 10) > 200  # seal gone
    assert np.median(out[ink]) < 60  # text as black as before
    assert (out[ink] < 128).mean() > 0.95
    ImageDraw.Draw(canvas := Image.new("L", (600, 300), 0)).line(
        [(60, 260), (300, 200), (560, 250)], fill=255, width=2
    )
    stroke = (np.asarray(canvas) > 0) & ~ink
    assert np.percentile(out[stroke], 10) > 200  # pen stroke gone


def test_pages_without_colour_are_only_made_grey() -> None:
    page, _ = _signed_block()
    grey = page.convert("L").convert("RGB")
    result = drop_colour_ink(grey, 300)
    assert result.regions == 0
    assert np.array_equal(np.asarray(result.image), np.asarray(grey.convert("L")))
    already = Image.new("L", (50, 50), 128)
    assert drop_colour_ink(already, 300).image is already


def test_spread_max_is_a_square_maximum() -> None:
    values = np.zeros((7, 9))
    values[3, 4] = 1.0
    spread = spread_max(values, 2)
    assert spread.sum() == 25 and spread[1:6, 2:7].all()


# --- noise and scale -------------------------------------------------------------------


def test_noise_is_measured_where_it_matters() -> None:
    rng = np.random.default_rng(0)
    flat = np.full((800, 600), 128.0)
    quiet = Image.fromarray(np.clip(flat + rng.normal(0, 4, flat.shape), 0, 255).astype("uint8"))
    noisy = Image.fromarray(np.clip(flat + rng.normal(0, 30, flat.shape), 0, 255).astype("uint8"))
    assert noise_level(Image.new("L", (600, 800), 255)) == 0
    assert noise_level(quiet) < NOISY <= noise_level(noisy)
    assert noise_level(noisy) == pytest.approx(30, rel=0.15)


@pytest.mark.parametrize(
    ("x_height", "dpi", "scale"),
    [
        (8.0, 100, 20 / (25 * 100 / 300)),  # small text at low resolution: enlarged
        (None, 100, 20 / (25 * 100 / 300)),  # no lines measured: the dpi decides
        (25.0, 300, 1.0),
        (16.0, 200, 1.0),  # 200 dpi is read as it is
        (50.0, 72, 1.0),  # a phone photo claiming 72 dpi: the measure disagrees
        (3.0, 300, 1.0),  # a blurred page measured wrong: the dpi disagrees
        (50.0, 600, 0.5),  # needlessly fine: reduced
    ],
)
def test_scale_needs_the_measure_and_the_dpi_to_agree(
    x_height: float | None, dpi: float, scale: float
) -> None:
    assert target_scale(x_height, dpi) == pytest.approx(scale)
