"""Searchable PDFs from real Tesseract hOCR: text, positions, structure, memory."""

from __future__ import annotations

import difflib
import io
import shutil
import subprocess
import tracemalloc
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import pdfminer.high_level
import pdfplumber
import pikepdf
import pypdfium2 as pdfium
import pytesseract
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from ocr.hocr import HocrPage, Line, Word, mean_confidence, page_text, parse_hocr
from ocr.searchable import (
    add_text_layer,
    build_searchable_pdf,
    image_page_pdf,
    text_layer_pdf,
)

LINES = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Số: 251/KH-UBND",
    "Bắc Từ Liêm, ngày 29 tháng 5 năm 2023",
    "KẾ HOẠCH Ứng dụng công nghệ thông tin",
]
FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
DPI = 300
PT_PER_PX = 72 / DPI
TOLERANCE_PT = 2.0


def _tesseract_ready() -> bool:
    try:
        return "vie" in pytesseract.get_languages(config="")
    except (pytesseract.TesseractNotFoundError, OSError):
        return False


pytestmark = pytest.mark.skipif(
    not (_tesseract_ready() and FONT.exists()),
    reason="needs Tesseract with vie and Liberation fonts",
)


@dataclass(frozen=True)
class Sample:
    png: Path
    image: Image.Image
    hocr: bytes
    txt: str


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """Five lines of Vietnamese at 13 pt, 300 dpi, OCRed once for the module."""
    image = Image.new("L", (2480, 700), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 54)
    for row, text in enumerate(LINES):
        draw.text((200, 120 + 100 * row), text, font=font, fill=0)
    png = tmp_path_factory.mktemp("sample") / "page.png"
    image.save(png, dpi=(DPI, DPI))
    # One Tesseract run for both outputs, on the file so it sees the PNG's 300 dpi.
    hocr, txt = pytesseract.run_and_get_multiple_output(
        str(png), extensions=["hocr", "txt"], lang="vie"
    )
    return Sample(png, image, hocr, txt if isinstance(txt, str) else txt.decode())


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def extracted_lines(path: Path, page_index: int = 0) -> list[str]:
    with pdfplumber.open(path) as pdf:
        text = pdf.pages[page_index].extract_text() or ""
    return [nfc(line) for line in text.splitlines() if line.strip()]


def ocr_lines(page: HocrPage) -> list[str]:
    return [line for line in page_text(page).splitlines() if line]


def qpdf_check(path: Path) -> None:
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf not installed")
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def open_cleanly(path: Path) -> None:
    """pikepdf and pdfium both open the file without complaint."""
    with pikepdf.open(path) as pdf:
        assert pdf.check_pdf_syntax() == []  # what `qpdf --check` reports, as a list
        assert pdf.get_warnings() == []
        pages = len(pdf.pages)
    doc = pdfium.PdfDocument(str(path))
    try:
        assert len(doc) == pages
        for index in range(pages):
            doc[index].get_textpage().get_text_range()
    finally:
        doc.close()


def assert_words_in_boxes(
    path: Path, page: HocrPage, offset: tuple[float, float] = (0, 0), ignore: str = ""
) -> None:
    """Each extracted word spans its hOCR word box horizontally and sits in its line box."""
    dx, dy = offset
    with pdfplumber.open(path) as pdf:
        words = [w for w in pdf.pages[0].extract_words() if w["text"] != ignore]
    expected = [(word, line) for line in page.lines for word in line.words]
    assert [nfc(w["text"]) for w in words] == [word.text for word, _ in expected]
    for got, (word, line) in zip(words, expected, strict=True):
        x0, _, x1, _ = (v * PT_PER_PX for v in word.bbox)
        _, top, _, bottom = (v * PT_PER_PX for v in line.bbox)
        assert got["x0"] - dx == pytest.approx(x0, abs=TOLERANCE_PT), word
        assert got["x1"] - dx == pytest.approx(x1, abs=TOLERANCE_PT), word
        assert top - TOLERANCE_PT <= got["top"] - dy < got["bottom"] - dy <= bottom + TOLERANCE_PT


