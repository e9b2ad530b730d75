"""PDF pages: the text layer and rendering with pdfium, characters with pdfplumber."""

from __future__ import annotations

import ctypes
import mmap
import re
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image

from ocr.appearances import (
    Flattened,
    drop_covered_blanks,
    flatten_appearances,
    text_from_words,
)
from ocr.errors import ExtractionError
from ocr.sniff import PDF
from ocr.sources import DocumentSource, PageImage, TextLayer, normalize_text
from schemas.errors import ErrorCode

#: the end marker must lie this close to the end of the file, padding not counted
_EOF_WINDOW = 4096
#: PDF white-space (NUL, tab, LF, FF, CR, space): what padding after the end may hold
_PADDING = b"\x00\t\n\x0c\r "
_BLOCK = 2**16
#: PDF syntax that only an update (objects, cross-reference, trailer) puts after a marker
_UPDATE_SYNTAX = re.compile(
    rb"\d+\s+\d+\s+obj\b|\b(?:endobj|stream|endstream|xref|startxref|trailer)\b"
)
_ENCRYPT_REF = re.compile(rb"/Encrypt\s*(?:(\d+)\s+(\d+)\s+R|<<)")
_FILTER_NAME = re.compile(rb"/Filter\s*/([^\s/<>\[\]()%]+)")
_CERTIFICATE_HANDLER = "Adobe.PubSec"
#: bytes of the file's pages that pdfium may hold before the document is reopened
_PDFIUM_BUDGET = 64 * 2**20


