"""The sample generator (tests/data) and its error-rate metric."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pdfplumber
import pikepdf
import pypdfium2
import pytest
from PIL import Image

from tests.data.__main__ import main
from tests.data.layout import PAGE_H, PAGE_W, layout_document
from tests.data.samples import (
    add_noise,
    blur,
    cer,
    downsample,
    get_spec,
    jpeg_artifacts,
    load_specs,
    photocopy,
    read_truth,
    red_stamp,
    render_pages,
    rotate,
    skew,
    wer,
    write_bad_files,
    write_digital_pdf,
    write_jpeg,
    write_mixed_pdf,
    write_png,
    write_sample_batch,
    write_scanned_pdf,
    write_tiff,
)
from tests.data.specs import vietnamese_date

MAGIC = {
    "application/pdf": b"%PDF-",
    "image/tiff": b"II*\x00",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


def _is_nfc(text: str) -> bool:
    return unicodedata.normalize("NFC", text) == text


def _pdf_pages(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


# --- specs -------------------------------------------------------------------------------


def test_specs_mix_corpus_and_handwritten_documents() -> None:
    specs = load_specs()
    keys = [s.key for s in specs]
    assert len(keys) == len(set(keys))
    assert sum(s.source.startswith("vbpl.vn:") for s in specs) >= 12
    assert {"ke_hoach", "cong_van", "thong_bao", "quyet_dinh"} <= {s.doc_type for s in specs}
    for spec in specs:
        for text in [spec.issuer, spec.subject, *spec.paragraphs, *spec.recipients]:
            assert _is_nfc(text)


def test_handwritten_plan_header() -> None:
    spec = get_spec("kh-251-ubnd")
    assert spec.number_line == "Số: 251/KH-UBND"
    assert spec.date_line == "Bắc Từ Liêm, ngày 29 tháng 5 năm 2023"
    cong_van = get_spec("cv-12-ubnd-vx")
    assert cong_van.type_title is None and cong_van.subject.startswith("V/v ")


def test_vietnamese_date_leading_zeros() -> None:
    from datetime import date

    assert vietnamese_date(date(2020, 1, 5)) == "ngày 05 tháng 01 năm 2020"
    assert vietnamese_date(date(2023, 5, 29)) == "ngày 29 tháng 5 năm 2023"
    assert vietnamese_date(date(2024, 2, 10)) == "ngày 10 tháng 02 năm 2024"


def test_every_spec_lays_out_inside_the_page() -> None:
    for spec in load_specs():
        pages = layout_document(spec, max_pages=3)
        assert 1 <= len(pages) <= 3
        for page in pages:
            for block in page.blocks:
                for line in block:
                    x0, top, x1, bottom = line.box
                    assert x0 >= 0 and x1 <= PAGE_W - 20, (spec.key, line.text)
                    assert top >= 0 and bottom <= PAGE_H, (spec.key, line.text)


# --- rendering ---------------------------------------------------------------------------


def test_render_cong_van_page_and_truth() -> None:
    page = render_pages(get_spec("cv-12-ubnd-vx"), dpi=300)[0]
    assert page.image.mode == "RGB" and page.image.size == (2480, 3508)
    assert page.blocks[0][-3:] == [
        "Số: 12/UBND-VX",
        "V/v đẩy nhanh tiến độ số hóa hồ sơ, tài",
        "liệu lưu trữ năm 2024",
    ]
    assert page.blocks[1] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Bắc Từ Liêm, ngày 08 tháng 01 năm 2024",
    ]
    assert page.blocks[2][0] == "Kính gửi: - Các phòng, ban, đơn vị thuộc quận;"
    assert page.blocks[-2][0] == "Nơi nhận:" and page.blocks[-1][-1] == "Nguyễn Thị Thu Hương"
    assert page.text == "\n\n".join("\n".join(b) for b in page.blocks)
    assert _is_nfc(page.text)
    assert len(page.boxes) == len(page.blocks)
    assert page.stamp_centre is not None
    grey = page.image.convert("L")
    assert grey.getextrema()[0] == 0  # black ink
    # Body text is 13 pt: at 300 dpi one line is 13 * 1.15 / 72 * 300 = 62 px below the last.
    x0, top, x1, bottom = page.boxes[3]
    assert len(page.blocks[3]) == 4 and 3 * 62 + 54 <= bottom - top <= 3 * 62 + 66
    ink = np.asarray(grey.crop((x0, top, x1, bottom))) < 128
    rows = ink.any(axis=1)
    assert rows[:10].any() and rows[-20:].any()  # the ink fills the box: no scale mistake


def test_long_document_continues_on_numbered_pages() -> None:
    pages = render_pages(get_spec("kh-251-ubnd"), dpi=72)
    assert len(pages) == 2
    assert pages[1].blocks[0] == ["2"]
    assert "Nguyễn Văn Thành" in pages[-1].text and "Nguyễn Văn Thành" not in pages[0].text
    assert pages[0].signature_box is None and pages[1].signature_box is not None


def test_max_pages_drops_paragraphs_but_keeps_the_signature() -> None:
    pages = render_pages(get_spec("kh-251-ubnd"), dpi=72, max_pages=1)
    assert len(pages) == 1
    assert pages[0].text.endswith("Nguyễn Văn Thành")


def test_render_is_deterministic() -> None:
    spec = get_spec("bc-128-ubnd-xd")
    a, b = render_pages(spec, dpi=100)[0], render_pages(spec, dpi=100)[0]
    assert a.image.tobytes() == b.image.tobytes() and a.blocks == b.blocks


# --- metrics -----------------------------------------------------------------------------


def test_cer_identical_is_zero() -> None:
    text = "ỦY BAN NHÂN DÂN\nSố: 251/KH-UBND\n\nKẾ HOẠCH"
    assert cer(text, text) == 0.0 and wer(text, text) == 0.0


def test_cer_counts_known_edits() -> None:
    assert cer("abcd\nefgh", "abxd\nefgh") == pytest.approx(1 / 8)
    assert cer("Hạnh phúc", "Hanh phúc") == pytest.approx(1 / 9)
    assert wer("Độc lập - Tự do", "Độc lap - Tự do") == pytest.approx(1 / 5)


def test_cer_ignores_block_order() -> None:
    truth = "ỦY BAN NHÂN DÂN\nSố: 12/UBND-VX\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập"
    ocr = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập\nỦY BAN NHÂN DÂN\nSố: 12/UBND-VX"
    assert cer(truth, ocr) == 0.0


def test_cer_forgives_side_by_side_lines_read_as_one() -> None:
    truth = "ỦY BAN NHÂN DÂN\nSố: 12/UBND-VX\n\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    ocr = "ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSố: 12/UBND-VX"
    assert cer(truth, ocr) == 0.0


def test_cer_counts_missing_and_invented_lines() -> None:
    assert cer("abc\ndefgh", "defgh") == pytest.approx(3 / 8)
    assert cer("abc", "abc\nxyz") == pytest.approx(3 / 3)
    assert cer("abc", "") == 1.0
    assert cer("", "") == 0.0


def test_cer_normalizes_unicode_and_whitespace() -> None:
    truth = "Bắc Từ Liêm, ngày 29 tháng 5 năm 2023"
    ocr = "  " + unicodedata.normalize("NFD", truth).replace(" ", "   ") + "\n\n"
    assert cer(truth, ocr) == 0.0


# --- defects -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page():
    return render_pages(get_spec("qd-86-ubnd-cn1"), dpi=100)[0]


def test_defects_are_pure_and_seeded(page) -> None:
    before = page.image.tobytes()
    for apply in (
        lambda im: skew(im, 2.5),
        lambda im: add_noise(im, 0.08, seed=3),
        lambda im: blur(im, 1.0),
        lambda im: jpeg_artifacts(im, 40),
        lambda im: photocopy(im, seed=3),
        lambda im: red_stamp(im, page.stamp_centre, seed=3),
    ):
        a, b = apply(page.image), apply(page.image)
        assert a.tobytes() == b.tobytes()
        assert a.tobytes() != before
        assert a.size == page.image.size
    assert page.image.tobytes() == before
    assert (
        add_noise(page.image, 0.08, seed=1).tobytes()
        != add_noise(page.image, 0.08, seed=2).tobytes()
    )


def test_downsample_to_200_dpi_grey(page) -> None:
    img = page.image.copy()
    img.info["dpi"] = (300, 300)
    out = downsample(img, 300, 200)
    assert out.mode == "L" and out.info["dpi"] == (200, 200)
    assert out.size == (round(img.width * 2 / 3), round(img.height * 2 / 3))


def test_rotate_turns_clockwise() -> None:
    img = Image.new("L", (4, 2), 255)
    img.putpixel((0, 0), 0)  # top-left corner
    turned = rotate(img, 90)
    assert turned.size == (2, 4) and turned.getpixel((1, 0)) == 0  # now top-right
    assert rotate(img, 180).getpixel((3, 1)) == 0
    with pytest.raises(ValueError):
        rotate(img, 45)


def test_red_stamp_is_red_and_keeps_black_text_black(page) -> None:
    x, y = page.stamp_centre
    stamped = red_stamp(page.image, (x, y), radius=60, seed=0)
    region = np.asarray(stamped.crop((x - 60, y - 60, x + 60, y + 60)), dtype=int)
    reds = (region[..., 0] > 150) & (region[..., 0] - region[..., 1] > 60)
    assert reds.sum() > 200
    before, after = np.asarray(page.image), np.asarray(stamped)
    black = (before == 0).all(axis=2)
    assert (after[black] == 0).all()  # ink multiplies: black stays black


# --- writers -----------------------------------------------------------------------------


def _check_magic(sample) -> None:
    assert sample.path.read_bytes().startswith(MAGIC[sample.media_type]), sample.path


def test_scanned_pdf_is_image_only_a4(tmp_path: Path) -> None:
    sample = write_scanned_pdf(tmp_path / "a.pdf", get_spec("kh-251-ubnd"), dpi=150)
    _check_magic(sample)
    assert sample.kind == "scanned-pdf" and sample.methods == ["ocr", "ocr"]
    with pdfplumber.open(sample.path) as pdf:
        assert len(pdf.pages) == 2
        for p in pdf.pages:
            assert not p.chars and len(p.images) == 1
            assert p.width == pytest.approx(PAGE_W, abs=1) and p.height == pytest.approx(
                PAGE_H, abs=1
            )


def test_digital_pdf_text_extracts_exactly(tmp_path: Path) -> None:
    spec = get_spec("kh-251-ubnd")
    sample = write_digital_pdf(tmp_path / "d.pdf", spec)
    _check_magic(sample)
    assert sample.methods == ["text-layer", "text-layer"] and sample.kind == "digital-pdf"
    layouts = layout_document(spec)
    with pdfplumber.open(sample.path) as pdf:
        assert len(pdf.pages) == len(sample.pages)
        for p, truth, layout in zip(pdf.pages, sample.pages, layouts, strict=True):
            assert cer(truth, p.extract_text(use_text_flow=True)) == 0.0
            assert cer(truth, p.extract_text()) == 0.0
            assert sorted(p.extract_text().split()) == sorted(truth.split())
            for i, block in enumerate(layout.blocks):
                x0, top, x1, bottom = layout.block_box(i)
                crop = p.crop((x0 - 1, top - 1, x1 + 1, bottom + 1))
                assert crop.extract_text() == "\n".join(line.text for line in block)
    with pikepdf.open(sample.path) as pdf:
        fonts = [font for _, font in pdf.pages[0].Resources.Font.items()]
        embedded = [f for f in fonts if "LiberationSerif" in str(f.BaseFont)]
        assert len(embedded) >= 3  # regular, bold, italic: embedded TrueType subsets
        assert all("/FontFile2" in f.FontDescriptor for f in embedded)


def test_mixed_pdf_methods_differ_per_page(tmp_path: Path) -> None:
    sample = write_mixed_pdf(tmp_path / "m.pdf", get_spec("kh-251-ubnd"), scanned=(2,), dpi=100)
    assert sample.kind == "mixed-pdf" and sample.methods == ["text-layer", "ocr"]
    with pdfplumber.open(sample.path) as pdf:
        assert pdf.pages[0].chars and not pdf.pages[1].chars
        assert pdf.pages[1].images


def test_tiff_group4_and_lzw(tmp_path: Path) -> None:
    spec = get_spec("kh-251-ubnd")
    g4 = write_tiff(tmp_path / "g4.tif", spec, dpi=150, compression="group4")
    lzw = write_tiff(tmp_path / "lzw.tif", spec, dpi=150, compression="tiff_lzw")
    for sample, mode, compression in ((g4, "1", "group4"), (lzw, "L", "tiff_lzw")):
        _check_magic(sample)
        with Image.open(sample.path) as img:
            assert img.n_frames == len(sample.pages) == 2
            assert img.mode == mode and img.info["compression"] == compression
            assert round(img.info["dpi"][0]) == 150


def test_jpeg_and_png_carry_dpi(tmp_path: Path) -> None:
    spec = get_spec("tb-45-pnv")
    jpg = write_jpeg(tmp_path / "p.jpg", spec, dpi=150, defects=("skew:2",))
    png = write_png(tmp_path / "p.png", spec, dpi=300, defects=("grey:200",))
    for sample, dpi in ((jpg, 150), (png, 200)):
        _check_magic(sample)
        assert len(sample.pages) == 1 and sample.dpi == dpi
        with Image.open(sample.path) as img:
            assert round(img.info["dpi"][0]) == dpi
    assert png.defects == ("grey:200",)


def test_unknown_defect_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_png(tmp_path / "x.png", get_spec("tb-45-pnv"), defects=("coffee",))


# --- bad files ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    return write_bad_files(tmp_path_factory.mktemp("bad"))


def test_bad_pdfs_fail_to_open(bad: dict[str, Path]) -> None:
    assert bad["empty.pdf"].stat().st_size == 0
    assert bad["corrupt.pdf"].read_bytes().startswith(b"%PDF-")
    with pytest.raises(pikepdf.PdfError):
        pikepdf.open(bad["corrupt.pdf"])
    assert bad["truncated.pdf"].read_bytes().startswith(b"%PDF-")
    with pytest.raises(pypdfium2.PdfiumError):
        pypdfium2.PdfDocument(bad["truncated.pdf"])


def test_encrypted_pdf_needs_the_password(bad: dict[str, Path]) -> None:
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(bad["encrypted.pdf"])
    with pikepdf.open(bad["encrypted.pdf"], password="secret") as pdf:
        assert pdf.is_encrypted and len(pdf.pages) == 1


def test_png_named_pdf_is_a_real_page(bad: dict[str, Path]) -> None:
    path = bad["png_named.pdf"]
    assert path.read_bytes().startswith(MAGIC["image/png"])
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width > 1000
    manifest = json.loads((path.parent / "bad_files.json").read_text(encoding="utf-8"))
    assert manifest["png_named.pdf"]["expect"] == "digitized"
    assert "Số: 12/UBND-VX" in manifest["png_named.pdf"]["pages"][0]
    assert manifest["encrypted.pdf"] == {
        "purpose": manifest["encrypted.pdf"]["purpose"],
        "expect": "failed",
        "error": "encrypted_pdf",
    }


def test_unsupported_and_bomb(bad: dict[str, Path]) -> None:
    docx = bad["notes.docx"].read_bytes()
    assert docx.startswith(b"PK\x03\x04") and b"word/document.xml" in docx
    assert not any(bad["random.bin"].read_bytes().startswith(m) for m in MAGIC.values())
    bomb = bad["bomb.png"]
    assert bomb.stat().st_size < 400_000
    data = bomb.read_bytes()
    assert int.from_bytes(data[16:20], "big") == int.from_bytes(data[20:24], "big") == 30_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(bomb)


# --- batch and command line --------------------------------------------------------------


def test_sample_batch_mixes_kinds_and_defects(tmp_path: Path) -> None:
    samples = write_sample_batch(tmp_path, count=12, seed=0)
    assert len(samples) == 12
    assert {s.kind for s in samples} == {
        "scanned-pdf",
        "digital-pdf",
        "mixed-pdf",
        "tiff",
        "jpeg",
        "png",
    }
    defects = {d.split(":")[0] for s in samples for d in s.defects}
    assert {"skew", "noise", "grey", "jpeg", "rotate", "stamp"} <= defects
    assert any(90 in s.rotations for s in samples)
    assert {s.path.parent.name for s in samples} == {"hop01", "hop02", "hop03"}
    for s in samples:
        _check_magic(s)
        assert 1 <= len(s.pages) <= 3 and len(s.methods) == len(s.pages)
        if s.media_type == "application/pdf":
            assert _pdf_pages(s.path) == len(s.pages)
        elif s.media_type == "image/tiff":
            with Image.open(s.path) as img:
                assert img.n_frames == len(s.pages)
    assert read_truth(tmp_path) == samples


def test_sample_batch_is_deterministic(tmp_path: Path) -> None:
    a = write_sample_batch(tmp_path / "a", count=3, seed=5, dpi=100)
    b = write_sample_batch(tmp_path / "b", count=3, seed=5, dpi=100)
    for x, y in zip(a, b, strict=True):
        assert x.path.read_bytes() == y.path.read_bytes()
        assert x.pages == y.pages
    assert (tmp_path / "a/truth.json").read_bytes() == (tmp_path / "b/truth.json").read_bytes()


def test_command_line_writes_a_batch(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path), "--count", "2", "--dpi", "100"]) == 0
    out = capsys.readouterr().out
    assert "2 samples" in out and (tmp_path / "truth.json").exists()


# --- OCR feasibility (needs tesseract; slow) ---------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
@pytest.mark.parametrize("defects", [(), ("grey:200",)])
def test_tesseract_reads_a_clean_page(tmp_path: Path, defects: tuple[str, ...]) -> None:
    sample = write_png(tmp_path / "p.png", get_spec("cv-12-ubnd-vx"), defects=defects)
    out = subprocess.run(
        ["tesseract", str(sample.path), "-", "-l", "vie", "--psm", "3"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # OpenMP threads only slow it down
    ).stdout
    assert cer(sample.pages[0], out) < 0.02