def render(path: Path, page_index: int = 0, dpi: int = DPI) -> Image.Image:
    doc = pdfium.PdfDocument(str(path))
    try:
        return doc[page_index].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()


# --- hOCR -------------------------------------------------------------------------


def test_parse_hocr_gives_words_with_boxes_and_confidences(sample: Sample) -> None:
    page = parse_hocr(sample.hocr)
    assert (page.width, page.height) == sample.image.size
    assert len(page.lines) == len(LINES)
    words = [word for line in page.lines for word in line.words]
    assert len(words) == sum(len(text.split()) for text in LINES)
    for line in page.lines:
        assert line.baseline is not None
        assert line.text_angle == 0
        for word in line.words:
            x0, y0, x1, y1 = word.bbox
            assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
            lx0, ly0, lx1, ly1 = line.bbox
            assert lx0 <= x0 and x1 <= lx1 and ly0 <= y0 and y1 <= ly1
            assert word.confidence is not None and 0 <= word.confidence <= 1
            assert word.text == nfc(word.text)
    confidence = mean_confidence(page)
    assert confidence is not None and confidence > 0.8
    assert page.lines[0].words[0].text == "CỘNG"


def test_page_text_matches_tesseract_text_output(sample: Sample) -> None:
    page = parse_hocr(sample.hocr.decode("utf-8"))  # str input works too
    assert page_text(page) == nfc(sample.txt).strip()
    # Clean synthetic print: the OCR is (near) exact, diacritics included.
    similarity = difflib.SequenceMatcher(None, "\n".join(ocr_lines(page)), "\n".join(LINES))
    assert similarity.ratio() > 0.97


def test_parse_hocr_entities_line_classes_paragraphs_and_empty_words() -> None:
    hocr = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><meta name='ocr-system' content='x'/></head>
<body><div class='ocr_page' title='image "a.png"; bbox 0 0 1000 800; ppageno 0'>
 <div class='ocr_carea' title="bbox 10 10 990 300">
  <p class='ocr_par' title="bbox 10 10 990 100">
   <span class='ocr_header' title="bbox 10 10 500 50; baseline 0 -5">
    <span class='ocrx_word' title='bbox 10 10 100 50; x_wconf 90'>A&amp;B</span>
    <span class='ocrx_word' title='bbox 110 10 200 50; x_wconf 80'>&lt;x&gt;</span>
    <span class='ocrx_word' title='bbox 210 10 250 50; x_wconf 10'>  </span>
   </span>
   <span class='ocr_line' title="bbox 10 60 500 100">
    <span class='ocrx_word' title='bbox 10 60 100 100; x_wconf 70'
      ><strong>C&#7897;ng</strong></span>
    <span class='ocrx_word' title='bbox 110 60 200 100'>Vie&#x0302;&#x0323;t</span>
   </span>
  </p>
  <p class='ocr_par' title="bbox 10 200 990 300">
   <span class='ocr_caption' title="bbox 10 200 300 240; textangle 90">
    <span class='ocrx_word' title='bbox 10 200 300 240; x_wconf 100'>Hình&nbsp;1</span>
   </span>
   <span class='ocr_textfloat' title="bbox 10 250 300 290">
    <span class='ocrx_word' title='bbox 10 250 300 290; x_wconf 50'>float</span>
   </span>
  </p>
 </div>
