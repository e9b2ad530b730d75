"""The invisible text layer of a searchable PDF, drawn from hOCR.

Drawn like Tesseract's own PDF renderer: text rendering mode 3 (neither fill nor stroke) in
a glyphless font (see _glyphless.py), one text matrix per word placed on the line's
baseline, horizontally scaled (Tz) so the word spans its hOCR box, and a scaled space
between words so text extraction sees word breaks. On existing pages it is appended to the
page's content, after the original content streams, which are left as they are.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator

import pikepdf
from pikepdf import Dictionary, Name, Rectangle

from ocr._glyphless import CHAR_WIDTH, add_glyphless_font, encode_text
from ocr.hocr import HocrPage, Line

_FONT_RESOURCE = "/OCRFont"  # a str: pikepdf itself avoids module-level pikepdf objects
# The glyphless font is created once per Pdf; its object number is remembered
# on the Pdf instance (pikepdf.Pdf takes attributes but not weak references).
_FONT_ATTR = "_sohoa_glyphless_font"

# Baselines that rise less than this over a whole line are flattened (to their
# mean height): viewers select and copy flat text better, and Tesseract's own
# renderer does the same.
_FLATTEN_RISE_PT = 2.0


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
