"""The second look (ocr.recover) with real Tesseract: a signer's block that a seal scanned in
grey hid from the layout analysis comes back; a clean page gets nothing added; a line already
read is not read twice.

How much it brings on the whole degraded set (signer 83.9 % → 91 %):
`python -m tests.data.classify_eval degraded --engine pipeline`.
"""

from __future__ import annotations

import shutil

import pytest

from ocr.extract import ocr_page
from ocr.hocr import parse_hocr
from tests.data.classify_eval import DEGRADED, all_specs
from tests.data.render import render_pages
from tests.data.specs import get_spec
from tests.data.writers import scan_page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract"),
]


def _generated(key: str):
    """A generated spec of the evaluation set and the defects it is scanned with there."""
    for i, spec in enumerate(all_specs(120)):
        if spec.key == key:
            return spec, DEGRADED[i % len(DEGRADED)]
    raise KeyError(key)


def _read_last_page(spec, defects):
    page = render_pages(spec, dpi=300)[-1]
    image, dpi, _ = scan_page(page, defects, seed=0)
    return ocr_page(image, dpi, number=page.number, lang="vie")


def test_a_signer_block_under_a_grey_seal_is_read_again() -> None:
    spec, defects = _generated("gen-101-cong_van")
    assert "stamp" in defects and any(d.startswith("grey") for d in defects)
    result = _read_last_page(spec, defects)
    assert result.recovered > 0
    assert spec.signer_name in result.text
    # the words came back into the hOCR too, where the signer's block is: right half, low
    words = [w for line in parse_hocr(result.hocr).lines for w in line.words]
    surname = next(w for w in words if w.text == spec.signer_name.split()[0])
    assert surname.bbox[0] > parse_hocr(result.hocr).width / 2


def test_a_clean_colour_page_gets_nothing_added() -> None:
    # the seal and the blue signature are colour: the dropout takes them out before the
    # first reading; what is left that no word covers is the page number, a lone digit
    # Tesseract's layout analysis drops and the second look leaves too (too small)
    spec = get_spec("kh-251-ubnd")
    result = _read_last_page(spec, ("stamp",))
    assert result.recovered == 0
    assert "word_r" not in (result.hocr or "")
    assert result.text.count(spec.signer_name) == 1


def test_a_framed_mark_is_not_read_twice() -> None:
    # the frame around the urgency mark is ink no word covers; the mark inside it was read
    spec, defects = _generated("gen-009-cong_van")
    assert spec.urgency == "THƯỢNG KHẨN"
    page = render_pages(spec, dpi=300)[0]
    image, dpi, _ = scan_page(page, defects, seed=0)
    text = ocr_page(image, dpi, number=1, lang="vie").text
    assert text.count("KHẨN") == 1
