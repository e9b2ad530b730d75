"""Handwritten numbers and days on generated scans, read by real Tesseract and the second
recognizer (ocr/handwritten.py), weighed by classify.evidence; and the same through
`sohoa digitize`, the pipeline the worker runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from classify import PageInput, WordBox, classify
from classify.locate import locate
from ocr import handwritten, parse_hocr
from ocr.extract import ocr_page
from ocr.hocr_map import upright_hocr
from tests.data.defects import rotate
from tests.data.handwriting import font_available, handwritten_page, write_pdf
from tests.data.specs import load_specs
from tests.integration.cli.test_digitize_inputs import sohoa
from worker.classification import read_gaps

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract"),
    pytest.mark.skipif(not font_available(), reason="needs fonts-dkg-handwriting"),
    pytest.mark.skipif(not handwritten.available(), reason="needs rapidocr-onnxruntime"),
]

#: how many generated documents are written on and read
COUNT = 8


def _dated_specs():
    return [s for s in load_specs() if s.issued_on and s.place and "/" in s.number][:COUNT]


def _read(image: Image.Image, dpi: int):
    """Page 1 as classify gets it (boxes of the page turned upright), the stored frame's
    size, and how the page was turned and levelled."""
    result = ocr_page(image, dpi, lang="vie")
    assert result.hocr is not None
    stored = parse_hocr(result.hocr)
    hocr = parse_hocr(upright_hocr(result.hocr, result.rotation, result.skew))
    words = [
        WordBox(w.text, *w.bbox, line=i, confidence=w.confidence)
        for i, line in enumerate(hocr.lines)
        for w in line.words
    ]
    page = PageInput(1, result.text, words, hocr.width, hocr.height)
    return page, (stored.width, stored.height), result.rotation, result.skew or 0.0


def test_the_second_reading_adds_right_values_and_no_wrong_ones() -> None:
    tesseract = {"number": 0, "issued_on": 0}
    second = {"number": 0, "issued_on": 0}
    for seed, spec in enumerate(_dated_specs()):
        scan = handwritten_page(spec, seed=seed)
        page, frame, turn, skew = _read(scan.image, scan.dpi)
        assert locate(page).fields(), spec.key  # the printed words show where the gaps are
        plain = classify([page]).document
        readings = read_gaps(scan.image, page, frame, turn, skew)
        read = classify([page], readings=readings).document
        for doc, counts in ((plain, tesseract), (read, second)):
            assert doc.number in (None, scan.number), (spec.key, doc.number)
            assert doc.issued_on in (None, scan.issued_on), (spec.key, doc.issued_on)
            counts["number"] += doc.number == scan.number
            counts["issued_on"] += doc.issued_on == scan.issued_on
    assert second["number"] > tesseract["number"]
    assert second["issued_on"] > tesseract["issued_on"]


def test_a_blank_page_and_an_unprinted_header_give_no_readings() -> None:
    blank = Image.new("RGB", (2480, 3508), "white")
    page, frame, turn, skew = _read(blank, 300)
    assert read_gaps(blank, page, frame, turn, skew) == {}
    tiny = Image.new("RGB", (1, 1), "white")
    assert handwritten.read_field(tiny).text == ""


def test_a_page_fed_sideways_is_cropped_upright() -> None:
    spec = next(s for s in _dated_specs() if s.key == "tb-45-pnv")
    scan = handwritten_page(spec, seed=2)
    readings = []
    for image in (scan.image, rotate(scan.image, 90)):
        page, frame, turn, skew = _read(image, scan.dpi)
        read = read_gaps(image, page, frame, turn, skew)
        readings.append({name: [r.text for r in found] for name, found in read.items()})
    assert readings[0] and readings[1] == readings[0]  # the same crops read the same


def test_digitize_reads_a_handwritten_number_and_day(tmp_path: Path) -> None:
    spec = next(s for s in _dated_specs() if s.key == "tb-45-pnv")
    scan = handwritten_page(spec, seed=2)
    pdf = write_pdf(scan, tmp_path / "handwritten.pdf")
    done = sohoa(["digitize", str(pdf), "--out", "out"], tmp_path)
    assert done.returncode in (0, 3), done.stderr[-2000:]
    record = json.loads((tmp_path / "out" / "handwritten.pdf.json").read_text(encoding="utf-8"))
    document = record["document"]
    assert document["number"] == scan.number
    assert document["issued_on"] == scan.issued_on.isoformat()
