"""Every supported format through ocr/, against ground truth: text layer or OCR, page by page."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr import ExtractionError, extract_page, open_source, sniff
from schemas import ErrorCode
from tests.data.samples import (
    Sample,
    cer,
    get_spec,
    write_bad_files,
    write_digital_pdf,
    write_jpeg,
    write_mixed_pdf,
    write_png,
    write_scanned_pdf,
    write_tiff,
)

pytestmark = pytest.mark.slow

LIMITS = {"max_pages": 2000, "max_pixels": 250_000_000}
CLEAN_CER = 0.02


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    root = tmp_path_factory.mktemp("formats")
    kh, cv, tb = get_spec("kh-251-ubnd"), get_spec("cv-12-ubnd-vx"), get_spec("tb-45-pnv")
    return {
        "scanned-pdf": write_scanned_pdf(root / "scan.pdf", kh, max_pages=1),
        "digital-pdf": write_digital_pdf(root / "digital.pdf", cv, max_pages=2),
        "mixed-pdf": write_mixed_pdf(root / "mixed.pdf", kh, scanned=(2,), max_pages=2),
        "tiff": write_tiff(root / "scan.tif", tb, max_pages=2),
        "jpeg": write_jpeg(root / "scan.jpg", cv),
        "png": write_png(root / "scan.png", tb),
    }


def _extract_all(sample: Sample) -> list:
    media_type = sniff(sample.path.read_bytes()[:1024])
    assert media_type == sample.media_type
    with open_source(sample.path, media_type, **LIMITS) as source:
        assert source.page_count == len(sample.pages)
        return [
            extract_page(source, n, lang="vie", dpi=300) for n in range(1, source.page_count + 1)
        ]


@pytest.mark.parametrize("kind", ["scanned-pdf", "digital-pdf", "mixed-pdf", "tiff", "jpeg", "png"])
def test_each_format_reads_back_its_ground_truth(samples: dict[str, Sample], kind: str) -> None:
    sample = samples[kind]
    results = _extract_all(sample)
    for result, truth, method in zip(results, sample.pages, sample.methods, strict=True):
        assert result.method.value == method, f"page {result.number}: {result.note}"
        rate = cer(truth, result.text)
        if method == "text-layer":
            assert rate == 0.0, f"page {result.number} text layer differs from the truth"
            assert result.hocr is None
        else:
            assert rate <= CLEAN_CER, f"page {result.number}: CER {rate:.3%}"
            assert result.hocr and "ocrx_word" in result.hocr
            assert 0.5 < (result.confidence or 0) <= 1
        assert result.text == result.text.strip()
        assert "\f" not in result.text


def test_text_is_nfc_with_diacritics(samples: dict[str, Sample]) -> None:
    import unicodedata

    text = "\n".join(r.text for r in _extract_all(samples["jpeg"]))
    assert unicodedata.is_normalized("NFC", text)
    assert "Ủy ban nhân dân" in text or "UỶ BAN NHÂN DÂN" in text.upper()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("corrupt.pdf", ErrorCode.corrupt_pdf),
        ("truncated.pdf", ErrorCode.corrupt_pdf),
        ("encrypted.pdf", ErrorCode.encrypted_pdf),
        ("bomb.png", ErrorCode.image_too_large),
    ],
)
def test_bad_files_raise_their_code(tmp_path: Path, name: str, code: ErrorCode) -> None:
    path = write_bad_files(tmp_path)[name]
    media_type = sniff(path.read_bytes()[:1024])
    with pytest.raises(ExtractionError) as err, open_source(path, media_type, **LIMITS) as source:
        for n in range(1, source.page_count + 1):
            extract_page(source, n, lang="vie", dpi=300)
    assert err.value.code is code


def test_png_named_pdf_is_read_as_the_png_it_is(tmp_path: Path) -> None:
    path = write_bad_files(tmp_path)["png_named.pdf"]
    media_type = sniff(path.read_bytes()[:1024])
    assert media_type == "image/png"
    with open_source(path, media_type, **LIMITS) as source:
        result = extract_page(source, 1, lang="vie", dpi=300)
    assert "Kính gửi" in result.text


def test_page_limit(samples: dict[str, Sample]) -> None:
    with pytest.raises(ExtractionError) as err:
        open_source(samples["mixed-pdf"].path, "application/pdf", max_pages=1, max_pixels=10**8)
    assert err.value.code is ErrorCode.too_many_pages


def test_a_scanned_pdf_is_read_at_its_own_resolution(tmp_path: Path) -> None:
    """A noisy 200 dpi scan rendered at 300 dpi only interpolates its noise (≈7% CER then)."""
    sample = write_scanned_pdf(
        tmp_path / "noisy.pdf", get_spec("kh-251-ubnd"), dpi=200, defects=("noise",), max_pages=1
    )
    with open_source(sample.path, "application/pdf", **LIMITS) as source:
        assert round(source.render(1, 300).dpi) == 200
        result = extract_page(source, 1, lang="vie", dpi=300)
    assert cer(sample.pages[0], result.text) <= 0.03
