"""Fonts and line breaking: Liberation Serif (metric-compatible with Times New Roman).

Widths come from the font's own advance widths (reportlab's `stringWidth`), never from a
rasterizer, so line breaks are the same at every dpi and in the PDF.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

Style = Literal["regular", "bold", "italic", "bolditalic"]

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
FONT_FILES: dict[str, str] = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
    "bolditalic": "LiberationSerif-BoldItalic.ttf",
}


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the four Liberation Serif faces with reportlab (once per process)."""
    for style, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(font_name(style), str(FONT_DIR / filename)))


def font_name(style: str) -> str:
    """The reportlab font name of a style."""
    return f"LiberationSerif-{style}"


def text_width(text: str, style: str, size: float) -> float:
    """Advance width of `text` in points."""
    register_fonts()
    return pdfmetrics.stringWidth(text, font_name(style), size)


def wrap(
    text: str, style: str, size: float, width: float, first_width: float | None = None
) -> list[str]:
    """Greedy word wrap; returns the lines. A word wider than the column stays whole."""
    lines: list[str] = []
    current: list[str] = []
    limit = width if first_width is None else first_width
    for word in text.split():
        trial = " ".join([*current, word])
        if current and text_width(trial, style, size) > limit:
            lines.append(" ".join(current))
            current = [word]
            limit = width
        else:
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


def header_wrap(text: str, style: str, size: float, width: float) -> list[str]:
    """Greedy wrap without a one-word last line, as drafters set headers
    (`NGÂN HÀNG NHÀ NƯỚC` / `VIỆT NAM`, not `… NƯỚC VIỆT` / `NAM`)."""
    rows = wrap(text, style, size, width)
    if len(rows) >= 2 and " " not in rows[-1] and rows[-2].count(" ") >= 2:
        head, _, moved = rows[-2].rpartition(" ")
        if text_width(f"{moved} {rows[-1]}", style, size) <= width:
            rows[-2:] = [head, f"{moved} {rows[-1]}"]
    return rows
