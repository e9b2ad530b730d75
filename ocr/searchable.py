"""Two-layer "searchable" PDFs: the page images untouched, plus invisible OCR text.

Every output is given the shape of PDF/A-2b by ocr.pdfa (XMP identification, an sRGB output
intent, nothing PDF/A forbids that can be removed), saved unencrypted, with a document ID.

The text layer is drawn like Tesseract's own PDF renderer: text rendering mode
3 (neither fill nor stroke) in a glyphless font (see _glyphless.py), one text
matrix per word placed on the line's baseline, horizontally scaled (Tz) so the
word spans its hOCR box, and a scaled space between words so text extraction
sees word breaks. On existing pages it is appended to the page's content,
after the original content streams, which are left as they are.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import img2pdf
import pikepdf
from pikepdf import Dictionary, Name, Rectangle
from PIL import Image

from ocr._glyphless import CHAR_WIDTH, add_glyphless_font, encode_text
from ocr.hocr import HocrPage, Line
from ocr.pdfa import make_pdfa
from ocr.sources import page_frames, to_8bit, upright
from ocr.tounicode import fix_legacy_fonts

__all__ = ["add_text_layer", "build_searchable_pdf", "image_page_pdf", "text_layer_pdf"]

IMAGE_MEDIA_TYPES = frozenset({"image/tiff", "image/jpeg", "image/png"})
PDF_MEDIA_TYPE = "application/pdf"

_FONT_RESOURCE = "/OCRFont"  # a str: pikepdf itself avoids module-level pikepdf objects
# The glyphless font is created once per Pdf; its object number is remembered
# on the Pdf instance (pikepdf.Pdf takes attributes but not weak references).
_FONT_ATTR = "_sohoa_glyphless_font"

DEFAULT_DPI = 300.0
_DPI_RANGE = (50.0, 2400.0)  # as ocr.sources.image_dpi judges "nonsense"
_MAX_PAGE_PT = 14400.0  # PDF implementation limit for a page side (200 in)

# Baselines that rise less than this over a whole line are flattened (to their
# mean height): viewers select and copy flat text better, and Tesseract's own
# renderer does the same.
_FLATTEN_RISE_PT = 2.0
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


# --- text layer content -------------------------------------------------------


def _num(value: float) -> bytes:
    # Fixed-point, no exponent, no "-0": content streams have no scientific notation.
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return b"0" if text in ("", "-0") else text.encode("ascii")


def _line_ops(line: Line, sx: float, sy: float, height_pt: float, font: bytes) -> Iterator[bytes]:
    """Operators drawing one hOCR line; hOCR pixels map to points by (sx, sy)."""
    theta = math.radians(line.text_angle)
    # Text frame in image pixels (y down): u = reading direction, v = towards
    # the glyphs' bottom. hOCR textangle is counter-clockwise as displayed.
    ux, uy = math.cos(theta), -math.sin(theta)
    vx, vy = math.sin(theta), math.cos(theta)

    def corners(box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = box
        return [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]

    line_u = [x * ux + y * uy for x, y in corners(line.bbox)]
    line_v = [x * vx + y * vy for x, y in corners(line.bbox)]
    # The hOCR baseline is relative to the line box's bottom-left corner in the
    # text frame (for textangle 0, the box's (x0, y1)).
    origin_u, origin_v = min(line_u), max(line_v)
    line_height = origin_v - min(line_v)
    line_length = max(line_u) - origin_u
    slope, intercept = line.baseline or (0.0, 0.0)
    if abs(slope) * line_length * sy < _FLATTEN_RISE_PT:
        intercept += slope * line_length / 2
        slope = 0.0

    def to_pdf(u: float, v: float) -> tuple[float, float]:
        x, y = u * ux + v * vx, u * uy + v * vy
        return x * sx, height_pt - y * sy

    def baseline_at(u: float) -> tuple[float, float]:
        return to_pdf(u, origin_v + intercept + slope * (u - origin_u))

    # Font size: from the baseline up to the top of the line box; a zero-height
    # box (only baseline information) falls back to the whole box height.
    size_px = line_height + intercept
    if size_px < 1:
        size_px = line_height
    if size_px <= 0:
        return
    size_pt = size_px * math.hypot(vx * sx, vy * sy)
    glyph_width = size_pt * CHAR_WIDTH / 1000.0  # advance of one glyph at Tz 100
    yield font + b" " + _num(size_pt) + b" Tf"

    spans = []
    for word in line.words:
        us = [x * ux + y * uy for x, y in corners(word.bbox)]
        spans.append((min(us), max(us), word.text))
    # Reading order along the baseline; Tesseract already emits it, other
    # producers may not.
    spans.sort(key=lambda span: span[0])
    # Direction of the line in PDF space (constant across the line).
    p, q = baseline_at(origin_u), baseline_at(origin_u + max(line_length, 1.0))
    dx, dy = q[0] - p[0], q[1] - p[1]
    norm = math.hypot(dx, dy)
    cos_a, sin_a = dx / norm, dy / norm
    matrix_head = b" ".join(_num(v) for v in (cos_a, sin_a, -sin_a, cos_a)) + b" "

    def show(u_start: float, width_pt: float, text: str) -> Iterator[bytes]:
        codes, count = encode_text(text)
        x, y = baseline_at(u_start)
        scale = 100.0 * max(width_pt, 0.01) / (count * glyph_width)
        yield matrix_head + _num(x) + b" " + _num(y) + b" Tm"
        yield _num(scale) + b" Tz"
        yield b"<" + codes.hex().upper().encode("ascii") + b"> Tj"

    scale_along = math.hypot(ux * sx, uy * sy)  # points per pixel along the line
    for index, (u0, u1, text) in enumerate(spans):
        yield from show(u0, (u1 - u0) * scale_along, text)
        if index + 1 < len(spans):
            next_u0 = spans[index + 1][0]
            gap = next_u0 - u1
            if gap > 0:
                yield from show(u1, gap * scale_along, " ")
            else:
                # Touching or overlapping boxes: a hairline space just before the
                # next word keeps it out of the middle of either word when
                # extractors sort characters by position.
                hair = 0.05 / scale_along
                yield from show(next_u0 - hair, 0.05, " ")


def _text_content(
    page: HocrPage, width_pt: float, height_pt: float, font: str = _FONT_RESOURCE
) -> bytes:
    """Content operators drawing `page` invisibly on a (0, 0, width_pt, height_pt) page."""
    if min(page.width, page.height) <= 0 or min(width_pt, height_pt) <= 0:
        raise ValueError("hOCR page and PDF page need positive sizes")
    sx, sy = width_pt / page.width, height_pt / page.height
    font_op = font.encode("ascii")
    ops = [b"q", b"BT", b"3 Tr"]
    for line in page.lines:
        ops.extend(_line_ops(line, sx, sy, height_pt, font_op))
    ops += [b"ET", b"Q", b""]
    return b"\n".join(ops)


def _font_for(pdf: pikepdf.Pdf) -> pikepdf.Object:
    objgen = getattr(pdf, _FONT_ATTR, None)
    if objgen is not None:
        return pdf.get_object(objgen)
    font = add_glyphless_font(pdf)
    setattr(pdf, _FONT_ATTR, font.objgen)
    return font


def _compressed_stream(pdf: pikepdf.Pdf, data: bytes, **keys: object) -> pikepdf.Stream:
    # Compress as we go: qpdf keeps unwritten stream data in memory, and text
    # operators shrink ~10x.
    stream = pdf.make_stream(zlib.compress(data), **keys)
    stream.Filter = Name.FlateDecode
    return stream


def text_layer_pdf(page: HocrPage, width_pt: float, height_pt: float) -> pikepdf.Pdf:
    """Return a one-page PDF of the given size holding only the invisible text of `page`."""
    pdf = pikepdf.new()
    pg = pdf.add_blank_page(page_size=(width_pt, height_pt))
    pg.obj.Resources = Dictionary(Font=Dictionary({_FONT_RESOURCE: _font_for(pdf)}))
    pg.obj.Contents = _compressed_stream(pdf, _text_content(page, width_pt, height_pt))
    return pdf


# --- overlaying onto existing pages -------------------------------------------


def _visible_rect(pg: pikepdf.Page) -> Rectangle:
    """The page area a viewer shows, in user space: CropBox clipped to MediaBox."""

    def norm(box: pikepdf.Array) -> Rectangle:
        x0, y0, x1, y1 = (float(v) for v in box)
        return Rectangle(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    media = norm(pg.mediabox)
    crop = norm(pg.cropbox)
    x0, y0 = max(media.llx, crop.llx), max(media.lly, crop.lly)
    x1, y1 = min(media.urx, crop.urx), min(media.ury, crop.ury)
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return media
    return Rectangle(x0, y0, x1, y1)


def _private_fonts(pg: pikepdf.Page) -> pikepdf.Dictionary:
    # Give the page its own /Resources and /Font dictionaries before adding to
    # them: they may be inherited from the page tree or shared with other
    # pages. (pikepdf's Page.resources would replace inherited resources with
    # an empty dictionary.)
    effective = pg.get_resources()
    own = Dictionary()
    if effective is not None:
        for key, value in effective.items():
            own[key] = value
    fonts = Dictionary()
    old = own.get(Name.Font)
    if isinstance(old, Dictionary):
        for key, value in old.items():
            fonts[key] = value
    own.Font = fonts
    pg.obj.Resources = own
    return fonts


def _unclosed_saves(pg: pikepdf.Page) -> int:
    # Content that leaves q's open would swallow our closing Q and leave the
    # layer drawn under its leftover transformation; count them to close them.
    try:
        ops = pikepdf.parse_content_stream(pg, "q Q")
    except pikepdf.PdfError:
        return 0
    depth = 0
    for instruction in ops:
        depth = depth + 1 if str(instruction.operator) == "q" else max(depth - 1, 0)
    return depth


def _displayed_to_user(rect: Rectangle, rotation: int) -> tuple[float, ...]:
    """The matrix taking displayed-page coordinates (origin at the displayed
    bottom-left, y up) to the user space of a page showing `rect` turned
    clockwise by `rotation` degrees."""
    x0, y0, x1, y1 = rect.llx, rect.lly, rect.urx, rect.ury
    return {
        0: (1, 0, 0, 1, x0, y0),
        90: (0, 1, -1, 0, x1, y0),
        180: (-1, 0, 0, -1, x1, y1),
        270: (0, -1, 1, 0, x0, y1),
    }[rotation]


def add_text_layer(pdf: pikepdf.Pdf, page_index: int, page: HocrPage) -> None:
    """Add the invisible text of `page` to page `page_index` (0-based) of `pdf`.

    The hOCR must describe the page as displayed: /Rotate applied and cropped
    to the CropBox (clipped to the MediaBox), as pypdfium2 renders it. The
    text is drawn after the page's own content, in the displayed frame mapped
    back through /Rotate and the CropBox offset. It goes into the page's
    content rather than a Form XObject because pdfminer's layout analysis
    (pdfminer.six extract_text) runs lines of form text together.
    """
    pg = pdf.pages[page_index]
    rect = _visible_rect(pg)
    rotation = pg.rotation if pg.rotation in (0, 90, 180, 270) else 0
    width, height = rect.width, rect.height
    if rotation in (90, 270):
        width, height = height, width
    fonts = _private_fonts(pg)
    font_name, suffix = _FONT_RESOURCE, 1
    while font_name in fonts:  # the page may already use the name (a second run)
        font_name, suffix = f"{_FONT_RESOURCE}{suffix}", suffix + 1
    fonts[font_name] = _font_for(pdf)
    matrix = b" ".join(_num(v) for v in _displayed_to_user(rect, rotation))
    layer = (
        b"\n"
        + b"Q\n" * (_unclosed_saves(pg) + 1)  # back to the untouched graphics state
        + b"q "
        + matrix
        + b" cm\n"
        + _text_content(page, width, height, font_name)
        + b"Q\n"
    )
    # Added as separate content streams: the page's own streams stay byte-identical.
    pg.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    pg.contents_add(_compressed_stream(pdf, layer), prepend=False)


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
