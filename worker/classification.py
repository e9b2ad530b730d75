"""The classification step of publishing: pages, word boxes and past corrections in, the
record's document fields out."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from classify import Classification, Correction, Hints, PageInput, WordBox, classify
from classify.evidence import Reading, unsure_fields
from classify.locate import locate, variants
from classify.signblock import name_area
from ocr import handwritten, parse_hocr
from ocr.hocr_map import upright_hocr
from ocr.pdfchars import words_from_chars
from ocr.reread import reread_area
from ocr.sniff import PDF
from ocr.sources import DocumentSource, open_source
from schemas.record import Signature
from schemas.settings import page_pixel_budget
from store.accounts.units import list_units
from store.platform.models import PageRow
from store.records.corrections import corrections
from store.services import Services

log = logging.getLogger(__name__)

#: pages that get word boxes: the header is on the first, the signature on the last ones
SIGNATURE_PAGES = 3
#: a unit read off the header is recorded only this sure (the uploader's choice wins anyway)
UNIT_CONFIDENCE = 0.9


def classify_pages(
    svc: Services,
    pages: Sequence[PageRow],
    *,
    hocr_key: Any,
    document_id: str,
    source: Path,
    media_type: str,
    signatures: Sequence[Signature] = (),
) -> Classification:
    """Classify from the pages' text and boxes; then, when the number or the date of a
    scanned first page is not read for sure, read their gaps again with the second
    recognizer and classify once more with those readings (classify.evidence)."""
    count = len(pages)
    boxed = {1} | set(range(max(1, count - SIGNATURE_PAGES + 1), count + 1))
    inputs = []
    pdf_source = None
    stored: dict[int, str] = {}  # pages' stored hOCR, in the scan's frame: where crops are cut
    with svc.sessions() as session:
        hints = Hints.from_corrections(
            Correction(header=c["header"], fields=c["fields"], read=c["read"])
            for c in corrections(session)
        )
        units = list_units(session)
    try:
        for page in pages:
            words: list[WordBox] | None = None
            width = height = None
            if page.number in boxed and page.has_hocr:
                raw = svc.objects.get_bytes(hocr_key(document_id, page.number)).decode("utf-8")
                stored[page.number] = raw
                if page.rotation or page.skew:
                    # stored boxes are in the scan's frame; layout wants the header on top
                    raw = upright_hocr(raw, page.rotation, page.skew)
                hocr = parse_hocr(raw)
                words = [
                    WordBox(w.text, *w.bbox, line=i, confidence=w.confidence)
                    for i, line in enumerate(hocr.lines)
                    for w in line.words
                ]
                width, height = hocr.width, hocr.height
            elif page.number in boxed and media_type == PDF:
                if pdf_source is None:
                    pdf_source = _open(svc, source, media_type)
                words = [
                    WordBox(w["text"], w["x0"], w["top"], w["x1"], w["bottom"])
                    for w in words_from_chars(pdf_source.chars(page.number))
                ] or None
            inputs.append(PageInput(page.number, page.text, words, width, height))
        options: dict[str, Any] = {"units": units or None, "hints": hints}
        result = classify(inputs, signatures=signatures, **options)
        wanted = unsure_fields(result.field_confidence)
        readings: dict[str, list[Reading]] = {}
        if wanted and 1 in stored and inputs[0].words:
            pdf_source = pdf_source or _open(svc, source, media_type)
            dpi = svc.settings.ocr_dpi
            readings.update(
                second_readings(pdf_source, pages[0], inputs[0], stored[1], dpi, wanted)
            )
        area = signer_area(pages, inputs, stored)
        if area is not None and "; " not in (result.document.issuer or ""):  # joint: 3 names
            pdf_source = pdf_source or _open(svc, source, media_type)
            settings = svc.settings
            signer = signer_readings(pdf_source, *area, settings.ocr_dpi, settings.ocr_lang)
            if signer:
                readings["signer"] = signer
        if not readings:
            return result
        return classify(inputs, signatures=signatures, readings=readings, **options)
    finally:
        if pdf_source is not None:
            pdf_source.close()


def _open(svc: Services, source: Path, media_type: str) -> DocumentSource:
    settings = svc.settings
    return open_source(
        source, media_type, max_pages=settings.max_pages, max_pixels=page_pixel_budget(settings)
    )


def classification_record(result: Classification) -> dict[str, Any]:
    """What is kept of the machine's reading, for review and for learning."""
    return {
        "header": result.header,
        "unit": result.unit,
        "unit_confidence": result.unit_confidence,
        "field_confidence": result.field_confidence,
        "needs_review": result.needs_review,
        "reasons": [r.model_dump(mode="json") for r in result.reasons],
        "read": result.document.model_dump(mode="json"),
    }


