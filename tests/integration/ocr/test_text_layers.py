"""PDF text layers judged page by page, legacy encodings decoded, speed and memory on long
PDFs, and searchable PDFs in the shape of PDF/A-2b."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pdfplumber
import pikepdf
import pytesseract
import pytest

import ocr.pdfsource
from ocr import extract_page, open_source
from ocr.hocr import HocrPage
from ocr.pdfa_check import pdfa_problems
from ocr.searchable import build_searchable_pdf
from ocr.textlayer import judge
from tests.data.layer_pdf import MixedSample, write_ocr_layer_scan, write_text_layer_mix
from tests.data.legacy_pdf import write_legacy_pdf
from tests.data.samples import cer, get_spec, write_scanned_pdf
from tests.integration.searchable_helpers import fake_hocr, qpdf_check
from tests.pdfutil import long_pdf

LIMITS = {"max_pages": 5000, "max_pixels": 250_000_000}
PDF = "application/pdf"
#: what the judgement says for each kind of page in the mix
REASONS = {
    "digital-pdf": "holds the page's text",
    "tcvn3-pdf": "in TCVN3, decoded",
    "vni-pdf": "in VNI, decoded",
    "stamped-scan": "signature stamp",
    "ocr-layer-poor": "without its diacritics",
    "ocr-layer-good": "earlier OCR layer",
    "labelled-scan": "small part of a page that is mostly image",
    "unmapped-pdf": "without a Unicode map",
}


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> MixedSample:
    return write_text_layer_mix(tmp_path_factory.mktemp("mix") / "mix.pdf")


def _tesseract_ready() -> bool:
    try:
        return "vie" in pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, OSError):
        return False


def test_each_kind_of_text_layer_is_decided_right(mix: MixedSample) -> None:
    with open_source(mix.path, PDF, **LIMITS) as source:
        for number, (kind, method, truth) in enumerate(
            zip(mix.kinds, mix.methods, mix.pages, strict=True), start=1
        ):
            layer = source.text_layer(number)
            verdict = judge(layer)
            assert verdict.usable == (method == "text-layer"), (number, kind, verdict)
            assert REASONS[kind] in verdict.reason, (number, kind, verdict)
            if verdict.usable:
                assert layer is not None and cer(truth, layer.text) == 0.0, (number, kind)


@pytest.mark.parametrize("quality", ["good", "poor"])
def test_text_hidden_under_the_page_image_is_judged_like_invisible_text(
    tmp_path: Path, quality: str
) -> None:
    sample = write_ocr_layer_scan(
        tmp_path / "under.pdf", get_spec("kh-251-ubnd"), quality=quality, under=True
    )
    with open_source(sample.path, PDF, **LIMITS) as source:
        layer = source.text_layer(1)
    assert layer is not None and layer.invisible == 1.0 and layer.image_area > 0.99
    assert judge(layer).usable == (quality == "good")


@pytest.mark.parametrize(
    ("encoding", "embedded"), [("tcvn3", True), ("tcvn3", False), ("vni", True)]
)
def test_legacy_pages_read_back_exactly(tmp_path: Path, encoding: str, embedded: bool) -> None:
    # Two-page documents with capitals headers, italics, bold headings and long words;
    # the unembedded TCVN3 fonts read "ư" as "-" (WinAnsi), which must come back.
    for key in ("kh-251-ubnd", "vbpl-000286", "qd-86-ubnd-cn1"):
        sample = write_legacy_pdf(
            tmp_path / f"{key}.pdf", get_spec(key), encoding, embedded=embedded, max_pages=2
        )
        with open_source(sample.path, PDF, **LIMITS) as source:
            for number, truth in enumerate(sample.pages, start=1):
                result = extract_page(source, number, lang="vie", dpi=300)
                assert result.method.value == "text-layer", (key, number, result.note)
                assert f"in {encoding.upper()}" in result.note
                assert cer(truth, result.text) == 0.0, (key, number)


def _rename_fonts(path: Path) -> None:
    """Give every font a plain name, so only the characters tell the encoding."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for index, font in enumerate(f for f in pdf.objects if f.get("/Type") == "/Font"):
            font.BaseFont = pikepdf.Name(f"/ABCDE{index % 10}+TimesNewRoman")
        pdf.save(path)


def test_legacy_text_is_recognised_by_its_characters_alone(tmp_path: Path) -> None:
    spec = get_spec("cv-12-ubnd-vx")
    vni = write_legacy_pdf(tmp_path / "vni.pdf", spec, "vni", max_pages=1)
    tcvn3 = write_legacy_pdf(tmp_path / "tcvn3.pdf", spec, "tcvn3", max_pages=1)
    for sample in (vni, tcvn3):
        _rename_fonts(sample.path)
    with open_source(vni.path, PDF, **LIMITS) as source:
        layer = source.text_layer(1)
        assert layer is not None and layer.encoding == "vni" and judge(layer).usable
        assert cer(vni.pages[0], layer.text) == 0.0
    with open_source(tcvn3.path, PDF, **LIMITS) as source:
        layer = source.text_layer(1)
        assert layer is not None and layer.encoding == "tcvn3" and judge(layer).usable
        # without the ".VnTimeH" name, lines set in the capitals font come out in lower case
        assert cer(tcvn3.pages[0].lower(), layer.text.lower()) == 0.0


def test_characters_with_positions_are_decoded_too(mix: MixedSample) -> None:
    with open_source(mix.path, PDF, **LIMITS) as source:
        for number in (2, 5):  # TCVN3 and VNI pages
            chars = source.chars(number)
            text = "".join(c["text"] for c in chars)
            assert "ỦY BAN NHÂN DÂN" in text or "UBND" in text
            assert not set(text) & set("©ª«µ¸¹øûïäåüë")
            assert all(c["x0"] <= c["x1"] for c in chars)


