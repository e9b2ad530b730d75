"""Image files as pages: damaged files fail with a clear code, enlarging stays within a
pixel budget, 16-bit greys keep their ink, and only a TIFF's frames are pages."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

import ocr.preprocess as preprocess
from ocr import ExtractionError, open_source
from ocr.preprocess import analyse, make_ocr_image, target_scale
from ocr.searchable import build_searchable_pdf
from ocr.sources import ImageSource, to_8bit
from schemas import ErrorCode
from tests.data.typeset import FONT_DIR, FONT_FILES

#: what Pillow warns while it reads a damaged TIFF's directories
damaged = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")

LIMITS = {"max_pages": 100, "max_pixels": 250_000_000}
LINES = [
    "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI",
    "QUYẾT ĐỊNH về việc phê duyệt kế hoạch",
    "Điều 1. Phê duyệt danh sách hồ sơ lưu trữ.",
    "Điều 2. Giám đốc Sở Nội vụ chịu trách nhiệm thi hành.",
]


def text_page(dpi: int = 100, *, lines: list[str] = LINES, size_in=(8.27, 11.69)) -> Image.Image:
    """A white grey page with black Vietnamese lines of 13 pt text at `dpi`."""
    page = Image.new("L", (round(size_in[0] * dpi), round(size_in[1] * dpi)), 255)
    font = ImageFont.truetype(str(FONT_DIR / FONT_FILES["regular"]), round(13 * dpi / 72))
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((dpi, dpi + i * round(26 * dpi / 72)), line, font=font, fill=0)
    return page


def tiff_bytes(pages: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    pages[0].save(
        buf, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(100, 100)
    )
    return buf.getvalue()


def ifd_offsets(data: bytes) -> list[int]:
    """Where each frame's directory starts in a little-endian TIFF."""
    offsets, offset = [], struct.unpack_from("<I", data, 4)[0]
    while offset:
        offsets.append(offset)
        entries = struct.unpack_from("<H", data, offset)[0]
        offset = struct.unpack_from("<I", data, offset + 2 + 12 * entries)[0]
    return offsets


def open_error(path: Path, media_type: str) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught, open_source(path, media_type, **LIMITS) as src:
        for number in range(1, src.page_count + 1):
            src.render(number, 300)
    return caught.value


# --- damaged files -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_pages() -> bytes:
    return tiff_bytes([text_page(lines=LINES[i:]) for i in range(3)])


@damaged
@pytest.mark.parametrize("bad_page", [2, 3])
def test_a_tiff_cut_in_a_later_page_fails_naming_that_page(
    three_pages: bytes, tmp_path: Path, bad_page: int
) -> None:
    assert three_pages[:2] == b"II"
    cut = ifd_offsets(three_pages)[bad_page - 1] + 6  # inside that page's directory
    path = tmp_path / "ho-so-bi-cat.tif"
    path.write_bytes(three_pages[:cut])
    error = open_error(path, "image/tiff")
    assert error.code is ErrorCode.corrupt_image
    assert f"page {bad_page} " in error.message
    assert f"damaged after page {bad_page - 1}" in error.message


@damaged
def test_a_tiff_cut_at_sixty_percent_fails_cleanly(three_pages: bytes, tmp_path: Path) -> None:
    path = tmp_path / "sao-chep-do-dang.tif"
    path.write_bytes(three_pages[: int(len(three_pages) * 0.6)])
    error = open_error(path, "image/tiff")
    assert error.code is ErrorCode.corrupt_image
    assert "page " in error.message