class PdfSource(DocumentSource):
    """A PDF read with pdfium (text layers, rendering); pdfplumber only for `chars`."""

    media_type = PDF

    def __init__(self, path: Path, *, max_pixels: int) -> None:
        self.original = path
        self.max_pixels = max_pixels
        self.page_count = _check_pdf(path)
        self.path = path
        # the characters of pages that draw annotations (e-office numbers and days in
        # signature widgets) come from a copy that draws them as page content: see
        # ocr/appearances.py
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._pdfium: Any = None
        # pdfium keeps every object it parsed (page images included) until the document is
        # closed: reopen it after a bounded number of bytes' worth of pages.
        per_page = path.stat().st_size / max(1, self.page_count)
        self._pages_per_open = int(min(512, max(8, _PDFIUM_BUDGET / max(1.0, per_page))))
        self._pages_used = 0

    def _document(self) -> Any:
        import pypdfium2 as pdfium

        if self._pdfium is not None and self._pages_used >= self._pages_per_open:
            self._pdfium.close()
            self._pdfium = None
        if self._pdfium is None:
            self._pdfium = pdfium.PdfDocument(str(self.path))
            # before any page is loaded, or filled form fields are neither drawn nor read
            self._pdfium.init_forms()
            self._pages_used = 0
        self._pages_used += 1
        return self._pdfium

    @cached_property
    def flattened(self) -> Flattened | None:
        """The copy whose pages draw their annotations, made when a page with text of its
        own is first read: a scan, and a source only rendered, never pays for it."""
        self._workdir = tempfile.TemporaryDirectory(prefix="sohoa-pdf-")
        return flatten_appearances(self.path, Path(self._workdir.name) / "drawn.pdf")

    def text_layer(self, number: int) -> TextLayer | None:
        from ocr.pdfchars import words_from_chars
        from ocr.pdftext import read_page

        try:
            pdf = self._document()
            page = pdf[number - 1]
            try:
                found = read_page(page)
                fields = _field_values(pdf, page) if found is not None else []
            finally:
                page.close()
        except Exception as exc:  # pdfium reports damage as many kinds of error
            raise ExtractionError(
                ErrorCode.corrupt_pdf, f"page {number}: the text layer cannot be read ({exc})"
            ) from exc
        if found is None:
            return None
        if self.flattened and number in self.flattened.pages:
            # a page with text of its own whose annotations draw more (the number and day of
            # an e-office document): every word where it is drawn, form fields included
            parts = [text_from_words(words_from_chars(self.chars(number))) or found.text]
        else:
            # pdfium's text holds the page's content only: what is typed into the form's
            # fields (drawn by their widgets) is part of the page's text too
            parts = [found.text, *fields]
        # A page with annotations and no characters of its own (a scanned form or a scan
        # with a signature's stamp) is left to OCR of its render, which draws them.
        text = normalize_text("\n".join(parts))
        if not text:
            return None
        return TextLayer(
            text=text,
            char_count=len("".join(text.split())),
            text_area=found.text_area,
            image_area=found.image_area,
            invisible=found.invisible,
            fonts=found.fonts,
            encoding=found.encoding,
        )

    def chars(self, number: int) -> list[dict[str, Any]]:
        """pdfplumber's characters of page `number`, with positions (legacy text decoded).

        Slower than `text_layer` (pdfminer): meant for a few pages, such as the header of
        page 1 for the classifier. The PDF is opened for each call, so nothing accumulates.
        """
        from ocr.pdfchars import page_chars

        try:
            if self.flattened and number in self.flattened.pages:
                return drop_covered_blanks(page_chars(self.flattened.path, number))
            return page_chars(self.path, number)
        except Exception as exc:  # pdfminer raises many types on hostile content streams
            raise ExtractionError(
                ErrorCode.corrupt_pdf, f"page {number}: the text layer cannot be read ({exc})"
            ) from exc

    def render(self, number: int, dpi: int) -> PageImage:
        try:
            page = self._document()[number - 1]
            try:
                width, height = page.get_size()  # points, as displayed (rotation applied)
                if max(width, height) > MAX_PAGE_POINTS:
                    raise ExtractionError(
                        ErrorCode.image_too_large,
                        f"page {number} is {width:.0f}×{height:.0f} points, beyond the "
                        f"largest page a PDF may have ({MAX_PAGE_POINTS} points, 5 m)",
                    )
                scale = render_dpi(page, width, height, dpi) / 72.0
                pixels = width * scale * height * scale
                cap = min(self.max_pixels, _content_pixels(page, width, height))
                if pixels > cap:
                    # A huge sheet (a map, a hostile MediaBox): render fewer dots, not more memory
                    scale *= (cap / pixels) ** 0.5
                if width * scale < 1 or height * scale < 1:
                    raise ExtractionError(ErrorCode.corrupt_pdf, f"page {number} has no area")
                bitmap = page.render(scale=scale, may_draw_forms=True)
                image = _own_rgb(bitmap)
                bitmap.close()
            finally:
                page.close()
        except ExtractionError:
            raise
        except Exception as exc:
            raise ExtractionError(
                ErrorCode.corrupt_pdf, f"page {number} cannot be rendered ({exc})"
            ) from exc
        return PageImage(image=image, dpi=scale * 72.0)

    def close(self) -> None:
        if self._pdfium is not None:
            self._pdfium.close()
            self._pdfium = None
        if self._workdir is not None:
            self._workdir.cleanup()


#: a scan is never rendered below this, however coarse its image (preprocessing enlarges
#: small text where measurements say it helps)
MIN_SCAN_DPI = 100


def _own_rgb(bitmap: Any) -> Image.Image:
    """The rendered bitmap as an RGB image that owns its pixels (the bitmap is closed next).

    pdfium renders an opaque page as BGR: Pillow converts that to RGB into memory of its
    own, and a second copy (4 ms of a 200 dpi page, rendered ~28 ms) would only repeat it.
    Any other layout may share pdfium's buffer and is copied.
    """
    image: Image.Image = bitmap.to_pil()
    if bitmap.mode == "BGR" and image.mode == "RGB":
        return image
    return image.convert("RGB") if image.mode != "RGB" else image.copy()


def render_dpi(page: Any, width: float, height: float, dpi: int) -> float:
    """The resolution to render a page at: a scanned page at its image's own resolution
    (never above `dpi`), anything else at `dpi`.

    Rendering a 200 dpi scan at 300 dpi only interpolates its noise: measured on noisy
    200 dpi scans, 4.3–4.8% CER at 300 dpi against 0.3–0.5% at their own resolution.
    """
    import pypdfium2.raw as pdfium_c

    try:
        native = _scan_dpi(page, width, height, pdfium_c.FPDF_PAGEOBJ_IMAGE)
    except Exception:  # an odd image object only costs the optimisation, never the page
        native = None
    if native is None:
        return float(dpi)
    return float(min(dpi, max(MIN_SCAN_DPI, native)))


