"""A scanned page made ready for Tesseract: colour ink out, upright, level, at the size
Tesseract reads best, and the map back to the original pixels.

What the steps cost on a 300 dpi A4 page, in CPU ms (Tesseract itself: ~1450 ms on a grey
PGM, some 40 ms less on the raw grey TIFF we write, ~1670 ms on the colour PNG):

- grey + colour dropout (ocr.dropout): ~6 ms for the grey conversion (done before too),
  ~15 ms with a signature, ~30 ms with a seal;
- analysis of a ~100 dpi copy (ocr.deskew, ocr.orientation, ocr.clean.noise_level):
  ~18 ms; Tesseract's OSD (~0.6 s) only when it cannot tell (no sample page needed it);
- only where needed: a quarter turn (exact transpose, ~7 ms), deskew and/or rescale in one
  bilinear pass (~130 ms), a 3×3 median on noisy or enlarged pages (~250 ms);
- bringing the hOCR back (ocr.hocr_map): ~7 ms when the page was changed.

Binarizing ourselves was tried and left out: Tesseract's Otsu on the grey page did as well.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ocr.clean import NOISY, denoise, noise_level
from ocr.deskew import ANALYSIS_DPI, fit_lines, ink_mask, ink_points
from ocr.dropout import drop_colour_ink
from ocr.geometry import IDENTITY, PagePlan, compose, plan_page
from ocr.orientation import Orientation, find_orientation, line_skew, turn_points

#: pages tilted less than this are read as they are: plain Tesseract read our pages tilted
#: ±1.5° as well as level ones (0.1–0.4 % CER) but lost lines from −2° (up to 11 %), and
#: resampling a page costs ~0.13 s
MIN_DESKEW = 1.0
#: x-height (pixels) under which text is enlarged: 13 pt body text has 25 px at 300 dpi,
#: 17 px at 200 dpi (read as well as at 300: enlarging cost 80 % more OCR time for nothing),
#: 8 px at 100 dpi (CER 1.4 %, 0.7 % once enlarged to 20 px)
MIN_X_HEIGHT = 11.0
#: x-height above which the page is reduced: a 600 dpi scan costs four times the OCR time
MAX_X_HEIGHT = 40.0
#: x-heights a page is brought to when it is enlarged, and when it is reduced
UP_TO_X_HEIGHT, DOWN_TO_X_HEIGHT = 20.0, 25.0
X_HEIGHT_AT_300 = 25.0  # of 13 pt body text: what the dpi alone predicts
#: most a page is enlarged (a page claiming 30 dpi is not made ten times larger)
MAX_UPSCALE = 3.0
#: most pixels an enlarged page may have. Enlarging only helps small text, and the cost
#: (a bilinear pass, a median, Tesseract's memory) grows with the area: an A0 plan at
#: 200 dpi is ~70 Mpx, while a page already rendered near the source pixel cap (250 Mpx)
#: enlarged 3× would be 2.25 Gpx (~8 GB, and more than Tesseract accepts). A page at or
#: above this budget is read at the size it has.
MAX_ENLARGED_PIXELS = 100_000_000
#: an enlargement the budget cuts below this is not worth its resampling pass and median
MIN_UPSCALE = 1.25
#: interpolation of the one resampling pass
RESAMPLE = Image.Resampling.BILINEAR


@dataclass
class Analysis:
    """A page in grey with colour ink removed, and what the small copy told about it."""

    grey: Image.Image
    dpi: float
    ys: np.ndarray = field(repr=False)
    xs: np.ndarray = field(repr=False)
    orientation: Orientation
    noise: float = 0.0  # ocr.clean.noise_level of the grey page
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Prepared:
    """The image Tesseract reads, its resolution, and the map back to the original."""

    image: Image.Image
    dpi: float
    plan: PagePlan


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)


def analyse(image: Image.Image, dpi: float) -> Analysis:
    """Grey and colour-free page, its ink on a small copy, and its orientation and skew."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    grey = drop_colour_ink(image, dpi).image
    timings["grey_dropout"] = _ms(start)
    start = time.perf_counter()
    factor = max(1, round(dpi / ANALYSIS_DPI))
    small = np.asarray(grey.reduce(factor) if factor > 1 else grey)
    ys, xs = ink_points(ink_mask(small.copy()))
    orientation = find_orientation(ys, xs)
    noise = noise_level(grey)
    timings["analysis"] = _ms(start)
    return Analysis(grey, dpi, ys, xs, orientation, noise, timings)


