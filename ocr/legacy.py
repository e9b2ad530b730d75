"""Vietnamese text in the 8-bit encodings of old Word files: TCVN3 (ABC) and VNI.

Such fonts draw Vietnamese letters at byte values whose Windows meaning is something else, so a
PDF text layer made from them reads as mojibake (`Uû ban nh©n d©n` for `Uỷ ban nhân dân`).

TCVN3 is TCVN 5712:1993, table VN3: one byte per letter, lower case only, plus the seven
capitals Ă Â Ê Ô Ơ Ư Đ. Capitals with tone marks live in separate fonts whose names end in
"H" (`.VnTimeH`), where the lower-case codes are drawn as capitals. The remaining code points
of the full table (VN1) that hold capitals are decoded too, except 0x80–0x9F, which VN3 leaves
to Windows punctuation (smart quotes and dashes that Word puts there).

VNI (VNI for Windows, fonts `VNI-Times`, `VNI-Helve`, ...): a base letter followed by one byte
for its marks (`a` + `ù` is `á`, `a` + `á` is `ấ`), and single bytes for ơ ư đ and the toned i
and ỵ.

The tables below are written from those definitions; decoding yields Unicode NFC.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from ocr.vietnamese import LETTERS, TONES, profile

TCVN3 = "tcvn3"
VNI = "vni"

# --- TCVN3 ------------------------------------------------------------------------------

# Per vowel: its own code (None for a plain ASCII vowel), then its codes with the tone marks
# in TCVN3 order: grave, hook, tilde, acute, dot below.
_VN3_ROWS: dict[str, tuple[int | None, tuple[int, int, int, int, int]]] = {
    "a": (None, (0xB5, 0xB6, 0xB7, 0xB8, 0xB9)),
    "ă": (0xA8, (0xBB, 0xBC, 0xBD, 0xBE, 0xC6)),
    "â": (0xA9, (0xC7, 0xC8, 0xC9, 0xCA, 0xCB)),
    "e": (None, (0xCC, 0xCE, 0xCF, 0xD0, 0xD1)),
    "ê": (0xAA, (0xD2, 0xD3, 0xD4, 0xD5, 0xD6)),
    "i": (None, (0xD7, 0xD8, 0xDC, 0xDD, 0xDE)),
    "o": (None, (0xDF, 0xE1, 0xE2, 0xE3, 0xE4)),
    "ô": (0xAB, (0xE5, 0xE6, 0xE7, 0xE8, 0xE9)),
    "ơ": (0xAC, (0xEA, 0xEB, 0xEC, 0xED, 0xEE)),
    "u": (None, (0xEF, 0xF1, 0xF2, 0xF3, 0xF4)),
    "ư": (0xAD, (0xF5, 0xF6, 0xF7, 0xF8, 0xF9)),
    "y": (None, (0xFA, 0xFB, 0xFC, 0xFD, 0xFE)),
}
# Capitals of the full table (VN1) outside 0x80-0x9F, and the five combining tone marks.
_VN1_EXTRA = {
    0x01: "Ú", 0x02: "Ụ", 0x04: "Ừ", 0x05: "Ử", 0x06: "Ữ", 0x11: "Ứ", 0x12: "Ự", 0x13: "Ỳ",
    0x14: "Ỷ", 0x15: "Ỹ", 0x16: "Ý", 0x17: "Ỵ", 0xAF: "Ằ", 0xBA: "Ẳ", 0xBF: "Ẵ", 0xC0: "Ắ",
    0xC1: "Ầ", 0xC2: "Ẩ", 0xC3: "Ẫ", 0xC4: "Ấ", 0xC5: "Ề", 0xCD: "Ể", 0xD9: "Ễ", 0xDA: "Ế",
    0xDB: "Ồ", 0xE0: "Ổ", 0xF0: "Ỗ", 0xFF: "Ố",
    0xB0: "\u0300", 0xB1: "\u0309", 0xB2: "\u0303", 0xB3: "\u0301", 0xB4: "\u0323",
}  # fmt: skip


def _tcvn3_table() -> dict[int, str]:
    table: dict[int, str] = {0xAE: "đ", 0xA7: "Đ"}
    for caps, lower in zip(range(0xA1, 0xA7), "ăâêôơư", strict=True):
        table[caps] = lower.upper()
    for vowel, (own, toned) in _VN3_ROWS.items():
        if own is not None:
            table[own] = vowel
        for code, tone in zip(toned, TONES, strict=True):
            table[code] = unicodedata.normalize("NFC", vowel + tone)
    table.update(_VN1_EXTRA)
    return table


_TCVN3 = {chr(code): text for code, text in _tcvn3_table().items()}
#: characters that TCVN3 text shows when read as Windows-1252 and Unicode text almost never has
_TCVN3_MARKS = frozenset(chr(c) for c in range(0xA1, 0xC0)) - frozenset("°±²³´·º»¼½¾¿«")
# TCVN3 "ư" is 0xAD, the soft hyphen, which some readers turn into a plain hyphen. Inside a
# word it is the letter: after up to three consonants at a word's start ("n-íc", "t-", "§-îc"), or
# starting a word before a letter ("-u tiªn"); spaced dashes and "KH-UBND" stay dashes.
_HYPHEN_U = re.compile(
    r"(?<![^\s(\[\"'\u201c\u2018])((?i:[bcdghklmnpqrstvx\u00ae\u00a7]){1,3})-"
    r"(?=[a-z\u00a0-\u00ff]|[\s.,;:!?)\u201d\u2019]|$)"
    r"|(?<![^\s(\[\"'\u201c\u2018])()-(?=[a-z\u00a0-\u00ff])"
)


def _decode_tcvn3(text: str, capitals: bool) -> str:
    if "-" in text:
        text = _HYPHEN_U.sub(lambda m: (m.group(1) or "") + "\u00ad", text)
    out = "".join(_TCVN3.get(ch, ch) for ch in text)
    return out.upper() if capitals else out


# --- VNI --------------------------------------------------------------------------------

_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
# Mark bytes that follow a base letter (lower-case form; capitals follow the same pattern).
_VNI_TONE = {"ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_CIRCUMFLEX = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_VNI_BREVE = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}
# Letters that are one byte on their own.
_VNI_SINGLE = {
    "ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
}  # fmt: skip
_VNI_MARKS = frozenset("øûïäåüëæîöñ")  # VNI bytes that are not Vietnamese letters themselves


def _vni_marks(base: str, mark: str) -> str | None:
    """Combining marks that `mark` adds to `base` (both lower-case), or None."""
    if base in "aeouyơư" and mark in _VNI_TONE:
        return _VNI_TONE[mark]
    if base in "aeo" and mark in _VNI_CIRCUMFLEX:
        return _CIRCUMFLEX + _VNI_CIRCUMFLEX[mark]
    if base == "a" and mark in _VNI_BREVE:
        return _BREVE + _VNI_BREVE[mark]
    return None


def _vni_pieces(chars: list[str]) -> list[str]:
    """Decode VNI character by character: a mark byte's piece is "" and its letter's piece
    carries the marks (NFC)."""
    out: list[str] = []
    base = ""  # the letter just written, lower-case, while a mark byte may still follow it
    letter_at = -1  # index in `out` of that letter
    for ch in chars:
        lower = ch.lower()
        marks = _vni_marks(base, lower) if base else None
        if marks is not None:
            out[letter_at] = unicodedata.normalize("NFC", out[letter_at] + marks)
            out.append("")  # the base letter keeps its case; the mark byte is gone
            base = ""
        elif lower in _VNI_SINGLE:
            letter = _VNI_SINGLE[lower]
            out.append(letter.upper() if ch.isupper() else letter)
            base, letter_at = (letter, len(out) - 1) if letter in "ơư" else ("", -1)
        else:
            out.append(ch)
            base, letter_at = (lower, len(out) - 1) if lower in "aeouy" else ("", -1)
    return out


# --- public -----------------------------------------------------------------------------

_SUBSET = re.compile(r"^[A-Z]{6}\+")
_STYLE = re.compile(r"[,\-]?(Bold|Italic|Oblique|Regular|Normal|BoldItalic|MT|PS)+$", re.I)


def _bare(font_name: str) -> str:
    return _SUBSET.sub("", font_name.strip().lstrip("/"))


def font_encoding(font_name: str) -> str | None:
    """The legacy encoding a font's name announces: `.VnTime` TCVN3, `VNI-Times` VNI."""
    name = _bare(font_name)
    if re.match(r"[._]?Vn[A-Z]", name):
        return TCVN3
    if re.match(r"(?:VNI|Vni)(?:[-_ ]|[A-Z])", name):
        return VNI
    return None


