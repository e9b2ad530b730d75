"""Helpers for tests of searchable PDFs: made-up hOCR, qpdf's check, rendering."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from ocr.hocr import HocrPage, Line, Word


def fake_hocr(text: str, width: int, height: int) -> HocrPage:
    """Word boxes for the lines of `text`, one line under the other."""
    lines = []
    for row, line in enumerate(t for t in text.splitlines() if t.strip()):
        y0 = 100 + row * 40
        words, x = [], 100
        for word in line.split():
            words.append(Word(word, (x, y0, x + 18 * len(word), y0 + 30), 0.9))
            x += 18 * len(word) + 12
        lines.append(Line((100, y0, max(x, 101), y0 + 30), (0.0, -5.0), words))
    return HocrPage(width, height, lines)


def qpdf_check(path: Path) -> None:
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf not installed")
    done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def render(path: Path) -> Image.Image:
    """Page 1 at 72 dpi."""
    doc = pdfium.PdfDocument(str(path))
    try:
        return doc[0].render(scale=1).to_pil().convert("RGB")
    finally:
        doc.close()
