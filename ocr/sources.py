"""Open a file as a sequence of pages, one page at a time (a 500-page PDF never sits in
memory as 500 images)."""

from __future__ import annotations

import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.errors import ExtractionError
from ocr.sniff import PDF, SUPPORTED
from schemas.errors import ErrorCode

DEFAULT_DPI = 300


@dataclass
class PageImage:
    """A page as pixels, with the resolution they represent."""

    image: Image.Image
    dpi: float


@dataclass
class TextLayer:
    """What a PDF page's own text layer says, with enough layout to judge it."""

    text: str  # NFC; legacy 8-bit encodings (TCVN3, VNI) already decoded
    char_count: int  # characters other than white space
    text_area: float  # share of the page inside the boxes of the text's lines
    image_area: float  # share of the page covered by images
    chars: list[dict[str, Any]] = field(default_factory=list, repr=False)  # PdfSource.chars
    invisible: float = 0.0  # share of the characters drawn invisibly or under a page image
    fonts: tuple[str, ...] = ()  # base font names of the text
    encoding: str | None = None  # "tcvn3" or "vni" when the text was decoded from one


class DocumentSource(AbstractContextManager["DocumentSource"]):
    media_type: str
    page_count: int

    def text_layer(self, number: int) -> TextLayer | None:
        """The page's own text (PDF only); None when the page has none."""
        return None

    def chars(self, number: int) -> list[dict[str, Any]]:
        """The page's own characters with their positions (pdfplumber's dicts; PDF only)."""
        return []

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
        from ocr.pdfsource import PdfSource  # it builds on the classes above

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