def is_capitals_font(font_name: str) -> bool:
    """A TCVN3 capitals font (`.VnTimeH`, `.VnArialH,Bold`): lower-case codes draw capitals."""
    if font_encoding(font_name) != TCVN3:
        return False
    return _STYLE.sub("", _bare(font_name)).rstrip().endswith("H")


def detect_legacy(text: str, font_names: list[str] | tuple[str, ...] = ()) -> str | None:
    """The legacy encoding `text` is in, from its fonts' names or else its characters.

    None for Unicode text: text that already holds Vietnamese letters beyond Latin-1 is never
    re-decoded, whatever its fonts are called.
    """
    text = unicodedata.normalize("NFC", text)  # decomposed Vietnamese is Unicode too
    counts = Counter(text)  # distinct characters are few: count them once
    total = sum(n for ch, n in counts.items() if not ch.isspace())
    if not total:
        return None
    above = sum(n for ch, n in counts.items() if ch in LETTERS and ord(ch) > 0xFF)
    if above / total > 0.01:
        return None
    named = {font_encoding(name) for name in font_names} - {None}
    if len(named) == 1:
        return named.pop()
    tcvn3 = sum(n for ch, n in counts.items() if ch in _TCVN3_MARKS)
    vni = sum(n for ch, n in counts.items() if ch.lower() in _VNI_MARKS)
    if tcvn3 >= 3 and tcvn3 / total >= 0.02 and tcvn3 > vni:
        guess = TCVN3
    elif vni >= 3 and vni / total >= 0.02 and tcvn3 * 4 < vni:
        guess = VNI
    else:
        return None
    # Believe the guess only when decoding turns the text into Vietnamese.
    decoded = profile(to_unicode(text, guess))
    return guess if decoded.marked >= 0.05 and decoded.foreign <= 0.01 else None


