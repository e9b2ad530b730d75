"""Decode a pdfium text page run by run: legacy-encoded fonts, partly invisible text.

The characters are walked one by one (each mapped to its text object, hence its font and
visibility) only on pages that need it; ocr.pdftext calls `decode_page_text` for every page.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocr.legacy import TCVN3, detect_legacy, font_encoding, is_capitals_font, to_unicode

_HYPHENATION = "\ufffe"  # pdfium: a soft hyphen ended this line, joined to the next


class TextObject(Protocol):
    font: str  # base font name
    hidden: bool  # drawn invisibly, or under a page image


def address(pointer: Any) -> int:
    """The address a ctypes pointer holds (0 for NULL)."""
    return ctypes.cast(pointer, ctypes.c_void_p).value or 0


def _slow_text_object(handle: int, index: int) -> int | None:
    page = ctypes.cast(handle, pdfium_c.FPDF_TEXTPAGE)
    return address(pdfium_c.FPDFText_GetTextObject(page, index)) or None


def _text_object_function() -> Callable[[int, int], int | None]:
    """FPDFText_GetTextObject(textpage address, index) -> the text object's address.

    A private prototype that returns a plain address: the shared binding returns a ctypes
    pointer, and turning thousands of those into addresses per page costs more than the
    text itself. Falls back to the binding if pypdfium2's library handle moves."""
    try:
        from pypdfium2_raw.bindings import _libs  # where pypdfium2 5 keeps its CDLL

        function = ctypes.CDLL(_libs["pdfium"]._name).FPDFText_GetTextObject
        function.restype = ctypes.c_void_p
        function.argtypes = [ctypes.c_void_p, ctypes.c_int]
        return function
    except (ImportError, KeyError, AttributeError, OSError):
        return _slow_text_object


_text_object = _text_object_function()


def _soft_hyphen(textpage: pdfium.PdfTextPage, index: int, count: int) -> str:
    """What pdfium's U+FFFE at `index` stands for in legacy text: the TCVN3 letter "ư" (byte
    0xAD, the soft hyphen) that ended a line, which pdfium took for a hyphenation and joined
    to the next line. The line break comes back when the next character is on another line."""
    if index + 1 >= count:
        return "\u00ad"
    x0, y0, _, y1 = textpage.get_charbox(index)
    nx0, ny0, _, ny1 = textpage.get_charbox(index + 1)
    height = max(y1 - y0, ny1 - ny0, 1.0)
    new_line = abs(ny0 - y0) > height / 2 or nx0 < x0 - 2 * height
    return "\u00ad\r\n" if new_line else "\u00ad"


def decode_page_text(
    textpage: pdfium.PdfTextPage, text: str, count: int, texts: Mapping[int, TextObject]
) -> tuple[str, str | None, float]:
    """(text with legacy runs decoded, the legacy encoding, share of invisible characters)."""
    hidden = sum(1 for t in texts.values() if t.hidden)
    legacy = {a: font_encoding(t.font) for a, t in texts.items()}
    if len(text) != count:  # pdfium left chars out of its text: take them one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    if not any(legacy.values()) and hidden in (0, len(texts)):
        invisible = 1.0 if texts and hidden == len(texts) else 0.0
        encoding = detect_legacy(text)  # a legacy font under another name: by its characters
        if encoding is None:
            # U+FFFE: a soft hyphen that ended a line; the word is whole without it
            return text.replace(_HYPHENATION, ""), None, invisible
        if encoding == TCVN3 and _HYPHENATION in text:
            text = "".join(
                _soft_hyphen(textpage, i, count) if ch == _HYPHENATION else ch
                for i, ch in enumerate(text)
            )
        return to_unicode(text, encoding), encoding, invisible
    handle = address(textpage.raw)
    runs: list[tuple[int, list[str]]] = []  # (text object address, chars)
    drawn = invisible_chars = 0
    for i, ch in enumerate(text):
        owner = _text_object(handle, i) or (runs[-1][0] if runs else 0)
        obj = texts.get(owner)
        if obj is not None and not ch.isspace():
            drawn += 1
            invisible_chars += obj.hidden
        if ch == _HYPHENATION:
            ch = _soft_hyphen(textpage, i, count) if legacy.get(owner) == TCVN3 else ""
        if runs and runs[-1][0] == owner:
            runs[-1][1].append(ch)
        else:
            runs.append((owner, [ch]))
    return (*_decode_runs(runs, texts, legacy), invisible_chars / max(1, drawn))


def _decode_runs(
    runs: list[tuple[int, list[str]]],
    texts: Mapping[int, TextObject],
    legacy: Mapping[int, str | None],
) -> tuple[str, str | None]:
    # Decide per font, on all of that font's text: a font named like a legacy one whose text
    # already holds Vietnamese letters has a proper Unicode map and is left alone.
    by_font: dict[str, list[str]] = {}
    for owner, chars in runs:
        if legacy.get(owner):
            by_font.setdefault(texts[owner].font, []).extend(chars)
    verdict = {font: detect_legacy("".join(chars), [font]) for font, chars in by_font.items()}
    out: list[str] = []
    used: set[str] = set()
    # Consecutive runs in one font decode together: a VNI mark byte may start a new object.
    merged: list[tuple[str | None, str]] = []
    for owner, chars in runs:
        obj = texts.get(owner)
        font = obj.font if obj is not None and verdict.get(obj.font) else None
        if merged and (merged[-1][0] == font or (font is None and "".join(chars).isspace())):
            merged[-1] = (merged[-1][0], merged[-1][1] + "".join(chars))
        else:
            merged.append((font, "".join(chars)))
    for font, chunk in merged:
        encoding = verdict.get(font) if font else None
        if encoding is None:
            out.append(chunk)
            continue
        used.add(encoding)
        capitals = encoding == TCVN3 and is_capitals_font(font or "")
        out.append(to_unicode(chunk, encoding, capitals=capitals))
    return "".join(out), ("+".join(sorted(used)) or None)
