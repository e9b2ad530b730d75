"""Open a file as a sequence of pages, one page at a time (a 500-page PDF never sits in
memory as 500 images)."""

from __future__ import annotations

import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.errors import ExtractionError
from ocr.sniff import PDF, SUPPORTED
from schemas.errors import ErrorCode

DEFAULT_DPI = 300
_EOF_WINDOW = 4096


@dataclass
class PageImage:
    """A page as pixels, with the resolution they represent."""

    image: Image.Image
    dpi: float


@dataclass
class TextLayer:
    """What a PDF page's own text layer says, with enough layout to judge it."""

    text: str
    char_count: int
    text_area: float  # share of the page covered by the boxes of the characters
    image_area: float  # share of the page covered by images
    chars: list[dict[str, Any]] = field(default_factory=list, repr=False)


class DocumentSource(AbstractContextManager["DocumentSource"]):
    media_type: str
    page_count: int

    def text_layer(self, number: int) -> TextLayer | None:
        """The page's own text (PDF only); None when the page has none."""
        return None

    def render(self, number: int, dpi: int) -> PageImage:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: Path, media_type: str, *, max_pages: int, max_pixels: int) -> DocumentSource:
    """Open a stored original for page-by-page extraction.

    Raises ExtractionError for files that can never be read (corrupt, encrypted, too big).
    """
    if media_type not in SUPPORTED:
        raise ExtractionError(ErrorCode.unsupported_type, f"cannot extract {media_type}")
    if path.stat().st_size == 0:
        raise ExtractionError(ErrorCode.empty_file, "the file has no bytes")
    source: DocumentSource
    if media_type == PDF:
        source = PdfSource(path, max_pixels=max_pixels)
    else:
        source = ImageSource(path, media_type, max_pixels=max_pixels)
    if source.page_count == 0:
        source.close()
        raise ExtractionError(ErrorCode.no_pages, "the file has no pages")
    if source.page_count > max_pages:
        count = source.page_count
        source.close()
        raise ExtractionError(
            ErrorCode.too_many_pages, f"{count} pages, more than the limit of {max_pages}"
        )
    return source


class PdfSource(DocumentSource):
    media_type = PDF

    def __init__(self, path: Path, *, max_pixels: int) -> None:
        self.path = path
        self.max_pixels = max_pixels
        self.page_count = _check_pdf(path)
        self._plumber: Any = None
        self._pdfium: Any = None

    def text_layer(self, number: int) -> TextLayer | None:
        import pdfplumber

        if self._plumber is None:
            self._plumber = pdfplumber.open(self.path)
        page = self._plumber.pages[number - 1]
        try:
            chars = [c for c in page.chars if c.get("text", "").strip()]
            if not chars:
                return None
            text = page.extract_text() or ""
            page_area = float(page.width * page.height) or 1.0
            text_area = sum(
                max(0.0, float(c["x1"] - c["x0"])) * max(0.0, float(c["bottom"] - c["top"]))
                for c in chars
            )
            image_area = sum(
                max(0.0, float(i["x1"] - i["x0"])) * max(0.0, float(i["bottom"] - i["top"]))
                for i in page.images
            )
            return TextLayer(
                text=normalize_text(text),
                char_count=len(chars),
                text_area=min(1.0, text_area / page_area),
                image_area=min(1.0, image_area / page_area),
                chars=chars,
            )
        except Exception as exc:  # pdfminer raises many types on hostile content streams
            raise ExtractionError(
                ErrorCode.corrupt_pdf, f"page {number}: the text layer cannot be read ({exc})"
            ) from exc
        finally:
            page.close()

    def render(self, number: int, dpi: int) -> PageImage:
        import pypdfium2 as pdfium

        try:
            if self._pdfium is None:
                self._pdfium = pdfium.PdfDocument(str(self.path))
            page = self._pdfium[number - 1]
            try:
                width, height = page.get_size()  # points, as displayed (rotation applied)
                scale = dpi / 72.0
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
        if self._plumber is not None:
            self._plumber.close()
            self._plumber = None
        if self._pdfium is not None:
            self._pdfium.close()
            self._pdfium = None


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


class ImageSource(DocumentSource):
    """JPEG, PNG and TIFF (every frame of a multi-page TIFF is a page)."""

    def __init__(self, path: Path, media_type: str, *, max_pixels: int) -> None:
        self.path = path
        self.media_type = media_type
        self.max_pixels = max_pixels
        self._image = _open_image(path, max_pixels)
        self.page_count = getattr(self._image, "n_frames", 1)

    def render(self, number: int, dpi: int) -> PageImage:
        img = self._image
        try:
            img.seek(number - 1)
            width, height = img.size
            if width * height > self.max_pixels:
                raise ExtractionError(
                    ErrorCode.image_too_large,
                    f"page {number} is {width}×{height} pixels, more than {self.max_pixels}",
                )
            frame = img.copy()
            frame.load()
        except ExtractionError:
            raise
        except Image.DecompressionBombError as exc:
            raise ExtractionError(ErrorCode.image_too_large, str(exc)) from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ExtractionError(
                ErrorCode.corrupt_image, f"page {number} cannot be decoded ({exc})"
            ) from exc
        if number == 1:
            frame = ImageOps.exif_transpose(frame)  # phone photos are stored sideways
        return PageImage(image=_to_rgb(frame), dpi=image_dpi(img))

    def close(self) -> None:
        self._image.close()


def _open_image(path: Path, max_pixels: int) -> Image.Image:
    # Pillow's own bomb guard, at our limit (it refuses at twice its setting)
    Image.MAX_IMAGE_PIXELS = max_pixels // 2
    try:
        img = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ExtractionError(ErrorCode.image_too_large, str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError(ErrorCode.corrupt_image, "the image cannot be decoded") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ExtractionError(
            ErrorCode.corrupt_image, f"the image cannot be opened ({exc})"
        ) from exc
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ExtractionError(
            ErrorCode.image_too_large,
            f"{width}×{height} pixels, more than the limit of {max_pixels}",
        )
    return img


def image_dpi(img: Image.Image) -> float:
    """The resolution the image claims, or 300 when it claims none or nonsense."""
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value if 50 <= value <= 2400 else float(DEFAULT_DPI)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        return ImageOps.autocontrast(img.convert("L"))
    return img.convert("RGB")


def normalize_text(text: str) -> str:
    """NFC, no form feeds (they separate pages in the record), no trailing spaces."""
    text = unicodedata.normalize("NFC", text).replace("\f", "\n").replace("\r\n", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)
