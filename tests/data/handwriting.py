"""Scans whose number and day are written by hand, in blue ink, over the printed blank.

Paper originals are printed with `Số:        /QĐ-UBND` and `ngày      tháng 5 năm 2023`;
the văn thư writes the number and the day in after signing. This draws such a page from a
`DocumentSpec`: the blanks printed, then the number and the day written into them with a
handwriting font (Debian's `fonts-dkg-handwriting`, a person's hand; deploy/install-system.sh
--test installs it), a little larger than print, tilted and off the baseline as a pen puts it.

    page = handwritten_page(spec, seed=3)
    page.image, page.number, page.issued_on      # the scan and what a person reads on it
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tests.data.layout import Line, layout_document
from tests.data.render import draw_page_image
from tests.data.specs import DocumentSpec
from tests.data.typeset import text_width

#: where Debian puts the handwriting font
HAND_FONT = Path("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf")
BLUE_INK = (30, 50, 170)
NUMBER_BLANK = " " * 11
DAY_BLANK = " " * 6


@dataclass
class HandwrittenPage:
    """Page 1 as scanned, and the fields as a person reads them."""

    image: Image.Image
    spec: DocumentSpec  # as printed: the blanks in place of the number and the day
    number: str  # the whole number and symbol, `251/KH-UBND`
    issued_on: date
    dpi: int


def font_available() -> bool:
    return HAND_FONT.is_file()


@lru_cache(maxsize=8)
def _hand(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(HAND_FONT), size=px)


def _write(
    image: Image.Image, text: str, x: float, baseline: float, px: int, rng: random.Random
) -> None:
    """Write `text` with its left end at x on the baseline (pixels), as a pen does."""
    font = _hand(px)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    pad = px // 2
    tile = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(tile).text((pad - left, pad - top), text, font=font, fill=255, anchor="ls")
    tile = tile.rotate(rng.uniform(-6, 6), resample=Image.Resampling.BICUBIC, expand=True)
    ink = Image.new("RGB", tile.size, BLUE_INK)
    dx = x - pad + rng.uniform(-0.1, 0.2) * px
    dy = baseline - (pad - top) + rng.uniform(-0.15, 0.05) * px
    image.paste(ink, (round(dx), round(dy)), tile)


def _line(spec: DocumentSpec, text: str | None) -> Line:
    page = layout_document(spec, max_pages=1)[0]
    return next(line for block in page.blocks for line in block if line.text == text)


def handwritten_page(spec: DocumentSpec, *, seed: int = 0, dpi: int = 300) -> HandwrittenPage:
    """Page 1 of `spec` with its number and day written by hand into printed blanks."""
    if spec.issued_on is None or spec.place is None or "/" not in spec.number:
        raise ValueError(f"{spec.key}: needs a number with a symbol and a dated place line")
    rng = random.Random(seed)
    issued = spec.issued_on
    code, _, notation = spec.number.partition("/")
    month = f"{issued.month:02d}" if issued.month < 3 else str(issued.month)
    printed = replace(
        spec,
        number=f"{NUMBER_BLANK}/{notation}",
        date_text=f"ngày{DAY_BLANK}tháng {month} năm {issued.year}",
    )
    page = layout_document(printed, max_pages=1)[0]
    image = draw_page_image(page, dpi, signature=True, seed=seed)
    scale = dpi / 72
    number_line = _line(printed, printed.number_line)
    date_line = _line(printed, printed.date_line)
    size = number_line.size
    label = f"{printed.number_label} "
    room = text_width(NUMBER_BLANK, number_line.style, size)
    x = number_line.x + text_width(label, number_line.style, size)
    px = round(size * scale * rng.uniform(1.1, 1.3))
    _write(image, code, (x + room * 0.15) * scale, number_line.baseline * scale, px, rng)
    before = f"{printed.place}, ngày"
    x = date_line.x + text_width(before, date_line.style, date_line.size)
    day = f"{issued.day:02d}" if issued.day < 10 else str(issued.day)
    _write(image, day, (x + size * 0.4) * scale, date_line.baseline * scale, px, rng)
    image.info["dpi"] = (dpi, dpi)
    return HandwrittenPage(image, printed, spec.number, issued, dpi)


def write_pdf(page: HandwrittenPage, path: Path) -> Path:
    """The page as a one-page scanned PDF (an image, no text layer)."""
    page.image.save(path, "PDF", resolution=page.dpi)
    return path