</div></body></html>"""
    page = parse_hocr(hocr.encode())
    assert (page.width, page.height) == (1000, 800)
    assert [[w.text for w in line.words] for line in page.lines] == [
        ["A&B", "<x>"],  # the whitespace-only word is dropped
        ["Cộng", "Việt"],  # decomposed input comes out NFC
        ["Hình 1"],
        ["float"],
    ]
    assert page.lines[0].baseline == (0.0, -5.0)
    assert page.lines[1].baseline is None
    assert page.lines[2].text_angle == 90
    assert page.lines[1].words[1].confidence is None
    assert page.lines[0].words[0].confidence == pytest.approx(0.9)
    assert mean_confidence(page) == pytest.approx((0.9 + 0.8 + 0.7 + 1.0 + 0.5) / 5)
    assert page_text(page) == "A&B <x>\nCộng Việt\n\nHình 1\nfloat"


def test_parse_hocr_without_words_and_without_page() -> None:
    empty = parse_hocr("<div class='ocr_page' title='bbox 0 0 10 20'></div>")
    assert (empty.width, empty.height, empty.lines) == (10, 20, [])
    assert mean_confidence(empty) is None
    assert page_text(empty) == ""
    with pytest.raises(ValueError):
        parse_hocr("<html><body><p>no page</p></body></html>")


# --- text layer -------------------------------------------------------------------


def test_text_layer_pdf_alone(sample: Sample, tmp_path: Path) -> None:
    page = parse_hocr(sample.hocr)
    width, height = page.width * PT_PER_PX, page.height * PT_PER_PX
    with text_layer_pdf(page, width, height) as pdf:
        assert len(pdf.pages) == 1
        assert [float(v) for v in pdf.pages[0].mediabox] == pytest.approx([0, 0, width, height])
        pdf.save(tmp_path / "layer.pdf")
    qpdf_check(tmp_path / "layer.pdf")
    open_cleanly(tmp_path / "layer.pdf")
    assert extracted_lines(tmp_path / "layer.pdf") == ocr_lines(page)
    assert_words_in_boxes(tmp_path / "layer.pdf", page)
    # Invisible: the page renders blank.
    assert ImageStat.Stat(render(tmp_path / "layer.pdf", dpi=72)).extrema == [(255, 255)]


def test_text_layer_follows_rotated_and_sloped_lines(tmp_path: Path) -> None:
    words = [Word("Bắc", (100, 500, 140, 600), 0.9), Word("Từ", (100, 380, 140, 470), 0.9)]
    vertical = Line((100, 380, 140, 600), (0.0, 0.0), words, text_angle=90)
    # Baseline 0.05: 30 px rise over the line, too much to flatten. It starts
    # 40 px above the box bottom, so glyphs (60 px: baseline to box top) slant.
    sloped = Line(
        (300, 100, 900, 200),
        (0.05, -40.0),
        [Word("Liêm,", (300, 98, 500, 172), 0.9), Word("ngày", (600, 113, 900, 192), 0.9)],
    )
    page = HocrPage(1000, 800, [vertical, sloped])
    with text_layer_pdf(page, 1000 * PT_PER_PX, 800 * PT_PER_PX) as pdf:
        pdf.save(tmp_path / "angles.pdf")
    qpdf_check(tmp_path / "angles.pdf")
    with pdfplumber.open(tmp_path / "angles.pdf") as pdf:
        chars = [c for c in pdf.pages[0].chars if c["text"] != " "]  # in drawing order
    assert "".join(c["text"] for c in chars) == "BắcTừLiêm,ngày"  # reading order
    for word in [*words, *sloped.words]:
        got, chars = chars[: len(word.text)], chars[len(word.text) :]
        x0, y0, x1, y1 = (v * PT_PER_PX for v in word.bbox)
        for char in got:  # glyph boxes stay inside the word's hOCR box
            assert x0 - TOLERANCE_PT <= char["x0"] < char["x1"] <= x1 + TOLERANCE_PT, word
            assert y0 - TOLERANCE_PT <= char["top"] < char["bottom"] <= y1 + TOLERANCE_PT, word


# --- whole documents --------------------------------------------------------------


def test_searchable_pdf_from_png(sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / "png.pdf"
    calls: list[int] = []

    def hocr_for_page(number: int) -> HocrPage:
        calls.append(number)
        return parse_hocr(sample.hocr)

    build_searchable_pdf(sample.png, "image/png", hocr_for_page, 1, out)
    assert calls == [1]
    qpdf_check(out)
    open_cleanly(out)
    page = parse_hocr(sample.hocr)
    assert extracted_lines(out) == ocr_lines(page)
    assert_words_in_boxes(out, page)
    with pikepdf.open(out) as pdf:
        pg = pdf.pages[0]
        # The PNG stores dots per metre, hence not exactly 300 dpi.
        assert [float(v) for v in pg.mediabox] == pytest.approx(
            [0, 0, 2480 * PT_PER_PX, 700 * PT_PER_PX], abs=0.01
        )
        images = [pikepdf.PdfImage(x) for x in pg.get_images().values()]
        assert len(images) == 1  # the text layer adds no image
        # Lossless: the embedded image decodes to the very pixels of the PNG.
        embedded = images[0].as_pil_image().convert("L")
        assert ImageChops.difference(embedded, sample.image).getbbox() is None


def image_only_pdf(image: Image.Image, path: Path, pages: int = 1) -> None:
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(DPI, DPI))
    path.write_bytes(img2pdf.convert([buf.getvalue()] * pages))


def test_searchable_pdf_from_image_only_pdf(sample: Sample, tmp_path: Path) -> None:
    source, out = tmp_path / "scan.pdf", tmp_path / "out.pdf"
    image_only_pdf(sample.image, source)
    build_searchable_pdf(source, "application/pdf", lambda n: parse_hocr(sample.hocr), 1, out)
    qpdf_check(out)
    open_cleanly(out)
    page = parse_hocr(sample.hocr)
    assert extracted_lines(out) == ocr_lines(page)
    assert_words_in_boxes(out, page)
    # pdfminer's own layout analysis keeps the lines apart too (it would not,
    # were the layer a Form XObject).
    miner = pdfminer.high_level.extract_text(out)
    assert [nfc(line) for line in miner.splitlines() if line.strip()] == ocr_lines(page)
    with pikepdf.open(source) as before, pikepdf.open(out) as after:
        ((name, old),) = before.pages[0].get_images().items()
        new = after.pages[0].get_images()[name]
        assert new.read_raw_bytes() == old.read_raw_bytes()  # image data untouched
    # The text layer is invisible: pdfium renders exactly the same pixels.
    assert ImageChops.difference(render(source), render(out)).getbbox() is None


# Where pdfplumber puts the CropBox's displayed top-left: it measures from the
# displayed MediaBox corner, and the CropBox sits 50 pt right of and 30 pt above
# the MediaBox's lower-left corner, with 50 and 30 pt spare on the other sides.
CROP_OFFSETS = {0: (50, 30), 90: (30, 50), 180: (50, 30), 270: (30, 50)}


@pytest.mark.parametrize("rotation", [90, 180, 270, 0])
def test_searchable_pdf_on_rotated_page_with_cropbox(
    sample: Sample, tmp_path: Path, rotation: int
) -> None:
    # A page scanned turned: the image is stored rotated counter-clockwise,
    # /Rotate shows it upright, and it sits in a MediaBox larger than the
    # CropBox, off the origin. OCR saw the page as displayed (pdfium applies
    # /Rotate and the CropBox), so the hOCR is in the upright frame.
    source, out = tmp_path / "rotated.pdf", tmp_path / "out.pdf"
    turned = sample.image.rotate(rotation, expand=True)
    buf = io.BytesIO()
    turned.save(buf, format="PNG", dpi=(DPI, DPI))
    with pikepdf.open(io.BytesIO(img2pdf.convert(buf.getvalue()))) as pdf:
        pg = pdf.pages[0]
        w, h = float(pg.mediabox[2]), float(pg.mediabox[3])
        (name,) = pg.get_images()
        pg.obj.Contents = pdf.make_stream(f"q {w} 0 0 {h} 50 30 cm {name} Do Q".encode())
        pg.mediabox = pikepdf.Array([0, 0, w + 100, h + 60])
        pg.cropbox = pikepdf.Array([50, 30, 50 + w, 30 + h])
        pg.Rotate = rotation
        pdf.save(source)
    displayed = render(source)
    assert abs(displayed.width - sample.image.width) <= 1
    assert abs(displayed.height - sample.image.height) <= 1
    same_size = displayed.crop((0, 0, *sample.image.size))
    assert ImageStat.Stat(ImageChops.difference(same_size, sample.image)).mean[0] < 2

    build_searchable_pdf(source, "application/pdf", lambda n: parse_hocr(sample.hocr), 1, out)
    qpdf_check(out)
    open_cleanly(out)
    page = parse_hocr(sample.hocr)
    assert extracted_lines(out) == ocr_lines(page)
    assert_words_in_boxes(out, page, offset=CROP_OFFSETS[rotation])
    assert ImageChops.difference(render(source), render(out)).getbbox() is None
    doc = pdfium.PdfDocument(str(out))
    try:
        text = doc[0].get_textpage().get_text_range()
    finally:
        doc.close()
    # pdfium finds the same words in the same order; its line breaks are not
    # compared: on /Rotate 270 pages its vertical-writing heuristics (it judges
    # direction in unrotated user space) break "Số: 251/KH-UBND" after "Số:".
    assert nfc(text).split() == page_text(page).split()


def test_page_without_hocr_is_left_untouched(sample: Sample, tmp_path: Path) -> None:
    source, out = tmp_path / "two.pdf", tmp_path / "out.pdf"
    image_only_pdf(sample.image, source, pages=2)
    build_searchable_pdf(
        source,
        "application/pdf",
        lambda n: parse_hocr(sample.hocr) if n == 2 else None,
        2,
        out,
    )
    qpdf_check(out)
    with pikepdf.open(source) as before, pikepdf.open(out) as after:
        old, new = before.pages[0], after.pages[0]
        assert new.Contents.read_bytes() == old.Contents.read_bytes()
        assert set(new.Resources.keys()) == set(old.Resources.keys())
        assert set(new.Resources.XObject.keys()) == set(old.Resources.XObject.keys())
        assert len(after.pages[1].Contents) == 3  # q, the original, the layer
    assert extracted_lines(out, 0) == []
    assert extracted_lines(out, 1) == ocr_lines(parse_hocr(sample.hocr))


def test_add_text_layer_keeps_inherited_resources_and_closes_open_states(
    sample: Sample, tmp_path: Path
) -> None:
    pdf = pikepdf.new()
    pg = pdf.add_blank_page(page_size=(2480 * PT_PER_PX, 700 * PT_PER_PX))
    del pg.obj.Resources  # the font below comes from the page tree
    pdf.Root.Pages.Resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary(
            F1=pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type1,
                BaseFont=pikepdf.Name.Helvetica,
                Encoding=pikepdf.Name.WinAnsiEncoding,
            )
        )
    )
    # Unbalanced q and a stray cm, as some scanners write.
    pg.obj.Contents = pdf.make_stream(b"q 0.5 0 0 0.5 0 0 cm BT /F1 10 Tf 20 20 Td (Stamp) Tj ET")
    add_text_layer(pdf, 0, parse_hocr(sample.hocr))
    pdf.save(tmp_path / "out.pdf")
    qpdf_check(tmp_path / "out.pdf")
    lines = extracted_lines(tmp_path / "out.pdf")
    assert lines[:-1] == ocr_lines(parse_hocr(sample.hocr))
    assert lines[-1] == "Stamp"
    assert_words_in_boxes(tmp_path / "out.pdf", parse_hocr(sample.hocr), ignore="Stamp")


def test_image_page_pdf_jpeg_passthrough_alpha_fallback_and_dpi(
    sample: Sample, tmp_path: Path
) -> None:
    jpeg = tmp_path / "page.jpg"
    sample.image.save(jpeg, format="JPEG", quality=80, dpi=(200, 200))
    with image_page_pdf(jpeg) as pdf:
        pg = pdf.pages[0]
        (stream,) = pg.get_images().values()
        assert stream.Filter == pikepdf.Name.DCTDecode
        assert stream.read_raw_bytes() == jpeg.read_bytes()  # JPEG copied as is
        assert float(pg.mediabox[2]) == pytest.approx(2480 * 72 / 200)

    rgba = tmp_path / "alpha.png"  # no dpi -> 300; img2pdf keeps alpha as an /SMask
    sample.image.convert("RGBA").save(rgba)
    with image_page_pdf(rgba) as pdf:
        pg = pdf.pages[0]
        assert float(pg.mediabox[2]) == pytest.approx(2480 * PT_PER_PX)
        (stream,) = pg.get_images().values()
        embedded = pikepdf.PdfImage(stream).as_pil_image()
        assert ImageChops.difference(embedded.convert("L"), sample.image).getbbox() is None

    floats = tmp_path / "float.tif"  # 32-bit float pixels: img2pdf refuses, Pillow decodes
    sample.image.convert("F").save(floats, dpi=(DPI, DPI))
    with image_page_pdf(floats) as pdf:
        (stream,) = pdf.pages[0].get_images().values()
        embedded = pikepdf.PdfImage(stream).as_pil_image()
        assert embedded.mode == "L" and embedded.size == sample.image.size

    absurd = tmp_path / "absurd.png"
    sample.image.save(absurd, dpi=(1, 1))
    with image_page_pdf(absurd) as pdf:
        assert float(pdf.pages[0].mediabox[2]) == pytest.approx(2480 * PT_PER_PX)


def bilevel_tiff(image: Image.Image, path: Path, frames: int) -> None:
    bw = image.convert("1")
    bw.save(path, save_all=True, append_images=[bw] * (frames - 1), compression="group4",
            dpi=(DPI, DPI))  # fmt: skip


def test_multi_frame_tiff_and_memory_stays_flat(sample: Sample, tmp_path: Path) -> None:
    def build(frames: int) -> tuple[int, Path]:
        tiff, out = tmp_path / f"{frames}.tif", tmp_path / f"{frames}.pdf"
        bilevel_tiff(sample.image, tiff, frames)
        tracemalloc.start()
        try:
            # A fresh parse per call: the builder must not keep pages around.
            build_searchable_pdf(tiff, "image/tiff", lambda n: parse_hocr(sample.hocr), frames, out)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak, out

    build(5)  # warm-up: imports, the cached font and parser state are one-off costs
    peak_5, _ = build(5)
    peak_50, out = build(50)  # several parts: exercises the final merge
    assert peak_50 < peak_5 * 1.5 + 256 * 1024, (peak_5, peak_50)
    qpdf_check(out)
    page = parse_hocr(sample.hocr)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 50
        fonts = {
            font.objgen
            for pg in pdf.pages
            for font in pg.Resources.Font.values()
            if font.BaseFont == pikepdf.Name("/GlyphLessFont")
        }
        assert 1 <= len(fonts) <= 10  # shared within each part, not one per page
        (image,) = pdf.pages[49].get_images().values()
        assert pikepdf.PdfImage(image).filters == ["/CCITTFaxDecode"]  # G4 passed through
    assert extracted_lines(out, 0) == ocr_lines(page)
    assert extracted_lines(out, 49) == ocr_lines(page)


def test_unsupported_media_type_and_page_count_mismatch(sample: Sample, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_searchable_pdf(sample.png, "image/gif", lambda n: None, 1, tmp_path / "x.pdf")
    with pytest.raises(ValueError):
        build_searchable_pdf(sample.png, "image/png", lambda n: None, 2, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
