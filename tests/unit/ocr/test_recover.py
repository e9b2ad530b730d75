"""The second look at ink the first reading left out (ocr.recover), without Tesseract:
which regions are found, how the seal is taken off them, how their lines join the hOCR."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.hocr import HocrPage, Line, Word, page_text, parse_hocr
from ocr.recover import MIN_WORD_CONFIDENCE, dark_ink, merge_lines, missed_regions
from tests.data.defects import red_stamp
from tests.data.typeset import FONT_DIR, FONT_FILES

DPI = 300.0
PAGE = (2480, 3508)


def _font(size: int = 50) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES["bold"]), size)


def _page_with(texts: dict[tuple[int, int], str]) -> tuple[Image.Image, dict[str, tuple]]:
    """A white page with `texts` drawn at their positions; the box of each text."""
    img = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(img)
    boxes = {}
    for (x, y), text in texts.items():
        draw.text((x, y), text, font=_font(), fill=0)
        boxes[text] = draw.textbbox((x, y), text, font=_font())
    return img, boxes


def _read(*boxes: tuple[int, int, int, int]) -> HocrPage:
    """A first reading that found words exactly at `boxes`."""
    lines = [Line(box, None, [Word("chữ", box, 0.95)]) for box in boxes]
    return HocrPage(PAGE[0], PAGE[1], lines)


def _inside(inner: tuple, outer: tuple) -> bool:
    return (
        outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )  # fmt: skip


def test_text_no_word_covers_is_found_and_read_text_is_not() -> None:
    img, boxes = _page_with({(300, 400): "ỦY BAN NHÂN DÂN", (1500, 3000): "Bùi Ngọc Hương"})
    regions = missed_regions(img, _read(boxes["ỦY BAN NHÂN DÂN"]), DPI)
    assert len(regions) == 1
    assert _inside(boxes["Bùi Ngọc Hương"], regions[0].box)


def test_a_page_read_whole_has_nothing_left() -> None:
    img, boxes = _page_with({(300, 400): "Số: 12/KH-UBND", (300, 600): "Kính gửi"})
    assert missed_regions(img, _read(*boxes.values()), DPI) == []
    assert missed_regions(Image.new("L", PAGE, 255), _read(), DPI) == []


def test_specks_edges_and_pictures_are_not_read_again() -> None:
    img = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(1)
    for x, y in rng.integers(200, 2200, size=(200, 2)):
        draw.point((int(x), int(y)), fill=0)  # dust
    draw.rectangle((0, 0, 40, PAGE[1]), fill=0)  # the scanner's dark edge
    draw.rectangle((300, 1200, 2200, 2600), fill=90)  # a photograph
    assert missed_regions(img, _read(), DPI) == []


def test_the_grey_seal_is_taken_off_and_the_black_text_stays() -> None:
    img, boxes = _page_with({(1500, 3000): "Bùi Ngọc Hương"})
    sealed = red_stamp(img, (1700, 3000), seed=3).convert("L")  # a seal scanned in grey
    x0, y0, x1, y1 = 1400, 2750, 2150, 3250
    crop = np.asarray(sealed.crop((x0, y0, x1, y1)))
    clean = dark_ink(crop)
    tx0, ty0, tx1, ty1 = boxes["Bùi Ngọc Hương"]
    text = np.zeros(crop.shape, dtype=bool)
    text[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0] = True
    drawn = np.asarray(img.crop((x0, y0, x1, y1))) < 128
    assert (clean[drawn] == 0).mean() > 0.95  # the letters stay black
    assert (clean[~text] == 0).mean() < 0.01  # the seal's ring and star are gone
    assert (crop[~text] < 200).mean() > 0.05  # ... and there was a seal to take off


def test_black_text_alone_is_kept_whole() -> None:
    img, _ = _page_with({(20, 20): "Nguyễn Văn Đức"})
    crop = np.asarray(img.crop((0, 0, 700, 120)))
    clean = dark_ink(crop)
    assert (clean[crop < 128] == 0).mean() > 0.97


HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title></title></head>
 <body>
  <div class='ocr_page' id='page_1' title='bbox 0 0 2480 3508; ppageno 0'>
   <div class='ocr_carea' id='block_1_1' title="bbox 300 400 900 460">
    <p class='ocr_par' id='par_1_1' title="bbox 300 400 900 460">
     <span class='ocr_line' id='line_1_1' title="bbox 300 400 900 460; baseline 0 -10">
      <span class='ocrx_word' id='word_1_1' title='bbox 300 400 500 460; x_wconf 95'>Nơi</span>
      <span class='ocrx_word' id='word_1_2' title='bbox 520 400 900 460; x_wconf 94'>nhận:</span>
     </span>
    </p>
   </div>
   <div class='ocr_carea' id='block_1_2' title="bbox 300 2000 900 2060">
    <p class='ocr_par' id='par_1_2' title="bbox 300 2000 900 2060">
     <span class='ocr_line' id='line_1_2' title="bbox 300 2000 900 2060; baseline 0 -10">
      <span class='ocrx_word' id='word_1_3' title='bbox 300 2000 900 2060; x_wconf 96'>cuối</span>
     </span>
    </p>
   </div>
  </div>
 </body>
</html>
"""


def test_recovered_lines_join_the_hocr_in_reading_order() -> None:
    sure = MIN_WORD_CONFIDENCE + 0.1
    lines = [
        Line((1500, 500, 2100, 560), (0.0, -12.0), [
            Word("PHÓ", (1500, 500, 1640, 560), sure),
            Word("CHỦ", (1660, 500, 1800, 560), sure),
            Word("<TỊCH>", (1820, 500, 2100, 560), sure),
        ]),
        Line((1500, 700, 2100, 760), None, [Word("Bùi", (1500, 700, 1600, 760), sure)]),
    ]  # fmt: skip
    merged = merge_lines(HOCR, [lines, []])
    page = parse_hocr(merged)
    assert page_text(page) == "Nơi nhận:\n\nPHÓ CHỦ <TỊCH>\nBùi\n\ncuối"
    recovered = page.lines[1]
    assert recovered.bbox == (1500, 500, 2100, 560)
    assert recovered.baseline == (0.0, -12.0)
    assert recovered.words[0].bbox == (1500, 500, 1640, 560)
    assert recovered.words[0].confidence == round(sure, 2)


def test_recovered_lines_below_every_block_come_last() -> None:
    line = Line((300, 3000, 700, 3060), None, [Word("Hương", (300, 3000, 700, 3060), 0.9)])
    assert page_text(parse_hocr(merge_lines(HOCR, [[line]]))) == "Nơi nhận:\n\ncuối\n\nHương"
    assert merge_lines("not hOCR at all", [[line]]) == "not hOCR at all"
