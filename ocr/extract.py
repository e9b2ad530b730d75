"""One page in, its text out: the text layer when it is the page's real text, OCR otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PIL import Image

from ocr.errors import ExtractionError
from ocr.hocr import HocrPage, mean_confidence, page_text, parse_hocr
from ocr.hocr_map import map_hocr
from ocr.preprocess import Analysis, Prepared, analyse, make_ocr_image, skew_for
from ocr.recover import merge_lines, missed_regions, read_regions
from ocr.sources import DocumentSource, normalize_text
from ocr.tesseract import Recognized, detect_orientation, recognize
from ocr.textlayer import judge
from schemas.errors import ErrorCode
from schemas.record import PageMethod

#: a page whose mean word confidence is below this is flagged `low_confidence`. Measured
#: on generated pages (tests/integration/test_ocr_quality.py and heavier defects): every
#: page read with CER ≤ 4 % scored ≥ 0.908 (≥ 0.939 in the target conditions with `vie`);
#: pages read with CER > 5 % scored 0.78–0.93, two thirds of them below 0.90.
LOW_CONFIDENCE = 0.90
#: below this the page may be turned the wrong way (pages read upside down score
#: 0.41–0.45, the worst upright pages 0.78): Tesseract's OSD gets a say
RECHECK_BELOW = 0.75
#: OSD confidence needed to overrule the cheap orientation measure
MIN_OSD_CONFIDENCE = 2.0


@dataclass(frozen=True)
class PageResult:
    """One page's text. For an OCRed page, `rotation` is the clockwise quarter turn applied
    before OCR (a page fed turned 90° clockwise gets 270), `skew` the tilt of its text lines
    in degrees, counter-clockwise positive (it was straightened by turning it clockwise by
    as much), and `hocr` the word boxes in the pixels of the page as rendered (the original
    image), whatever was done to read it."""

    number: int
    text: str
    method: PageMethod
    confidence: float | None
    rotation: int = 0
    skew: float | None = None
    hocr: str | None = None  # word boxes of an OCRed page, in the page's displayed frame
    note: str = ""  # why this method was chosen
    low_confidence: bool = False  # OCR confidence under LOW_CONFIDENCE: worth a human look
    recovered: int = 0  # words read by the second look at ink the first left (ocr.recover)
    timings: dict[str, float] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class _Reading:
    prepared: Prepared
    recognized: Recognized
    page: HocrPage  # recognized.hocr, parsed once
    recovered: int = 0  # words found by the second look (ocr.recover)

    @property
    def confidence(self) -> float | None:
        return mean_confidence(self.page)


def extract_page(source: DocumentSource, number: int, *, lang: str, dpi: int) -> PageResult:
    """Extract page `number` (1-based). Raises ExtractionError for a page that cannot be read.

    A page that needs more memory than the process may use (its address space is capped in
    workers) fails as `image_too_large`: that file's failure, never the worker's.
    """
    try:
        return _extract_page(source, number, lang=lang, dpi=dpi)
    except MemoryError as exc:
        raise ExtractionError(
            ErrorCode.image_too_large,
            f"page {number} needs more memory than a worker may use ({exc or 'out of memory'})",
        ) from None


def _extract_page(source: DocumentSource, number: int, *, lang: str, dpi: int) -> PageResult:
    layer = source.text_layer(number)
    verdict = judge(layer)
    if verdict.usable and layer is not None:
        return PageResult(
            number=number,
            text=layer.text,
            method=PageMethod.text_layer,
            confidence=1.0,
            note=verdict.reason,
        )
    page = source.render(number, dpi)
    try:
        return ocr_page(page.image, page.dpi, number=number, lang=lang, note=verdict.reason)
    finally:
        page.image.close()


def _read(analysis: Analysis, rotation: int, lang: str) -> _Reading:
    prepared = make_ocr_image(analysis, rotation, skew_for(analysis, rotation))
    start = time.perf_counter()
    recognized = recognize(prepared.image, lang=lang, dpi=prepared.dpi)
    analysis.timings["ocr"] = analysis.timings.get("ocr", 0.0) + _ms(start)
    return _Reading(prepared, recognized, parse_hocr(recognized.hocr))


def _second_look(reading: _Reading, lang: str, analysis: Analysis) -> _Reading:
    """The reading with the text its layout analysis dropped read again (ocr.recover)."""
    start = time.perf_counter()
    prepared = reading.prepared
    first = reading.page
    regions = missed_regions(prepared.image, first, prepared.dpi)
    if not regions:
        analysis.timings["recover"] = _ms(start)
        return reading
    blocks = read_regions(prepared.image, regions, first, lang=lang, dpi=prepared.dpi)
    analysis.timings["recover"] = _ms(start)
    words = sum(len(line.words) for lines in blocks for line in lines)
    if not words:
        return reading
    hocr = merge_lines(reading.recognized.hocr, blocks)
    merged = parse_hocr(hocr)
    recognized = Recognized(text=page_text(merged), hocr=hocr)
    return _Reading(prepared, recognized, merged, recovered=words)


def _osd_rotation(analysis: Analysis) -> int | None:
    start = time.perf_counter()
    osd = detect_orientation(analysis.grey, dpi=analysis.dpi)
    analysis.timings["osd"] = analysis.timings.get("osd", 0.0) + _ms(start)
    if osd is None or osd.confidence < MIN_OSD_CONFIDENCE:
        return None
    return osd.rotate


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)


def ocr_page(
    image: Image.Image, dpi: float, *, number: int = 1, lang: str, note: str = ""
) -> PageResult:
    """OCR one page image: orientation, deskew, colour dropout and scale first; the hOCR
    comes back in the pixels of `image`."""
    analysis = analyse(image, dpi)
    found = analysis.orientation
    rotation, checked = found.rotation, False
    if found.has_text and not found.certain:
        told = _osd_rotation(analysis)
        rotation, checked = (found.rotation if told is None else told), True
    reading = _read(analysis, rotation, lang)
    if found.has_text and not checked and (reading.confidence or 0.0) < RECHECK_BELOW:
        # Readable text that reads badly: the page may be upside down after all.
        turn = _osd_rotation(analysis)
        if turn is not None and turn != rotation:
            again = _read(analysis, turn, lang)
            if (again.confidence or 0.0) > (reading.confidence or 0.0):
                reading = again
    if found.has_text:
        reading = _second_look(reading, lang, analysis)
    plan = reading.prepared.plan
    hocr = reading.recognized.hocr
    if not plan.is_identity:
        start = time.perf_counter()
        hocr = map_hocr(hocr, plan.backward, image.size, dpi)
        analysis.timings["map_hocr"] = _ms(start)
    confidence = reading.confidence
    low = confidence < LOW_CONFIDENCE if confidence is not None else found.has_text
    return PageResult(
        number=number,
        text=normalize_text(reading.recognized.text),
        method=PageMethod.ocr,
        confidence=round(confidence, 4) if confidence is not None else 0.0,
        rotation=plan.rotation,
        skew=round(plan.skew, 2),
        hocr=hocr,
        note=note,
        low_confidence=low,
        recovered=reading.recovered,
        timings=analysis.timings,
    )
