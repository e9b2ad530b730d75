"""The one place that runs Tesseract. Failures become ExtractionError(ocr_failed)."""

from __future__ import annotations

import os
import tempfile
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


@dataclass(frozen=True)
class Recognized:
    text: str
    hocr: str


def recognize(image: Image.Image, *, lang: str, dpi: float, psm: int = 3) -> Recognized:
    """OCR one page image: plain text and hOCR (word boxes, confidences) in a single run."""
    # Write an uncompressed image ourselves: PNG compression of a 300 dpi page costs more
    # than a tenth of the OCR time and Tesseract would only decompress it again.
    grey = image if image.mode == "L" else image.convert("L")
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        path = Path(tmp) / "page.pgm"
        grey.save(path, format="PPM")
        out = Path(tmp) / "page"
        try:
            pytesseract.pytesseract.run_tesseract(
                str(path),
                str(out),
                extension="hocr txt",
                lang=lang,
                config=f"--dpi {round(dpi)} --psm {psm}",
                timeout=PAGE_TIMEOUT_S,
            )
            hocr = (Path(tmp) / "page.hocr").read_text(encoding="utf-8", errors="replace")
            text = (Path(tmp) / "page.txt").read_text(encoding="utf-8", errors="replace")
        except pytesseract.TesseractNotFoundError as exc:
            raise RuntimeError("tesseract is not installed (Debian: tesseract-ocr)") from exc
        except (pytesseract.TesseractError, RuntimeError, OSError) as exc:
            raise ExtractionError(ErrorCode.ocr_failed, f"tesseract failed: {exc}") from exc
    return Recognized(text=text, hocr=hocr)
