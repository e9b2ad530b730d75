"""Judge a PDF page's own text layer: is it the page's real text, or something to OCR over?

Scanned PDFs often carry a layer that is not the page: only the stamp of a digital signature
("Ký bởi: …") over a page image, a few words over a mostly-image page, or text whose font has
no Unicode map (mojibake, `(cid:12)`). Those pages are OCRed instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ocr.sources import TextLayer

#: lines a digital-signature tool stamps on a scanned page (Vietnamese government CA tools)
_SIGNATURE_LINE = re.compile(
    r"^\s*(ký bởi|người ký|ky boi|nguoi ky|signed by|email|e-mail|cơ quan|co quan|"
    r"chức vụ|thời gian ký|thoi gian ky|ngày ký|date|time|reason|location)\b",
    re.IGNORECASE,
)
_CID = re.compile(r"\(cid:\d+\)")

#: at least this many meaningful characters for a layer to stand for a page
MIN_CHARS = 40
#: a page mostly covered by an image whose text covers less than this share is a scan
MIN_TEXT_AREA_ON_IMAGE = 0.02
MAX_BAD_CHAR_RATIO = 0.05


@dataclass(frozen=True)
class Verdict:
    usable: bool
    reason: str


def judge(layer: TextLayer | None) -> Verdict:
    if layer is None or not layer.text.strip():
        return Verdict(False, "no text layer")
    if _CID.search(layer.text):
        return Verdict(False, "glyphs without a Unicode map")
    content = [
        line for line in layer.text.splitlines() if line.strip() and not _SIGNATURE_LINE.match(line)
    ]
    meaningful = sum(1 for ch in "".join(content) if ch.isalnum())
    if meaningful < MIN_CHARS:
        return Verdict(False, "too little text (a signature stamp or a label)")
    if layer.image_area > 0.5 and layer.text_area < MIN_TEXT_AREA_ON_IMAGE:
        return Verdict(False, "text covers a small part of a page that is mostly image")
    bad = sum(1 for ch in layer.text if _is_bad_char(ch))
    if bad / max(1, len(layer.text)) > MAX_BAD_CHAR_RATIO:
        return Verdict(False, "text looks like mojibake")
    return Verdict(True, "text layer holds the page's text")


def _is_bad_char(ch: str) -> bool:
    """Characters that do not occur in Vietnamese documents but do in mis-decoded 8-bit
    fonts (TCVN3, VNI read as Latin-1) or broken maps."""
    if ch in "\n\t ":
        return False
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Co", "Cn", "Cs") or ch == "\ufffd":
        return True
    if cat.startswith("L"):
        base = unicodedata.normalize("NFD", ch)[0]
        return not ("a" <= base.lower() <= "z" or base in "đĐ") and not ch.isascii()
    return ch in "©®¬¨µ¶·¸¹º»¼½¾¿×÷¤¦§ª«°±²³´"
