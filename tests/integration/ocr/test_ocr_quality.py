"""OCR of scanned pages against its targets, per condition, on a fixed seeded sample set.

The set is tests/data/ocr_set.py: 4 pages per condition (6 turned pages), drawn from every
generated document, read through `extract_page` two pages at a time. The same table, and
plain Tesseract on the same pages for comparison, comes from

    python -m tests.data.ocr_set [--plain]

Measured (Tesseract 5.3, `vie`; plain Tesseract → this pipeline): clean 0.28 % → 0.20 %,
grey 200 dpi 0.18 % → 0.17 %, skew ±3° 27 % → 0.20 %, noise 0.56 % → 0.50 %, blur
0.23 % → 0.14 %, JPEG 40 0.06 % → 0.04 %, photocopy 0.18 % → 0.14 %, seal 5.2 % → 0.22 %,
turned 90/180/270° 121 % → 0.16 %.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import Image

from ocr import preprocess
from ocr.extract import LOW_CONFIDENCE, MIN_OSD_CONFIDENCE, ocr_page
from ocr.hocr import parse_hocr
from ocr.tesseract import detect_orientation
from tests.data.defects import rotate
from tests.data.metrics import cer
from tests.data.ocr_set import CONDITIONS, Outcome, by_condition, jobs, report, run_all
from tests.data.render import render_pages
from tests.data.specs import get_spec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    done = run_all(jobs(pages_per_condition=4), workers=2)
    print("\n" + report(done))  # shown with -s: the figures behind the assertions
    return done


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_cer_meets_the_target_of_each_condition(outcomes: list[Outcome], condition: str) -> None:
    rates = {name: (rate, mine) for name, mine, rate in by_condition(outcomes)}
    rate, mine = rates[condition]
    pages = ", ".join(f"{o.job.spec} p{o.job.page} {o.cer:.2%}" for o in mine)
    assert rate <= CONDITIONS[condition].target, f"{condition}: CER {rate:.2%} ({pages})"


def test_turned_pages_are_turned_back(outcomes: list[Outcome]) -> None:
    wrong = [
        (o.job.spec, o.job.defects, o.rotation, o.want_rotation)
        for o in outcomes
        if o.rotation != o.want_rotation
    ]
    assert wrong == []
    assert {o.want_rotation for o in outcomes} == {0, 90, 180, 270}


def test_skew_is_measured_within_half_a_degree(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        assert o.skew is not None
        assert abs(o.skew - o.want_skew) <= 0.5, (o.job, o.skew)


def test_readable_pages_are_not_flagged(outcomes: list[Outcome]) -> None:
    flagged = [(o.job, o.confidence) for o in outcomes if o.low_confidence]
    assert flagged == []
    assert all((o.confidence or 0) >= LOW_CONFIDENCE for o in outcomes)


def test_word_boxes_are_in_the_frame_of_the_scan(outcomes: list[Outcome]) -> None:
    for o in outcomes:
        assert o.hocr is not None
        page = parse_hocr(o.hocr)
        assert (page.width, page.height) == o.size, o.job
        for line in page.lines:
            # Read turned by `rotation`, the lines run at that angle on the scan itself.
            assert line.text_angle == o.rotation, o.job
            for word in line.words:
                x0, y0, x1, y1 = word.bbox
                assert 0 <= x0 <= x1 <= o.size[0] and 0 <= y0 <= y1 <= o.size[1], o.job


# --- when the cheap orientation measure is wrong or unsure, Tesseract's OSD decides ------


@pytest.fixture(scope="module")
def page_2() -> tuple[Image.Image, str]:
    page = render_pages(get_spec("vbpl-000286"), dpi=300)[0]
    return page.image, page.text


@pytest.mark.parametrize("fed", [90, 180, 270])
def test_osd_tells_the_turn_on_a_reduced_page(page_2: tuple[Image.Image, str], fed: int) -> None:
    osd = detect_orientation(rotate(page_2[0], fed).convert("L"), dpi=300)
    assert osd is not None and osd.rotate == (360 - fed) % 360
    assert osd.confidence >= MIN_OSD_CONFIDENCE


def _misled(monkeypatch: pytest.MonkeyPatch, **wrong: object) -> None:
    real = preprocess.find_orientation
    monkeypatch.setattr(
        preprocess, "find_orientation", lambda ys, xs: replace(real(ys, xs), **wrong)
    )


def test_a_page_read_badly_is_checked_and_read_again(
    page_2: tuple[Image.Image, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _misled(monkeypatch, rotation=0, certain=True)  # sure, and wrong: it is upside down
    result = ocr_page(rotate(page_2[0], 180), 300, lang="vie")
    assert result.rotation == 180
    assert cer(page_2[1], result.text) < 0.01
    assert {"osd", "ocr"} <= set(result.timings)


@pytest.mark.parametrize(("fed", "guess"), [(90, 0), (0, 90)])
def test_an_unsure_page_is_turned_by_osd_before_reading(
    page_2: tuple[Image.Image, str], monkeypatch: pytest.MonkeyPatch, fed: int, guess: int
) -> None:
    _misled(monkeypatch, rotation=guess, certain=False)
    result = ocr_page(rotate(page_2[0], fed), 300, lang="vie")
    assert result.rotation == (360 - fed) % 360  # OSD's word, "upright" (0) included
    assert cer(page_2[1], result.text) < 0.01
    assert not result.low_confidence