#: the largest page side PDF allows (ISO 32000, Annex C: 14,400 units, 200 inches): a page
#: beyond it is no sheet of paper but an attack on the renderer
MAX_PAGE_POINTS = 14_400
#: pixels a page without a scan on it is rendered to at most: an A3 sheet at 300 dpi. Its
#: text and drawings gain nothing from more, and a page of absurd size (a hostile MediaBox of
#: kilometres) costs no more memory than that.
VECTOR_PAGE_PIXELS = 20_000_000


def _content_pixels(page: Any, width: float, height: float) -> float:
    """What rendering the page can gain from: a scanned page its image's own pixels (a
    little more for rounding), anything else `VECTOR_PAGE_PIXELS`."""
    import pypdfium2.raw as pdfium_c

    page_area = max(1e-6, width * height)
    try:
        for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
            left, bottom, right, top = image.get_bounds()
            if abs(right - left) * abs(top - bottom) < 0.5 * page_area:
                continue
            px_w, px_h = image.get_px_size()
            if px_w > 0 and px_h > 0:
                return max(float(VECTOR_PAGE_PIXELS), 1.05 * float(px_w) * float(px_h))
    except Exception:  # an odd image object only costs the bound, never the page
        pass
    return float(VECTOR_PAGE_PIXELS)


def _scan_dpi(page: Any, width: float, height: float, image_kind: int) -> float | None:
    """Resolution of an image covering most of the page, or None when there is none."""
    page_area = max(1e-6, width * height)
    for image in page.get_objects(filter=[image_kind], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        box_w, box_h = abs(right - left), abs(top - bottom)
        if box_w * box_h < 0.5 * page_area:
            continue
        px_w, px_h = image.get_px_size()
        if px_w <= 0 or px_h <= 0:
            continue
        # the larger sides match whichever way the image is turned on the page
        return float(max(px_w, px_h)) / (float(max(box_w, box_h)) / 72.0)
    return None


def _field_values(pdf: Any, page: Any) -> list[str]:
    """The values of the page's visible text and combo-box fields, in widget order."""
    import pypdfium2.raw as pdfium_c

    form = pdf.formenv
    if form is None:
        return []
    hidden = pdfium_c.FPDF_ANNOT_FLAG_HIDDEN | pdfium_c.FPDF_ANNOT_FLAG_NOVIEW
    kinds = (pdfium_c.FPDF_FORMFIELD_TEXTFIELD, pdfium_c.FPDF_FORMFIELD_COMBOBOX)
    values = []
    for index in range(max(0, pdfium_c.FPDFPage_GetAnnotCount(page.raw))):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, index)
        if not annot:
            continue
        try:
            if (
                pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_WIDGET
                and not pdfium_c.FPDFAnnot_GetFlags(annot) & hidden
                and pdfium_c.FPDFAnnot_GetFormFieldType(form.raw, annot) in kinds
            ):
                values.append(_field_value(form.raw, annot))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return [value for value in values if value.strip()]


def _field_value(form: Any, annot: Any) -> str:
    import pypdfium2.raw as pdfium_c

    size = pdfium_c.FPDFAnnot_GetFormFieldValue(form, annot, None, 0)  # bytes, UTF-16LE
    if size <= 2:
        return ""
    buf = ctypes.create_string_buffer(size)
    pdfium_c.FPDFAnnot_GetFormFieldValue(
        form, annot, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)), size
    )
    return buf.raw[: size - 2].decode("utf-16-le", "replace")


