"""Two-layer "searchable" PDFs: the page images untouched, plus invisible OCR text.

Every output is given the shape of PDF/A-2b by ocr.pdfa (XMP identification, an sRGB output
intent, nothing PDF/A forbids that can be removed), saved unencrypted, with a document ID.

The text layer is drawn by ocr.text_layer; this module builds the pages it goes on (a
PDF's own pages, or an image per page) and saves the whole document.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import img2pdf
import pikepdf
from PIL import Image

from ocr.hocr import HocrPage
from ocr.pdfa import make_pdfa
from ocr.sources import page_frames, to_8bit, upright
from ocr.text_layer import add_text_layer, text_layer_pdf
from ocr.tounicode import fix_legacy_fonts

__all__ = ["add_text_layer", "build_searchable_pdf", "image_page_pdf", "text_layer_pdf"]

IMAGE_MEDIA_TYPES = frozenset({"image/tiff", "image/jpeg", "image/png"})
PDF_MEDIA_TYPE = "application/pdf"

DEFAULT_DPI = 300.0
_DPI_RANGE = (50.0, 2400.0)  # as ocr.sources.image_dpi judges "nonsense"
_MAX_PAGE_PT = 14400.0  # PDF implementation limit for a page side (200 in)

# Image builds assemble this many pages in memory, write them to a temporary
# PDF and merge the parts at the end, so memory holds a few pages' images, not
# the document's. Each part carries its own copy of the ~2.5 kB glyphless font.
_PAGES_PER_PART = 8

# qpdf writes a document ID, never compresses the XMP metadata stream, and with
# encryption=False drops any owner-password encryption: all three as PDF/A wants.
_SAVE_OPTIONS: dict[str, Any] = {
    "object_stream_mode": pikepdf.ObjectStreamMode.generate,
    "compress_streams": True,
    "encryption": False,
}
_PDFA_MAX_VERSION = "1.7"  # PDF/A-2 is based on PDF 1.7


# --- image pages ------------------------------------------------------------------


def _sane_dpi(im: Image.Image) -> tuple[float, float]:
    dpi: Any = im.info.get("dpi")
    try:
        xdpi, ydpi = (float(v) for v in dpi)  # a missing or odd value: TypeError, below
    except (TypeError, ValueError):
        xdpi = ydpi = 0.0
    lo, hi = _DPI_RANGE
    plausible = (
        lo <= xdpi <= hi
        and lo <= ydpi <= hi
        and im.width * 72.0 / xdpi <= _MAX_PAGE_PT
        and im.height * 72.0 / ydpi <= _MAX_PAGE_PT
    )
    if plausible:
        return (xdpi, ydpi)
    # A giant image at 300 dpi could exceed the PDF page limit: use more dots per inch.
    fallback = max(DEFAULT_DPI, max(im.width, im.height) * 72.0 / _MAX_PAGE_PT)
    return (fallback, fallback)


def _encode_frame(im: Image.Image) -> bytes:
    """One frame of a multi-frame file as a single lossless image img2pdf can embed."""
    buf = io.BytesIO()
    if im.mode == "1":
        im.save(buf, format="TIFF", compression="group4")  # passed through as CCITT G4
    elif im.mode in ("L", "LA", "RGB", "RGBA", "P", "I;16"):
        im.save(buf, format="PNG")  # passed through as Flate
    else:
        im.save(buf, format="TIFF", compression="tiff_adobe_deflate")
    return buf.getvalue()


def _decoded_fallback(im: Image.Image, *, transpose: bool) -> bytes:
    """Decode with Pillow into a mode img2pdf accepts; PNG bytes."""
    if transpose:
        im = upright(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        # Scans are opaque paper: flatten transparency onto white.
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", im.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat.convert("L") if im.mode in ("LA", "La") else flat
    elif im.mode.startswith("I;16") or im.mode in ("I", "F"):
        im = to_8bit(im)  # PDF viewers show 8 bits anyway; as the OCR side reads it
    elif im.mode not in ("1", "L", "RGB", "P"):
        im = im.convert("RGB")
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _frame_pdf_bytes(image_path: Path, im: Image.Image, frame: int, frames: int) -> bytes:
    """One frame of the open image file `im` (which has `frames` frames) as PDF bytes."""
    # Callers walk frames in order on one open image: a TIFF seek from the
    # current frame is cheap, from a freshly opened file it walks every IFD.
    im.seek(frame)
    dpi = _sane_dpi(im)
    layout = img2pdf.get_fixed_dpi_layout_fun(dpi)
    # A one-page file goes to img2pdf whole so JPEG/PNG/CCITT data is copied
    # untouched (of a phone's MPO only the main image: first_frame_only); for
    # multi-page files img2pdf would take every frame.
    if frames == 1:
        data: str | bytes = str(image_path)
    else:
        # The OCR side shows frame 1 EXIF-transposed (ocr.sources); match it.
        data = _encode_frame(upright(im) if frame == 0 else im)
    try:
        pdf_bytes = img2pdf.convert(data, layout_fun=layout, first_frame_only=True)
    except Exception:
        # img2pdf signals refusals with a zoo of exception types (AlphaChannelError,
        # ExifOrientationError, ValueError, plain Exception); all mean "decode it".
        im.seek(frame)
        pdf_bytes = img2pdf.convert(_decoded_fallback(im, transpose=frame == 0), layout_fun=layout)
    if pdf_bytes is None:  # only when img2pdf is given an output stream
        raise RuntimeError("img2pdf returned no PDF")
    return bytes(pdf_bytes)


def _frame_count(im: Image.Image) -> int:
    """The pages of the image, as ocr.sources counts them (a JPEG's previews are none)."""
    return page_frames(im)


def image_page_pdf(image_path: Path, frame: int = 0) -> pikepdf.Pdf:
    """Return a one-page PDF showing frame `frame` (0-based) of an image file.

    Embedded losslessly with img2pdf (JPEG as is, PNG/TIFF data passed through
    where possible); what img2pdf refuses (alpha, unusual modes) is decoded by
    Pillow first. The page size follows the image's dpi, 300 dpi when missing
    or implausible. EXIF orientation of the first frame is honoured (img2pdf
    turns it into /Rotate), as ocr.sources does before OCR.
    """
    with Image.open(image_path) as im:
        frames = _frame_count(im)
        if not 0 <= frame < frames:
            raise IndexError(f"{image_path} has {frames} frame(s), no frame {frame}")
        data = _frame_pdf_bytes(Path(image_path), im, frame, frames)
    return pikepdf.open(io.BytesIO(data))


# --- whole documents ------------------------------------------------------------


def _save_atomically(pdf: pikepdf.Pdf, out: Path) -> None:
    out = Path(out)
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        # A PDF 2.0 original is written as 1.7: PDF/A-2 headers say 1.x.
        version: dict[str, Any] = (
            {"force_version": _PDFA_MAX_VERSION} if pdf.pdf_version > "1.7" else {}
        )
        pdf.save(tmp_name, **_SAVE_OPTIONS, **version)
        os.replace(tmp_name, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _build_from_pdf(
    source: Path, hocr_for_page: Callable[[int], HocrPage | None], page_count: int, out: Path
) -> list[str]:
    # inherit_page_attributes=False: pages without OCR stay exactly as they were
    # (add_text_layer copes with inherited /Resources, /Rotate and boxes).
    with pikepdf.open(source, inherit_page_attributes=False) as pdf:
        if len(pdf.pages) != page_count:
            raise ValueError(f"{source} has {len(pdf.pages)} pages, expected {page_count}")
        for number in range(1, page_count + 1):
            hocr = hocr_for_page(number)  # one page's hOCR alive at a time
            if hocr is not None:
                add_text_layer(pdf, number - 1, hocr)
        fix_legacy_fonts(pdf)  # TCVN3/VNI pages become searchable in Vietnamese
        notes = make_pdfa(pdf)
        _save_atomically(pdf, out)
    return notes


def _write_image_part(
    source: Path,
    im: Image.Image,
    hocr_for_page: Callable[[int], HocrPage | None],
    numbers: range,
    dest: Path,
) -> list[str]:
    """Write pages `numbers` (1-based frames of `im`), with text, to `dest` (PDF/A-shaped)."""
    frames = _frame_count(im)
    with pikepdf.new() as part:
        for number in numbers:
            frame_pdf = io.BytesIO(_frame_pdf_bytes(source, im, number - 1, frames))
            # pikepdf copies a page between Pdfs at once, image data included,
            # so the one-frame PDF can go straight away.
            with pikepdf.open(frame_pdf) as single:
                part.pages.append(single.pages[0])
            hocr = hocr_for_page(number)  # one page's hOCR alive at a time
            if hocr is not None:
                add_text_layer(part, len(part.pages) - 1, hocr)
        notes = make_pdfa(part)
        _save_atomically(part, dest)
    return notes


def _merge_files(parts: list[Path], out: Path) -> None:
    # pikepdf would copy every page's data into memory on the way (see above);
    # qpdf's own page merging reads each part lazily while writing, and closes
    # and reopens files when there are many. The first part is the primary input:
    # its catalog, with the PDF/A metadata and output intent, is the result's.
    out = Path(out).absolute()
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        job = pikepdf.Job(
            [
                "qpdf",
                str(Path(parts[0]).absolute()),
                "--object-streams=generate",
                "--compress-streams=y",
                "--pages",
                *(str(Path(part).absolute()) for part in parts),
                "--",
                tmp_name,
            ]
        )
        job.run()
        if job.exit_code != 0:
            raise RuntimeError(f"qpdf could not merge the pages (exit code {job.exit_code})")
        os.replace(tmp_name, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _build_from_image(
    source: Path, hocr_for_page: Callable[[int], HocrPage | None], page_count: int, out: Path
) -> list[str]:
    with Image.open(source) as im:
        frames = _frame_count(im)
        if frames != page_count:
            raise ValueError(f"{source} has {frames} frame(s), expected {page_count}")
        if page_count <= _PAGES_PER_PART:
            return _write_image_part(source, im, hocr_for_page, range(1, page_count + 1), out)
        # Long documents: parts of _PAGES_PER_PART pages go to temporary files
        # that qpdf then merges; memory holds at most one part's images.
        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="sohoa-searchable-") as tmp:
            parts = []
            for start in range(1, page_count + 1, _PAGES_PER_PART):
                numbers = range(start, min(start + _PAGES_PER_PART, page_count + 1))
                parts.append(Path(tmp) / f"part-{start:06d}.pdf")
                notes += _write_image_part(source, im, hocr_for_page, numbers, parts[-1])
            _merge_files(parts, out)
        return list(dict.fromkeys(notes))


def build_searchable_pdf(
    source: Path,
    media_type: str,
    hocr_for_page: Callable[[int], HocrPage | None],
    page_count: int,
    out: Path,
) -> list[str]:
    """Write `out`: `source` with an invisible text layer on each OCRed page, as PDF/A-2b.

    `hocr_for_page(n)` (n is 1-based) returns the page's hOCR, or None to leave
    the page as it is (e.g. a PDF page that kept its own text). PDFs keep every
    object of the original; images (TIFF frames, JPEG, PNG) become one page per
    frame. Pages are handled one at a time, so memory does not grow with
    `page_count`.

    Returns what keeps the file from PDF/A-2b conformance (see ocr.pdfa), usually
    nothing; such a file is still written, PDF/A-shaped.
    """
    source = Path(source)
    if media_type == PDF_MEDIA_TYPE:
        return _build_from_pdf(source, hocr_for_page, page_count, Path(out))
    elif media_type in IMAGE_MEDIA_TYPES:
        return _build_from_image(source, hocr_for_page, page_count, Path(out))
    else:
        raise ValueError(f"cannot build a searchable PDF from {media_type!r}")
