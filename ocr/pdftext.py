"""A PDF page's own text, read with pdfium, with the layout facts that judge it.

pdfium builds a page's text some 60 times faster than pdfminer, so every page is read here;
pdfplumber stays for callers that want characters with positions (ocr.sources.PdfSource.chars).

One pass over the page objects (descending into forms) finds the images and the fonts and
render modes of the text objects; ocr.pdfruns then decodes legacy-encoded fonts run by run,
walking the characters one by one only on the pages that need it.
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocr.pdfruns import address as _address
from ocr.pdfruns import decode_page_text

_INVISIBLE_MODES = (3, 7)  # neither fill nor stroke (7: clip only)
_MAX_FORM_DEPTH = 8
Rect = tuple[float, float, float, float]
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class PageText:
    """The page's text (legacy encodings decoded; line breaks "\\r\\n" as pdfium gives them)."""

    text: str
    text_area: float  # share of the page inside the boxes of the text's lines
    image_area: float  # share of the page under images
    invisible: float  # share of characters drawn invisibly or hidden under an image
    fonts: tuple[str, ...]  # base font names, subset prefix removed
    encoding: str | None  # the legacy encoding the text was decoded from, if any


@dataclass
class _TextObj:
    """A text object of the page: its font, and whether it is invisible or hidden."""

    font: str
    hidden: bool
    raw: object  # the pdfium object, valid while the page is open
    matrix: Matrix  # its form's matrix to page space

    def bounds(self) -> Rect:
        return _transform(_bounds(self.raw), self.matrix)


def _font_name(font: object, cache: dict[int, str]) -> str:
    key = _address(font)
    if key not in cache:
        size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
        buf = ctypes.create_string_buffer(max(1, size))
        pdfium_c.FPDFFont_GetBaseFontName(font, buf, size)
        name = buf.value.decode("utf-8", "replace")
        cache[key] = name.split("+", 1)[1] if name[6:7] == "+" else name
    return cache[key]


def _bounds(obj: object) -> Rect:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    ok = pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
    return (left.value, bottom.value, right.value, top.value) if ok else (0.0, 0.0, 0.0, 0.0)


def _matrix(obj: object) -> Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F)  # fmt: skip


def _transform(rect: Rect, m: Matrix) -> Rect:
    if m == _IDENTITY:
        return rect
    x0, y0, x1, y1 = rect
    xs, ys = [], []
    for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1)):
        xs.append(m[0] * x + m[2] * y + m[4])
        ys.append(m[1] * x + m[3] * y + m[5])
    return (min(xs), min(ys), max(xs), max(ys))


def _walk(page: pdfium.PdfPage) -> Iterator[tuple[int, object, Matrix]]:
    """(type, raw object, matrix to page space) for every object, forms descended."""

    def children(
        form: object | None, matrix: Matrix, depth: int
    ) -> Iterator[tuple[int, object, Matrix]]:
        if form is None:
            count, get, parent = (
                pdfium_c.FPDFPage_CountObjects(page), pdfium_c.FPDFPage_GetObject, page
            )  # fmt: skip
        else:
            count, get, parent = (
                pdfium_c.FPDFFormObj_CountObjects(form), pdfium_c.FPDFFormObj_GetObject, form
            )  # fmt: skip
        for i in range(max(0, count)):
            obj = get(parent, i)
            if not obj:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            yield kind, obj, matrix
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
                yield from children(obj, _compose(_matrix(obj), matrix), depth + 1)

    return children(None, _IDENTITY, 0)


def _clip(rect: Rect, box: Rect) -> Rect | None:
    x0, y0 = max(rect[0], box[0]), max(rect[1], box[1])
    x1, y1 = min(rect[2], box[2]), min(rect[3], box[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def union_area(rects: list[Rect]) -> float:
    """Area covered by axis-aligned rectangles (overlaps counted once)."""
    if len(rects) > 400:  # thousands of image tiles: the sum is close enough, and cheap
        return sum((r[2] - r[0]) * (r[3] - r[1]) for r in rects)
    xs = sorted({x for r in rects for x in (r[0], r[2])})
    area = 0.0
    for left, right in itertools.pairwise(xs):
        spans = sorted((r[1], r[3]) for r in rects if r[0] <= left and r[2] >= right)
        covered, top = 0.0, float("-inf")
        for y0, y1 in spans:
            if y1 > top:
                covered += y1 - max(y0, top)
                top = y1
        area += covered * (right - left)
    return area


def _contains(outer: Rect, inner: Rect, slack: float = 2.0) -> bool:
    return (
        inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack
    )  # fmt: skip


def read_page(page: pdfium.PdfPage) -> PageText | None:
    """The page's own text and its layout facts; None when the page has no characters."""
    box = page.get_bbox()  # the visible area (crop box), in user space
    page_area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        if count <= 0:
            return None
        texts: dict[int, _TextObj] = {}
        images: list[Rect] = []
        fonts: dict[int, str] = {}
        for kind, obj, matrix in _walk(page):
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
                font = _font_name(pdfium_c.FPDFTextObj_GetFont(obj), fonts)
                texts[_address(obj)] = _TextObj(font, mode in _INVISIBLE_MODES, obj, matrix)
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                rect = _clip(_transform(_bounds(obj), matrix), box)
                if rect is None:
                    continue
                images.append(rect)
                if (rect[2] - rect[0]) * (rect[3] - rect[1]) > 0.5 * page_area:
                    # text drawn before a page-sized image is hidden under it: the "text under
                    # the page image" layout of some OCR tools
                    for t in texts.values():
                        t.hidden = t.hidden or _contains(rect, t.bounds())
        text = textpage.get_text_range()
        rects = [textpage.get_rect(i) for i in range(textpage.count_rects(0, count))]
        text_rects = [r for r in (_clip((x0, y0, x1, y1), box) for x0, y0, x1, y1 in rects) if r]
        text, encoding, invisible = decode_page_text(textpage, text, count, texts)
    finally:
        textpage.close()
    return PageText(
        text=text,
        text_area=min(1.0, sum((r[2] - r[0]) * (r[3] - r[1]) for r in text_rects) / page_area),
        image_area=min(1.0, union_area(images) / page_area),
        invisible=invisible,
        fonts=tuple(sorted({t.font for t in texts.values()})),
        encoding=encoding,
    )
