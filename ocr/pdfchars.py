"""Characters of a PDF page with their positions (pdfplumber), legacy encodings decoded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pdfplumber
from pdfplumber.utils.text import extract_words

from ocr.legacy import decode_each, detect_legacy, font_encoding, is_capitals_font

Char = dict[str, Any]


def page_chars(path: Path, number: int) -> list[Char]:
    """pdfplumber's `chars` of page `number` (1-based), text decoded from TCVN3/VNI fonts.

    Opens the PDF for this one page: pdfminer caches every object it parses, so a document
    kept open grows with each page read.
    """
    with pdfplumber.open(path, pages=[number]) as pdf:
        page = pdf.pages[0]
        try:
            chars = [dict(c) for c in page.chars]
        finally:
            page.close()
    return decode_chars(chars)


def _font(char: Char) -> str:
    name = str(char.get("fontname", ""))
    return name.split("+", 1)[1] if name[6:7] == "+" else name


def decode_chars(chars: list[Char]) -> list[Char]:
    """Decode the text of characters drawn in legacy fonts, one character dict per letter.

    A VNI mark byte (the tone after its vowel) is merged into the vowel's dict, whose box
    then spans both.
    """
    by_font: dict[str, list[str]] = {}
    for char in chars:
        if font_encoding(_font(char)):
            by_font.setdefault(_font(char), []).append(str(char.get("text", "")))
    encodings = {font: detect_legacy("".join(t), [font]) for font, t in by_font.items()}
    if not any(encodings.values()):
        return chars
    out: list[Char] = []
    run: list[Char] = []  # consecutive characters in one legacy font

    def flush() -> None:
        if not run:
            return
        font = _font(run[0])
        encoding = encodings[font]
        assert encoding is not None
        texts = [str(c.get("text", "")) for c in run]
        for char, text in zip(run, decode_each(texts, encoding, capitals=is_capitals_font(font)),
                              strict=True):  # fmt: skip
            if text:
                out.append({**char, "text": text})
            elif out:  # a VNI mark: widen its letter's box over it
                x1 = max(out[-1]["x1"], char["x1"])
                out[-1] = {**out[-1], "x1": x1, "width": x1 - out[-1]["x0"]}
        run.clear()

    for char in chars:
        if encodings.get(_font(char)):
            if run and _font(run[0]) != _font(char):
                flush()
            run.append(char)
        else:
            flush()
            out.append(char)
    flush()
    return out


def words_from_chars(chars: list[Char]) -> list[dict[str, Any]]:
    """Words with their boxes (x0, top, x1, bottom in points, y down) from page characters."""
    return [
        {k: w[k] for k in ("text", "x0", "top", "x1", "bottom")}
        for w in extract_words(chars, keep_blank_chars=False, use_text_flow=False)
        if w["text"].strip()
    ]
