"""Text helpers: NFC, folding for matching, tone-placement variants, OCR digit fixes.

Folding keeps the length of the text (one folded character per NFC character), so a span
found in the folded text is the same span in the original: fields are matched folded and
returned as printed.
"""

from __future__ import annotations

import re
import unicodedata

# Eth (U+00D0) looks exactly like Đ (U+0110) and OCR engines return either.
_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "⁄": "/", "∕": "/"})


def nfc(text: str) -> str:
    """Unicode NFC, Eth read as Đ, typographic dashes as `-`, fraction slashes as `/`."""
    return unicodedata.normalize("NFC", text).translate(_ETH).translate(_DASHES)


def squash(text: str) -> str:
    """Whitespace runs to one space, ends stripped."""
    return " ".join(text.split())


class _FoldTable(dict[int, str]):
    """str.translate table that learns each character's folding the first time it is seen."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in "đĐ":
            out = "d"
        else:
            base = unicodedata.normalize("NFD", ch)[0]
            lowered = ch.lower()
            if base.isascii() and base.isalpha():
                out = base.lower()
            else:  # keep the length: a character without a Latin base stays
                out = lowered if len(lowered) == 1 else ch
        self[code] = out
        return out


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower case without diacritics, đ → d; same length as `text` (for matching only)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def letters(text: str) -> str:
    """Only the letters of `text`."""
    return "".join(ch for ch in text if ch.isalpha())


def upper_ratio(text: str) -> float:
    """Share of the letters that are capitals (1.0 for a header line in capitals)."""
    ls = letters(text)
    if not ls:
        return 0.0
    return sum(1 for ch in ls if ch.isupper()) / len(ls)


# Old and new tone placement (`hoà`/`hòa`, `uỷ`/`ủy`): both are right, so names are compared
# with the mark on the first vowel of an open `oa`, `oe`, `uy` syllable.
_TONES = {
    "\u0300": "grave",
    "\u0301": "acute",
    "\u0309": "hook",
    "\u0303": "tilde",
    "\u0323": "dot",
}
_TONE_PAIR = re.compile(r"([oOuU])([àáảãạÀÁẢÃẠèéẻẽẹÈÉẺẼẸỳýỷỹỵỲÝỶỸỴ])(?![^\W\d_])")


def _move_tone(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    decomposed = unicodedata.normalize("NFD", second)
    mark = "".join(c for c in decomposed if c in _TONES)
    pair = first.lower() + decomposed[0].lower()
    if pair not in ("oa", "oe", "uy"):
        return match.group(0)
    moved = unicodedata.normalize("NFC", first + mark)
    return moved + decomposed[0]


def modern_tones(text: str) -> str:
    """One spelling for both tone placements: `hoà` → `hòa`, `uỷ` → `ủy`, `thuỷ` → `thủy`."""
    return _TONE_PAIR.sub(_move_tone, text)


# What OCR reads instead of digits inside a number; only applied where a number must be.
_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "|": "1", "i": "1", "!": "1",
     "í": "1", "ì": "1", "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "g": "9", "q": "9"}
)  # fmt: skip
DIGITISH = "0-9OoQDlIi|!íìZzSsBgq"


def fix_digits(token: str) -> str | None:
    """`2O23` → `2023`, `l5` → `15`; None when the token is not a number even so.

    A token of look-alikes only (`lO`) is not trusted: at least one real digit is needed.
    """
    if not any(ch.isdigit() for ch in token):
        return None
    fixed = token.translate(_DIGIT_LOOKALIKES)
    return fixed if fixed.isdigit() else None


def is_rule(text: str) -> bool:
    """A printed rule or ornament (`-----*-----`, `___`, `~~`): no letters or digits."""
    return not any(ch.isalnum() for ch in text)


# The marks Vietnamese writes with: tones, and the circumflex, breve and horn of â ă ê ô ơ ư.
_VIETNAMESE_MARKS = set("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")


def is_vietnamese(text: str) -> bool:
    """Only letters Vietnamese is written with (`Ö`, `ñ`, `€` are OCR's, not a name's)."""
    for ch in text:
        if not ch.isalpha():
            continue
        if ch in "đĐ":
            continue
        parts = unicodedata.normalize("NFD", ch)
        if not (parts[0].isascii() and all(m in _VIETNAMESE_MARKS for m in parts[1:])):
            return False
    return True
