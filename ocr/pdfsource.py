"""PDF pages: the text layer and rendering with pdfium, characters with pdfplumber."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pikepdf

from ocr.errors import ExtractionError
from ocr.sniff import PDF
from ocr.sources import DocumentSource, PageImage, TextLayer, normalize_text
from schemas.errors import ErrorCode

_EOF_WINDOW = 4096
#: bytes of the file's pages that pdfium may hold before the document is reopened
_PDFIUM_BUDGET = 64 * 2**20


class PdfSource(DocumentSource):
    """A PDF read with pdfium (text layers, rendering); pdfplumber only for `chars`."""

    media_type = PDF

    def __init__(self, path: Path, *, max_pixels: int) -> None:
        self.path = path
        self.max_pixels = max_pixels
        self.page_count = _check_pdf(path)
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
            self._pages_used = 0
        self._pages_used += 1
        return self._pdfium

    def text_layer(self, number: int) -> TextLayer | None:
        from ocr.pdftext import read_page

        try:
            page = self._document()[number - 1]
            try:
                found = read_page(page)
            finally:
                page.close()
        except Exception as exc:  # pdfium reports damage as many kinds of error
            raise ExtractionError(
                ErrorCode.corrupt_pdf, f"page {number}: the text layer cannot be read ({exc})"
            ) from exc
        if found is None:
            return None
        text = normalize_text(found.text)
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
                scale = render_dpi(page, width, height, dpi) / 72.0
                pixels = width * scale * height * scale
                if pixels > self.max_pixels:
                    # A huge sheet (a map, a hostile MediaBox): render fewer dots, not more memory
                    scale *= (self.max_pixels / pixels) ** 0.5
                if width * scale < 1 or height * scale < 1:
                    raise ExtractionError(ErrorCode.corrupt_pdf, f"page {number} has no area")
                bitmap = page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil().convert("RGB")
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


#: a scan is never rendered below this, however coarse its image (preprocessing enlarges
#: small text where measurements say it helps)
MIN_SCAN_DPI = 100


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
        return max(px_w, px_h) / (max(box_w, box_h) / 72.0)
    return None


def _check_pdf(path: Path) -> int:
    """Page count of a PDF that can really be opened; typed errors for the rest."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - _EOF_WINDOW))
        tail = fh.read()
    if b"%%EOF" not in tail:
        # An interrupted copy: the pages past the cut are gone, and reading the rest as if
        # it were the whole document would lose them silently.
        raise ExtractionError(ErrorCode.corrupt_pdf, "the PDF is truncated (no end marker)")
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except pikepdf.PasswordError as exc:
        raise ExtractionError(ErrorCode.encrypted_pdf, "the PDF needs a password to open") from exc
    except Exception as exc:  # qpdf could not repair it
        detail = str(exc).replace(str(path), "").strip(" :")  # no server paths in records
        raise ExtractionError(
            ErrorCode.corrupt_pdf, f"the PDF cannot be parsed ({detail})"
        ) from exc