def skew_for(analysis: Analysis, rotation: int) -> float:
    """The skew once turned by `rotation` (when OSD overrules the cheap measure)."""
    if rotation % 180 == analysis.orientation.rotation % 180:
        return analysis.orientation.skew
    ys, xs = turn_points(analysis.ys, analysis.xs, rotation)
    return line_skew(fit_lines(ys, xs))


def target_scale(x_height: float | None, dpi: float, *, pixels: int = 0) -> float:
    """Factor that brings text to a size Tesseract reads well.

    The measured x-height and the one the dpi predicts must agree before a page is
    rescaled: the measure misjudges heavily blurred pages (their lines melt), the dpi lies
    on phone photos (72 dpi for 4000 pixels). When in doubt the page is left as it is.
    Only pages under ~130 dpi are enlarged, to at most the x-height of a 240 dpi page, at
    most MAX_UPSCALE times, and never beyond MAX_ENLARGED_PIXELS for a page of `pixels`
    pixels (0: unknown, unbounded).
    """
    expected = X_HEIGHT_AT_300 * dpi / 300.0
    measured = expected if x_height is None else x_height
    if max(measured, expected) < MIN_X_HEIGHT:
        wanted = UP_TO_X_HEIGHT / max(measured, expected, 1.0)
        scale = min(wanted, MAX_UPSCALE, _room_to_enlarge(pixels))
        return scale if scale >= MIN_UPSCALE else 1.0
    if min(measured, expected) > MAX_X_HEIGHT:
        return DOWN_TO_X_HEIGHT / min(measured, expected)
    return 1.0


def _room_to_enlarge(pixels: int) -> float:
    """The largest factor that keeps a page of `pixels` pixels within MAX_ENLARGED_PIXELS
    (rounded down to the 3 decimals a scale is kept with)."""
    if pixels <= 0:
        return math.inf
    return math.floor(math.sqrt(MAX_ENLARGED_PIXELS / pixels) * 1000.0) / 1000.0


def page_x_height(analysis: Analysis) -> float | None:
    """The measured x-height in full-resolution pixels (None when there were no lines)."""
    measured = analysis.orientation.x_height
    if measured is None:
        return None
    return measured * max(1, round(analysis.dpi / ANALYSIS_DPI))


def make_ocr_image(analysis: Analysis, rotation: int, skew: float) -> Prepared:
    """Turn, level and rescale the grey page in one resampling pass (or none)."""
    start = time.perf_counter()
    grey = analysis.grey
    level = skew if abs(skew) >= MIN_DESKEW else 0.0
    width, height = plan_page(grey.size, rotation=rotation, skew=level).out_size
    pixels = width * height  # of the turned and levelled page, before any rescaling
    scale = round(target_scale(page_x_height(analysis), analysis.dpi, pixels=pixels), 3)
    plan = plan_page(grey.size, rotation=rotation, skew=level, scale=scale)
    if analysis.noise >= NOISY and scale <= 1.0:
        # Before any resampling, which would smear the specks into blobs.
        grey = denoise(grey)
    if plan.is_identity:
        image = grey
    elif level == 0 and scale == 1.0:
        turn = {
            90: Image.Transpose.ROTATE_270,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_90,
        }[plan.rotation]
        image = grey.transpose(turn)  # exact and cheap
    else:
        source, backward = grey, plan.backward
        shrink = int(1.0 / scale)
        if shrink >= 2:
            # Average blocks first: a bilinear pass alone would skip pixels and alias.
            source = grey.reduce(shrink)
            backward = compose((1.0 / shrink, 0.0, 0.0, 0.0, 1.0 / shrink, 0.0), backward)
        if source.size == plan.out_size and all(
            abs(a - b) < 1e-6 for a, b in zip(backward, IDENTITY, strict=True)
        ):
            image = source  # a 600 dpi page halved: the block average was all it needed
        else:
            image = source.transform(
                plan.out_size, Image.Transform.AFFINE, data=backward, resample=RESAMPLE,
                fillcolor=255,
            )  # fmt: skip
        if scale > 1.0:
            # Enlarged, a one-pixel speck of dust becomes a dot Tesseract reads as a
            # period, and a page of them breaks its layout analysis (CER 0.6 % -> 12 % on
            # 150 dpi noise); a median after enlarging removes them and keeps the strokes
            # (before it, at 100 dpi, it eats the strokes: 9 %).
            image = denoise(image)
    analysis.timings["geometry"] = _ms(start)
    return Prepared(image, analysis.dpi * scale, plan)