@pytest.mark.slow
@pytest.mark.skipif(not _tesseract_ready(), reason="needs Tesseract with vie")
def test_a_mixed_pdf_is_extracted_page_by_page(mix: MixedSample) -> None:
    with open_source(mix.path, PDF, **LIMITS) as source:
        for number, (kind, method, truth) in enumerate(
            zip(mix.kinds, mix.methods, mix.pages, strict=True), start=1
        ):
            result = extract_page(source, number, lang="vie", dpi=300)
            assert result.method.value == method, (number, kind, result.note)
            rate = cer(truth, result.text)
            # What this test is about is the decision per page. The scanned pages here are
            # 200 dpi and OCRed at that resolution (better on noisy scans, measured), where
            # Tesseract joins the two header columns into one line more often; the metric
            # counts a join as errors though the words are right, hence 5% and not 3%.
            assert rate == 0.0 if method == "text-layer" else rate <= 0.05, (number, kind, rate)


def _copies(source: Path, out: Path, pages: int) -> Path:
    """A long PDF of `source`'s pages over and over, each page with its own content and
    image objects (nothing shared between pages that a reader could cache once)."""
    with pikepdf.open(source) as src, pikepdf.new() as pdf:
        for index in range(pages):
            pdf.pages.append(src.pages[index % len(src.pages)])
        for page in pdf.pages:
            data = b"".join(c.read_bytes() for c in page.obj.Contents.wrap_in_array())
            page.obj.Contents = pdf.make_stream(data)
            resources = pikepdf.Dictionary({k: v for k, v in page.obj.Resources.items()})
            images = {}
            for name, image in page.obj.Resources.get("/XObject", {}).items():
                copy = pdf.make_stream(image.read_raw_bytes())
                for key, value in image.items():
                    if key != "/Length":
                        copy[key] = value
                images[name] = copy
            if images:
                resources.XObject = pikepdf.Dictionary(images)
            page.obj.Resources = resources
        pdf.save(out)
    return out


def test_text_layer_throughput(tmp_path: Path) -> None:
    digital = long_pdf(tmp_path / "digital-20.pdf", 20, scanned=False)
    long = _copies(digital, tmp_path / "digital-300.pdf", 300)
    with open_source(long, PDF, **LIMITS) as source:
        start = time.perf_counter()
        used = sum(judge(source.text_layer(n)).usable for n in range(1, 301))
        pdfium_rate = 300 / (time.perf_counter() - start)
    assert used == 300
    with pdfplumber.open(digital) as pdf:
        start = time.perf_counter()
        for page in pdf.pages[:10]:
            page.extract_text()
            page.close()
        plumber_rate = 10 / (time.perf_counter() - start)
    print(
        f"\ntext-layer pages/s (one core, text + judgement): pypdfium2 {pdfium_rate:.0f}, "
        f"pdfplumber extract_text alone {plumber_rate:.1f}"
    )


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_memory_stays_bounded_on_long_pdfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digital = _copies(
        long_pdf(tmp_path / "d20.pdf", 20, scanned=False), tmp_path / "d2000.pdf", 2000
    )
    with open_source(digital, PDF, **LIMITS) as source:
        for number in range(1, 2001):
            source.text_layer(number)
            if number == 200:
                early = _rss_mb()
        late = _rss_mb()
    print(f"\n2000 born-digital pages: RSS {early:.0f} MB at page 200, {late:.0f} MB at 2000")
    assert late - early < 48
    # Scans: pdfium keeps each page's image once parsed; the source reopens the document
    # when its budget is spent. A small budget shows the bound on a small file.
    scan = write_scanned_pdf(tmp_path / "scan.pdf", get_spec("kh-251-ubnd"), dpi=150)
    scans = _copies(scan.path, tmp_path / "scan-300.pdf", 300)
    monkeypatch.setattr(ocr.pdfsource, "_PDFIUM_BUDGET", 4 * 2**20)
    with open_source(scans, PDF, **LIMITS) as source:
        for number in range(1, 301):
            source.text_layer(number)
            if number == 30:
                early = _rss_mb()
        late = _rss_mb()
    size = scans.stat().st_size / 2**20
    print(f"300 scanned pages ({size:.0f} MB): RSS {early:.0f} MB at page 30, {late:.0f} at 300")
    assert late - early < min(16, size / 2)


def test_searchable_pdf_is_pdfa_2b_and_keeps_the_text(mix: MixedSample, tmp_path: Path) -> None:
    out = tmp_path / "searchable.pdf"
    ocr_pages = {n for n, m in enumerate(mix.methods, start=1) if m == "ocr"}

    def hocr_for_page(number: int) -> HocrPage | None:
        return fake_hocr(mix.pages[number - 1], 1654, 2339) if number in ocr_pages else None

    notes = build_searchable_pdf(mix.path, PDF, hocr_for_page, len(mix.pages), out)
    # The one thing left: the unembedded fonts of the old WinAnsi TCVN3 page (the last).
    assert notes and all(n.startswith("font .VnTime") and "not embedded" in n for n in notes)
    assert set(pdfa_problems(out)) == set(notes)
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1 and intent.DestOutputProfile.N == 3
        assert "/Encrypt" not in pdf.trailer and len(pdf.trailer.ID) == 2
    with open_source(mix.path, PDF, **LIMITS) as before, open_source(out, PDF, **LIMITS) as after:
        for number in range(1, len(mix.pages) + 1):
            old, new = before.text_layer(number), after.text_layer(number)
            if number in ocr_pages:  # every word of the invisible OCR text is found
                assert new is not None
                assert not Counter(mix.pages[number - 1].split()) - Counter(new.text.split())
            else:
                assert old is not None and new is not None and new.text == old.text