def unit_guess(result: Classification) -> str | None:
    return result.unit if result.unit_confidence >= UNIT_CONFIDENCE else None


def second_readings(
    source: DocumentSource,
    page: PageRow,
    upright: PageInput,
    stored_hocr: str,
    dpi: int,
    wanted: Collection[str] = ("number", "day", "month"),
) -> dict[str, list[Reading]]:
    """The number, day and month gaps of a scanned first page, read by the second
    recognizer (a few crops each). Nothing when the gaps are not found or the recognizer
    is not installed: classification then goes on with Tesseract's reading alone."""
    if not set(locate(upright).fields()) & set(wanted) or not handwritten.available():
        return {}
    try:
        frame = parse_hocr(stored_hocr)
        image = source.render(page.number, dpi).image
        return read_gaps(
            image, upright, (frame.width, frame.height), page.rotation or 0, page.skew or 0.0,
            wanted=wanted,
        )  # fmt: skip
    except Exception:  # the second look is a help, never a reason to lose the record
        log.exception("second reading of page %s failed", page.number)
        return {}


def read_gaps(
    image: Image.Image,
    upright: PageInput,
    frame: tuple[int, int],
    rotation: int = 0,
    skew: float = 0.0,
    *,
    wanted: Collection[str] = ("number", "day", "month"),
) -> dict[str, list[Reading]]:
    """Locate the gaps on `upright` (word boxes of the page as read) and read each in a few
    crops of `image` (the page as stored, `frame` its size in the boxes' pixels)."""
    out: dict[str, list[Reading]] = {}
    for name, box in locate(upright).fields().items():
        if name not in wanted:
            continue
        for variant in variants(box):
            crop = handwritten.upright_crop(
                image, variant, frame=frame, rotation=rotation, skew=skew
            )
            read = handwritten.read_field(crop)
            out.setdefault(name, []).append(Reading(read.text, read.digit_score))
    return out


def signer_area(
    pages: Sequence[PageRow], inputs: Sequence[PageInput], stored: dict[int, str]
) -> tuple[PageRow, str, tuple[float, float, float, float]] | None:
    """The scanned page that holds the signature block (from the end; page 1 only when it is
    the only one: its header has titles too), its stored hOCR, and the name's area."""
    for page, upright in list(zip(pages, inputs, strict=True))[::-1][:SIGNATURE_PAGES]:
        if page.number == 1 and len(pages) > 1:
            break
        if page.number not in stored or not upright.words:
            continue
        box = name_area(upright)
        if box is not None:
            return page, stored[page.number], box
    return None


def signer_readings(
    source: DocumentSource,
    page: PageRow,
    stored_hocr: str,
    box: tuple[float, float, float, float],
    dpi: int,
    lang: str,
) -> list[Reading]:
    """The signer's name area read again (`ocr.reread`), line by line; nothing when that
    fails: classification then goes on with the page's own reading."""
    try:
        frame = parse_hocr(stored_hocr)
        image = source.render(page.number, dpi).image
        lines = reread_area(
            image, box, frame=(frame.width, frame.height), rotation=page.rotation or 0,
            skew=page.skew or 0.0, lang=lang, dpi=dpi,
        )  # fmt: skip
    except Exception:  # the second look is a help, never a reason to lose the record
        log.exception("second reading of the signer on page %s failed", page.number)
        return []
    return [Reading(line.text, line.confidence) for line in lines]
