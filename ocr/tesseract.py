"""The one place that runs Tesseract. Failures become ExtractionError(ocr_failed)."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytesseract
from PIL import Image

from ocr.errors import ExtractionError
from schemas.errors import ErrorCode

#: one page should never take this long; a hung engine must not hold a worker forever
PAGE_TIMEOUT_S = 600

# One core per Tesseract process: the pipeline runs one page per core, and OpenMP threads
# inside each process only fight over the same cores.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


#: resolution orientation detection runs at: its confidence is as good as at 300 dpi, and
#: the page has a quarter of the pixels
OSD_DPI = 150.0
_OSD_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_OSD_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)


@dataclass(frozen=True)
class Recognized:
    text: str
    hocr: str


@dataclass(frozen=True)
class Osd:
    """Tesseract's orientation detection: `rotate` is the clockwise turn that makes the
    page upright; `confidence` is Tesseract's (about 1 is a guess, 10 or more is sure)."""

    rotate: int
    confidence: float


def _write_grey(image: Image.Image, path: Path) -> None:
    """`image` in grey as an uncompressed TIFF: what Tesseract reads fastest.

    PNG compression of a 300 dpi page costs more than a tenth of the OCR time, and
    Tesseract would only decompress it again. Leptonica reads a PGM slowly: on 56 scanned
    pages Tesseract took 5 % more CPU from PGM than from a raw TIFF of the same pixels
    (~40 ms a page; the same words and boxes).
    """
    grey = image if image.mode == "L" else image.convert("L")
    grey.save(path, format="TIFF", compression="raw")


def _run(image: Image.Image, extension: str, lang: str, config: str) -> dict[str, str]:
    """Run Tesseract on `image` (written in grey, uncompressed); the output files' text by
    extension."""
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        path = Path(tmp) / "page.tif"
        _write_grey(image, path)
        return _tesseract(path, Path(tmp) / "page", extension, lang, config)


def _tesseract(source: Path, out: Path, extension: str, lang: str, config: str) -> dict[str, str]:
    """Run Tesseract on `source` (an image, or a .txt list of images); the output files'
    text by extension (`out` + `.ext`)."""
    try:
        pytesseract.pytesseract.run_tesseract(
            str(source), str(out), extension=extension, lang=lang, config=config,
            timeout=PAGE_TIMEOUT_S,
        )  # fmt: skip
        return {
            ext: out.with_name(f"{out.name}.{ext}").read_text(encoding="utf-8", errors="replace")
            for ext in extension.split()
        }
    except pytesseract.TesseractNotFoundError as exc:
        raise RuntimeError("tesseract is not installed (Debian: tesseract-ocr)") from exc
    except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
        raise ExtractionError(ErrorCode.ocr_failed, f"tesseract failed: {exc}") from exc


def recognize(image: Image.Image, *, lang: str, dpi: float, psm: int = 3) -> Recognized:
    """OCR one page image: plain text and hOCR (word boxes, confidences) in a single run."""
    out = _run(image, "hocr txt", lang, f"--dpi {round(dpi)} --psm {psm}")
    return Recognized(text=out["txt"], hocr=out["hocr"])


def detect_orientation(image: Image.Image, *, dpi: float) -> Osd | None:
    """Tesseract's OSD on a copy reduced to about OSD_DPI; None when it cannot tell (too
    few letters) or fails."""
    factor = max(1, round(dpi / OSD_DPI))
    small = image.reduce(factor) if factor > 1 else image
    try:
        out = _run(small, "osd", "osd", f"--dpi {round(dpi / factor)} --psm 0")["osd"]
    except ExtractionError:
        return None  # "Too few characters": a blank or a picture page; nothing to turn
    rotate, confidence = _OSD_ROTATE.search(out), _OSD_CONFIDENCE.search(out)
    if rotate is None or confidence is None:
        return None
    return Osd(int(rotate.group(1)) % 360, float(confidence.group(1)))


def read_words_each(
    images: list[Image.Image], *, lang: str, dpi: float, psm: int
) -> list[list[tuple[str, float]]]:
    """The words (text, confidence 0–1) of each of several small images, read by one
    Tesseract process (a list file of images): the language model is loaded once, not once
    per image, which is most of the cost of reading a line."""
    if not images:
        return []
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        listing = []
        for i, image in enumerate(images):
            path = Path(tmp) / f"{i:03d}.tif"
            _write_grey(image, path)
            listing.append(str(path))
        names = Path(tmp) / "images.txt"
        names.write_text("\n".join(listing) + "\n", encoding="utf-8")
        # pytesseract passes no `tsv` argument: TSV is asked for by its variable
        config = f"--dpi {round(dpi)} --psm {psm} -c tessedit_create_tsv=1"
        rows = _tesseract(names, Path(tmp) / "words", "tsv", lang, config)["tsv"]
    found: list[list[tuple[str, float]]] = [[] for _ in images]
    for line in rows.splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue  # level 5: a word
        page = int(cells[1]) - 1
        if 0 <= page < len(found):
            word = unicodedata.normalize("NFC", cells[11])
            found[page].append((word, max(0.0, float(cells[10])) / 100))
    return found