def _check_pdf(path: Path) -> int:
    """Page count of a PDF that can really be opened; typed errors for the rest."""
    _check_end(path)
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PasswordError as exc:
        raise ExtractionError(ErrorCode.encrypted_pdf, "the PDF needs a password to open") from exc
    except Exception as exc:  # qpdf could not repair it
        detail = str(exc).replace(str(path), "").strip(" :")  # no server paths in records
        raise _security_error(path, detail) or ExtractionError(
            ErrorCode.corrupt_pdf, f"the PDF cannot be parsed ({detail})"
        ) from exc


def _check_end(path: Path) -> None:
    """Refuse a PDF whose end is missing: an interrupted copy.

    The rule: once trailing padding is set aside (PDF white-space of any length: the NULs and
    blanks that copy tools and scanners append), the last `%%EOF` must lie within the last
    4 KiB, and what follows it must not be PDF syntax (`N 0 obj`, `stream`, `xref`,
    `trailer`...). A short tail of other junk (an e-mail gateway's, an old FTP transfer's)
    is tolerated as every reader does. Objects after the last marker are an update (an edit,
    a signature: each is appended to the file) cut off mid-copy, and qpdf would silently
    read the revision before it: the pages past the cut would be lost without a word.
    """
    tail = _tail_before_padding(path)
    marker = tail.rfind(b"%%EOF")
    if marker < 0:
        raise ExtractionError(ErrorCode.corrupt_pdf, "the PDF is truncated (no end marker)")
    if _UPDATE_SYNTAX.search(tail, marker + len(b"%%EOF")):
        raise ExtractionError(
            ErrorCode.corrupt_pdf,
            "the PDF is truncated (an update appended after its last end marker is cut off)",
        )


def _tail_before_padding(path: Path) -> bytes:
    """The last `_EOF_WINDOW` bytes of the file, trailing padding left out."""
    with path.open("rb") as fh:
        end = fh.seek(0, 2)
        while end > 0:
            start = max(0, end - _BLOCK)
            fh.seek(start)
            kept = len(fh.read(end - start).rstrip(_PADDING))
            end = start + kept
            if kept:
                break
        start = max(0, end - _EOF_WINDOW)
        fh.seek(start)
        return fh.read(end - start)


def _security_error(path: Path, detail: str) -> ExtractionError | None:
    """encrypted_pdf for a file whose security handler qpdf does not support, else None.

    qpdf reports these as damage "(encryption dictionary ...): unsupported encryption
    filter" (certificates, vendors' own handlers) or "Unsupported /R or /V ..." (an
    unpublished algorithm): the file is intact, only locked in a way no password opens.
    """
    if "encryption dictionary" not in detail or "unsupported" not in detail.lower():
        return None
    handler = _security_handler(path)
    if handler == _CERTIFICATE_HANDLER:
        message = (
            "the PDF is encrypted for the holders of certificates (public-key security, "
            f"{handler}): it opens only with the recipient's certificate, not a password"
        )
    elif handler and handler != "Standard":
        message = f"the PDF is locked by a security handler that cannot be opened ({handler})"
    else:
        reason = detail.rsplit("): ", 1)[-1]  # qpdf's words, without its context
        message = f"the PDF is encrypted by a method that cannot be opened ({reason})"
    return ExtractionError(ErrorCode.encrypted_pdf, message)


def _security_handler(path: Path) -> str | None:
    """The /Filter of the last encryption dictionary, read from the file's bytes.

    The encryption dictionary is neither encrypted nor ever inside an object stream
    (ISO 32000-1, 7.5.7), so it can be read when qpdf refuses the file.
    """
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        refs = list(_ENCRYPT_REF.finditer(data))
        if not refs:
            return None
        start = refs[-1].end()
        if refs[-1].group(1) is not None:
            num, gen = refs[-1].group(1), refs[-1].group(2)
            objs = list(re.finditer(rb"(?<!\d)%s\s+%s\s+obj\b" % (num, gen), data))
            if not objs:
                return None
            start = objs[-1].end()
        end = data.find(b"endobj", start, start + _EOF_WINDOW)
        found = _FILTER_NAME.search(data, start, end if end >= 0 else start + _EOF_WINDOW)
        raw = bytes(found[1]) if found else None
    if raw is None:
        return None
    name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw)
    return name.decode("latin-1")
