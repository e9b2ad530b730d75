"""Facts about written Vietnamese that the text-layer judgement and the legacy decoders use.

The alphabet (the 134 letters with diacritics, upper and lower), folding to plain ASCII, and
a list of very frequent syllables (without diacritics) to tell a Vietnamese text from another
language even when its diacritics are lost.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

#: the twelve vowels and their five tone marks (grave, hook, tilde, acute, dot below)
VOWELS = "aăâeêioôơuưy"
TONES = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")


def _letters() -> frozenset[str]:
    lower = {unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES}
    lower |= set("ăâêôơưđ")
    return frozenset(lower | {ch.upper() for ch in lower})


#: the 134 letters of Vietnamese that are not plain ASCII (67 lower-case, 67 capitals)
LETTERS: frozenset[str] = _letters()

# Syllables so frequent in administrative prose that a third or more of the words of any
# Vietnamese page are among them; folded (no diacritics, đ -> d). Words that are also common
# English words ("can", "to", "do", "an", "me") are left out so English text never matches.
_FREQUENT_WORDS = """
    cua va cac nguoi nam ngay thang theo duoc trong nhan dan uy ban quan phuong xa tinh
    thanh pho ve viec cong nghe thong ke hoach quyet dinh chu tich hoi dong nhung mot
    nay khi nhu voi tai tu den cho tren duoi phai cung da se dang lam nhat giua hang hanh
    chinh quy luat dieu khoan muc bao cao van nha nuoc cu thuc hien chuc vu nhiem trach
    kinh xa giao duc dung tao phat trien quan ly linh vuc co quan don vi tap ca nhan
    nghi dinh thong tu doi hop dong tien hanh dau tu xay dung truong ket qua yeu cau thu
    tuc ho giai quyet kiem tra gia chi dao tham muu trien khai dia phuong huyen cap
    nhiem vu noi dung thoi gian khac cac lien quan moi biet tiep nhan
"""
_FREQUENT = frozenset(_FREQUENT_WORDS.split())
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case letters without diacritics, đ -> d (cached: words repeat)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Profile:
    """How Vietnamese a text looks."""

    words: int  # words of letters
    frequent: float  # share of words that are frequent Vietnamese syllables (diacritics ignored)
    marked: float  # share of letters that carry Vietnamese diacritics (LETTERS)
    foreign: float  # share of letters that are neither ASCII nor Vietnamese


def profile(text: str) -> Profile:
    """Count words and letters of `text` (any normalization)."""
    text = unicodedata.normalize("NFC", text)
    words = _WORD.findall(text)
    letters = marked = foreign = 0
    # per distinct character, not per character: a page has thousands but few distinct ones
    for ch, n in Counter(text).items():
        if not ch.isalpha():
            continue
        letters += n
        if ch in LETTERS:
            marked += n
        elif not ch.isascii():
            foreign += n
    frequent = sum(map(_FREQUENT.__contains__, map(fold, words)))
    return Profile(
        words=len(words),
        frequent=frequent / max(1, len(words)),
        marked=marked / max(1, letters),
        foreign=foreign / max(1, letters),
    )