def test_an_intact_multipage_tiff_still_gives_every_page(
    three_pages: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "ba-trang.tif"
    path.write_bytes(three_pages)
    with open_source(path, "image/tiff", **LIMITS) as source:
        assert source.page_count == 3
        sizes = [source.render(n, 300).image.size for n in (1, 2, 3)]
    assert sizes == [(827, 1169)] * 3


def _tiff_without_dimensions() -> bytes:
    data = bytearray(tiff_bytes([text_page(lines=LINES[:1])]))
    (offset,) = ifd_offsets(bytes(data))
    for i in range(struct.unpack_from("<H", data, offset)[0]):
        entry = offset + 2 + 12 * i
        if struct.unpack_from("<H", data, entry)[0] in (256, 257):  # ImageWidth, ImageLength
            struct.pack_into("<H", data, entry, 65000)  # an unknown private tag
    return bytes(data)


def _png_cut_in_its_pixels() -> bytes:
    buf = io.BytesIO()
    text_page().save(buf, "PNG", compress_level=0)
    return buf.getvalue()[: buf.tell() // 2]


@damaged
@pytest.mark.parametrize(
    ("name", "media_type", "make"),
    [
        ("khong-kich-thuoc.tif", "image/tiff", _tiff_without_dimensions),
        ("ngau-nhien.tif", "image/tiff", lambda: b"II*\x00" + bytes(range(256)) * 16),
        ("anh-bi-cat.png", "image/png", _png_cut_in_its_pixels),
    ],
)
def test_undecodable_images_fail_as_corrupt_image(
    tmp_path: Path, name: str, media_type: str, make
) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    error = open_error(path, media_type)
    assert error.code is ErrorCode.corrupt_image
    assert str(tmp_path) not in error.message  # no storage path in what people see


def test_a_page_beyond_the_last_is_a_clear_error(three_pages: bytes, tmp_path: Path) -> None:
    path = tmp_path / "ba-trang.tif"
    path.write_bytes(three_pages)
    source = ImageSource(path, "image/tiff", max_pixels=LIMITS["max_pixels"])
    with source, pytest.raises(ExtractionError) as caught:
        source.render(4, 300)
    assert caught.value.code is ErrorCode.corrupt_image
    assert "no page 4" in caught.value.message


def test_damaged_exif_does_not_cost_a_readable_photo(tmp_path: Path) -> None:
    path, out = tmp_path / "exif-hong.jpg", tmp_path / "out.pdf"
    text_page().save(path, exif=b"Exif\x00\x00XX not a TIFF header", dpi=(100, 100))
    with open_source(path, "image/jpeg", **LIMITS) as source:
        assert source.render(1, 300).image.size == (827, 1169)
    build_searchable_pdf(path, "image/jpeg", lambda number: None, 1, out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1


@pytest.mark.parametrize("dpi", [(0, 0), (1, 1), (100000, 100000)])
def test_a_nonsense_resolution_is_read_as_300_dpi(tmp_path: Path, dpi: tuple[int, int]) -> None:
    path = tmp_path / "do-phan-giai.tif"
    text_page().save(path, compression="tiff_lzw", dpi=dpi)
    with open_source(path, "image/tiff", **LIMITS) as source:
        assert source.render(1, 300).dpi == 300.0


# --- enlarging within a pixel budget ------------------------------------------------------


def test_a_page_near_the_render_cap_is_not_enlarged() -> None:
    # 15811² px at 79 dpi: a huge sheet shrunk to the 250 Mpx cap; 3× would be 2.25 Gpx
    assert target_scale(None, 79, pixels=15811 * 15811) == 1.0
    assert target_scale(6.0, 79, pixels=15811 * 15811) == 1.0


@pytest.mark.parametrize("pixels", [20_000_000, 40_000_000, 80_000_000, 99_000_000])
def test_enlarging_stops_at_the_pixel_budget(pixels: int) -> None:
    scale = target_scale(None, 60, pixels=pixels)  # 60 dpi text wants 3×
    assert scale == 1.0 or scale * scale * pixels <= preprocess.MAX_ENLARGED_PIXELS
    assert scale == 1.0 or scale >= preprocess.MIN_UPSCALE


def test_pages_of_300_dpi_are_never_enlarged() -> None:
    assert target_scale(None, 300, pixels=1000) == 1.0
    assert target_scale(5.0, 300, pixels=1000) == 1.0


def test_small_low_resolution_scans_are_still_enlarged() -> None:
    page = text_page(100)
    analysis = analyse(page, 100)
    prepared = make_ocr_image(analysis, analysis.orientation.rotation, 0.0)
    assert prepared.plan.scale == pytest.approx(2.4)
    assert prepared.image.width == pytest.approx(page.width * 2.4, abs=2)


def test_an_enlarged_page_stays_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = 3_000_000  # so a 100 dpi A4 page (0.97 Mpx, wanting 2.4×) meets it
    monkeypatch.setattr(preprocess, "MAX_ENLARGED_PIXELS", budget)
    page = text_page(100)
    analysis = analyse(page, 100)
    prepared = make_ocr_image(analysis, analysis.orientation.rotation, 0.0)
    width, height = prepared.image.size
    assert 1.25 <= prepared.plan.scale < 2.4
    assert width * height <= budget * 1.001
    assert width * height >= budget * 0.99  # as large as the budget allows
    assert prepared.dpi == pytest.approx(100 * prepared.plan.scale)


# --- 16-bit greys ------------------------------------------------------------------------


def master_16bit(dtype: str = "<u2") -> tuple[np.ndarray, np.ndarray]:
    """A 16-bit master as a scanner writes it (ink ~8 %, paper ~90 %), and where ink is."""
    grey = np.asarray(text_page(150), dtype=np.float64) / 255.0
    samples = (5000 + grey * (59000 - 5000)).astype(dtype)
    return samples, grey < 0.3


@pytest.mark.parametrize(
    ("name", "media_type", "dtype"),
    [
        ("ban-goc.png", "image/png", "<u2"),
        ("ban-goc.tif", "image/tiff", "<u2"),
        ("ban-goc-be.tif", "image/tiff", ">u2"),
        ("ban-goc-32.tif", "image/tiff", "<i4"),
    ],
)
def test_16bit_grey_masters_keep_their_ink(
    tmp_path: Path, name: str, media_type: str, dtype: str
) -> None:
    samples, ink = master_16bit(dtype)
    path = tmp_path / name
    Image.fromarray(samples).save(path, dpi=(150, 150))
    with open_source(path, media_type, **LIMITS) as source:
        page = source.render(1, 300).image
    pixels = np.asarray(page)
    assert page.mode == "L" and pixels.shape == samples.shape
    assert np.median(pixels[ink]) < 40  # ink, not clipped to white
    assert np.median(pixels[~ink]) > 200  # paper
    assert np.abs(pixels.astype(int) - samples.astype(np.int64) // 256).max() <= 1


def test_to_8bit_scales_each_kind_of_grey() -> None:
    ramp = np.linspace(0, 1, 256 * 4).reshape(32, 32)
    sixteen = to_8bit(Image.fromarray((ramp * 65535).astype(np.uint16)))
    floats = to_8bit(Image.fromarray(ramp.astype(np.float32)))  # 0–1 floats
    odd = to_8bit(Image.fromarray((ramp * 1e6 - 5e5).astype(np.int32)))  # its own range
    for grey in (sixteen, floats, odd):
        values = np.asarray(grey)
        assert grey.mode == "L" and values.min() <= 1 and values.max() >= 254
        assert np.all(np.diff(values.ravel().astype(int)) >= 0)  # order kept


def test_a_16bit_master_builds_a_searchable_pdf_with_visible_ink(tmp_path: Path) -> None:
    samples, ink = master_16bit()
    source, out = tmp_path / "ban-goc.tif", tmp_path / "out.pdf"
    Image.fromarray(samples).save(source, dpi=(150, 150))
    build_searchable_pdf(source, "image/tiff", lambda number: None, 1, out)
    with pikepdf.open(out) as pdf:
        (stream,) = pdf.pages[0].get_images().values()
        shown = np.asarray(pikepdf.PdfImage(stream).as_pil_image().convert("L"))
    assert np.median(shown[ink]) < 40 and np.median(shown[~ink]) > 200


# --- which frames are pages --------------------------------------------------------------


def phone_mpo(path: Path) -> Image.Image:
    """A phone photo as MPO: the page, then a small preview image."""
    photo = text_page(150).convert("RGB")
    preview = photo.resize((photo.width // 8, photo.height // 8))
    photo.save(path, format="MPO", save_all=True, append_images=[preview], dpi=(150, 150))
    return photo


def test_a_phone_mpo_is_one_page(tmp_path: Path) -> None:
    path = tmp_path / "anh-dien-thoai.jpg"
    photo = phone_mpo(path)
    with Image.open(path) as raw:
        assert raw.format == "MPO" and raw.n_frames == 2
    with open_source(path, "image/jpeg", **LIMITS) as source:
        assert source.page_count == 1
        assert source.render(1, 300).image.size == photo.size
        with pytest.raises(ExtractionError):
            source.render(2, 300)  # the preview is no page


def test_a_phone_mpo_makes_a_one_page_searchable_pdf(tmp_path: Path) -> None:
    path, out = tmp_path / "anh-dien-thoai.jpg", tmp_path / "out.pdf"
    photo = phone_mpo(path)
    build_searchable_pdf(path, "image/jpeg", lambda number: None, 1, out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1
        (stream,) = pdf.pages[0].get_images().values()
        assert (int(stream.Width), int(stream.Height)) == photo.size


def test_an_animated_png_is_one_page(tmp_path: Path) -> None:
    path = tmp_path / "hoat-hinh.png"
    first, second = text_page(), text_page(lines=LINES[2:])
    first.save(path, save_all=True, append_images=[second])
    with Image.open(path) as raw:
        assert raw.n_frames == 2
    with open_source(path, "image/png", **LIMITS) as source:
        assert source.page_count == 1


def test_a_multipage_tiff_makes_every_page_of_the_searchable_pdf(
    three_pages: bytes, tmp_path: Path
) -> None:
    path, out = tmp_path / "ba-trang.tif", tmp_path / "out.pdf"
    path.write_bytes(three_pages)
    build_searchable_pdf(path, "image/tiff", lambda number: None, 3, out)
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 3