def to_unicode(text: str, encoding: str, *, capitals: bool = False) -> str:
    """Decode text read from a TCVN3 or VNI font; NFC. `capitals`: a TCVN3 "H" font."""
    if encoding == TCVN3:
        out = _decode_tcvn3(text, capitals)
    elif encoding == VNI:
        out = "".join(_vni_pieces(list(text)))
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    return unicodedata.normalize("NFC", out)


def decode_each(chars: list[str], encoding: str, *, capitals: bool = False) -> list[str]:
    """Decode a run of characters drawn one by one (one string per glyph, in order), keeping
    one entry per input: a VNI mark byte's entry becomes "" and its letter takes the mark."""
    if encoding == VNI:
        return _vni_pieces(chars)
    if encoding != TCVN3:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    if any(len(ch) != 1 for ch in chars):  # ligatures: no context, but no misalignment
        return [to_unicode(ch, TCVN3, capitals=capitals) for ch in chars]
    return list(_decode_tcvn3("".join(chars), capitals))


def glyph_unicode(char: str, encoding: str, *, capitals: bool = False) -> str:
    """What one byte-character of a legacy font stands for on its own, for a font's Unicode
    map: a letter, or (VNI) the combining marks it adds to the letter drawn before it."""
    if encoding == TCVN3:
        out = _TCVN3.get(char, char)
        return out.upper() if capitals else out
    if encoding != VNI:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    lower = char.lower()
    if lower in _VNI_SINGLE:
        letter = _VNI_SINGLE[lower]
        return letter.upper() if char.isupper() else letter
    if lower in _VNI_TONE:
        return _VNI_TONE[lower]
    if lower in _VNI_CIRCUMFLEX:
        return _CIRCUMFLEX + _VNI_CIRCUMFLEX[lower]
    if lower in _VNI_BREVE:
        return _BREVE + _VNI_BREVE[lower]
    return char
