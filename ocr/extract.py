"""One page in, its text out: the text layer when it is the page's real text, OCR otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from ocr.hocr import mean_confidence, parse_hocr
from ocr.sources import DocumentSource, normalize_text
from ocr.tesseract import recognize
from ocr.textlayer import judge
from schemas.record import PageMethod


@dataclass(frozen=True)
class PageResult:
    number: int
    text: str
    method: PageMethod
    confidence: float | None
    rotation: int = 0
    skew: float | None = None
    hocr: str | None = None  # word boxes of an OCRed page, in the page's displayed frame
    note: str = ""  # why this method was chosen


def extract_page(source: DocumentSource, number: int, *, lang: str, dpi: int) -> PageResult:
    """Extract page `number` (1-based). Raises ExtractionError for a page that cannot be read."""
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
        result = recognize(page.image, lang=lang, dpi=page.dpi)
    finally:
        page.image.close()
    confidence = mean_confidence(parse_hocr(result.hocr))
    return PageResult(
        number=number,
        text=normalize_text(result.text),
        method=PageMethod.ocr,
        confidence=round(confidence, 4) if confidence is not None else 0.0,
        hocr=result.hocr,
        note=verdict.reason,
    )
