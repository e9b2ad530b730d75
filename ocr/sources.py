"""Open a file as a sequence of pages, one page at a time (a 500-page PDF never sits in
memory as 500 images)."""

from __future__ import annotations

import struct
import unicodedata
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.errors import ExtractionError
from ocr.sniff import PDF, SUPPORTED
from schemas.errors import ErrorCode

DEFAULT_DPI = 300
#: formats whose every frame is a page. Other formats may hold more frames that are no
#: pages: a phone's JPEG (MPO) carries previews and depth maps, an APNG its animation.
PAGED_FORMATS = frozenset({"TIFF"})
#: what Pillow and its plugins raise on damaged data: a truncated or malformed file shows
#: up as any of these depending on where the damage falls (UnidentifiedImageError is an
#: OSError; ZeroDivisionError and OverflowError are ArithmeticErrors)
DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
    SyntaxError,
    EOFError,
    struct.error,
)
_SIXTEEN_BIT_GREY = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


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
    """JPEG, PNG and TIFF: every frame of a multi-page TIFF is a page, the first frame of
    anything else is the only page (see `page_frames`).

    A file that cannot be opened, counted or decoded raises ExtractionError
    (`corrupt_image`, or `image_too_large`), never Pillow's own exceptions. A multi-page
    TIFF damaged after its first pages fails as a whole, naming the first bad page: an
    archive record silently shorter than the paper is worse than a refusal. Frames are
    counted from their directories when the file is opened; damage inside a later page's
    pixels is found when that page is read, and fails the file the same way.
    """

    def __init__(self, path: Path, media_type: str, *, max_pixels: int) -> None:
        self.path = path
        self.media_type = media_type
        self.max_pixels = max_pixels
        self._image = _open_image(path, max_pixels)
        try:
            self.page_count = page_frames(self._image)
        except BaseException:
            self._image.close()
            raise

    def render(self, number: int, dpi: int) -> PageImage:
        if not 1 <= number <= self.page_count:  # a JPEG's preview frame is no page
            raise ExtractionError(
                ErrorCode.corrupt_image, f"no page {number}: the image has {self.page_count}"
            )
        img = self._image
        try:
            img.seek(number - 1)
            _check_pixels(img, self.max_pixels, f"page {number} is ")
            frame = img.copy()
            frame.load()
            if number == 1:
                frame = upright(frame)  # phone photos are stored sideways
            page = PageImage(image=_to_rgb(frame), dpi=image_dpi(img))
        except ExtractionError:
            raise
        except Image.DecompressionBombError as exc:
            raise ExtractionError(ErrorCode.image_too_large, str(exc)) from exc
        except DECODE_ERRORS as exc:
            raise ExtractionError(
                ErrorCode.corrupt_image, f"page {number} cannot be decoded ({exc})"
            ) from exc
        return page

    def close(self) -> None:
        self._image.close()


def _open_image(path: Path, max_pixels: int) -> Image.Image:
    # Pillow's own bomb guard, at our limit (it refuses at twice its setting)
    Image.MAX_IMAGE_PIXELS = max_pixels // 2
    try:
        img = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ExtractionError(ErrorCode.image_too_large, str(exc)) from exc
    except UnidentifiedImageError as exc:  # its message names the stored file's path
        raise ExtractionError(ErrorCode.corrupt_image, "the image cannot be decoded") from exc
    except DECODE_ERRORS as exc:
        raise ExtractionError(
            ErrorCode.corrupt_image, f"the image cannot be opened ({exc})"
        ) from exc
    try:
        _check_pixels(img, max_pixels, "")
    except ExtractionError:
        img.close()
        raise
    return img


def _check_pixels(img: Image.Image, max_pixels: int, what: str) -> None:
    width, height = img.size
    if width * height > max_pixels:
        raise ExtractionError(
            ErrorCode.image_too_large,
            f"{what}{width}×{height} pixels, more than the limit of {max_pixels}",
        )


def page_frames(img: Image.Image) -> int:
    """How many pages the open image holds: every frame of a TIFF, one for other formats.

    The TIFF's frames are walked one by one, so damage is reported with the page it hits
    (ExtractionError `corrupt_image`); the image is left on its first frame.
    """
    if img.format not in PAGED_FORMATS:
        return 1
    count = 1
    try:
        while True:
            img.seek(count)  # reads and checks that frame's directory, not its pixels
            count += 1
    except EOFError:
        pass  # the end of the chain of frames
    except Image.DecompressionBombError as exc:
        raise ExtractionError(ErrorCode.image_too_large, f"page {count + 1}: {exc}") from exc
    except DECODE_ERRORS as exc:
        raise ExtractionError(
            ErrorCode.corrupt_image,
            f"page {count + 1} of the TIFF cannot be read ({type(exc).__name__}: {exc}); "
            f"the file is damaged after page {count}",
        ) from exc
    _rewind(img)
    return count


def _rewind(img: Image.Image) -> None:
    try:
        img.seek(0)
    except DECODE_ERRORS as exc:
        raise ExtractionError(
            ErrorCode.corrupt_image, f"page 1 cannot be read again ({exc})"
        ) from exc


def upright(img: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; as it is when the EXIF is unreadable
    (damaged metadata is no reason to refuse pixels that decode)."""
    try:
        return ImageOps.exif_transpose(img)
    except DECODE_ERRORS:
        return img


def to_8bit(img: Image.Image) -> Image.Image:
    """A 16- or 32-bit grey image as 8-bit "L", its range scaled rather than clipped.

    Pillow's own conversion clips at 255, so a 16-bit page (paper at ~58000 of 65535)
    would turn white. 16-bit images are scaled from their full range, as viewers show them;
    32-bit integer and float ones from the range their values use (see `_grey_range`).
    """
    if img.mode in _SIXTEEN_BIT_GREY:
        # Integer shift on the 2-byte samples: no 4-byte copy of a large master.
        top = np.right_shift(np.asarray(img), 8).astype(np.uint8)
        grey = Image.fromarray(top)
        grey.info = dict(img.info)
        return grey
    low, high = _grey_range(img)
    if (low, high) == (0.0, 255.0):
        return img.convert("L")
    factor = 255.0 / (high - low)
    return img.point(lambda v: (v - low) * factor).convert("L")


def _grey_range(img: Image.Image) -> tuple[float, float]:
    """The range a 32-bit ("I") or float ("F") grey image's values are meant in: 8-bit,
    16-bit, 0–1 (floats), or else the values' own minimum and maximum."""
    extrema: Any = img.getextrema()  # (min, max) for a one-band image
    low, high = float(extrema[0]), float(extrema[1])
    if low >= 0.0 and img.mode == "F" and high <= 1.0:
        return 0.0, 1.0
    if low >= 0.0 and high <= 255.0:
        return 0.0, 255.0
    if low >= 0.0 and high <= 65535.0:
        return 0.0, 65535.0
    return low, max(high, low + 1.0)


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
    if img.mode in _SIXTEEN_BIT_GREY or img.mode in ("I", "F"):
        return to_8bit(img)
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
