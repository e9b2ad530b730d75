"""PDF inputs read end to end: the values filled into a form's fields reach the page's text."""

from __future__ import annotations

from pathlib import Path

import pytesseract
import pytest

from ocr import extract_page, open_source
from schemas.record import PageMethod
from tests.unit.ocr.test_pdf_checks import FIELDS, HIDDEN, form_pdf

LIMITS = {"max_pages": 5000, "max_pixels": 250_000_000}


def _tesseract_ready() -> bool:
    try:
        return "vie" in pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, OSError):
        return False


@pytest.mark.skipif(not _tesseract_ready(), reason="Tesseract with Vietnamese is not installed")
def test_a_form_with_only_filled_fields_is_read_by_ocr(tmp_path: Path) -> None:
    path = tmp_path / "to-khai.pdf"
    path.write_bytes(form_pdf([]))
    with open_source(path, "application/pdf", **LIMITS) as source:
        page = extract_page(source, 1, lang="vie", dpi=300)
    assert page.method is PageMethod.ocr
    text = " ".join(page.text.split())
    for value, _ in FIELDS.values():
        assert value in text
    assert HIDDEN[1] not in text
