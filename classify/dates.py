"""The place and date line: `Bắc Từ Liêm, ngày 29 tháng 5 năm 2023`, `ngày 24 / 7/ 1993`.

Matched on folded text (`ngảy`, `thảng`, `nãm` are OCR's readings of the same words). A day
or month that cannot be read (handwritten after signing, a dotted gap) gives no date: a
date is never completed by guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from classify.text import DIGITISH, fix_digits, fold, nfc, squash

MIN_YEAR, MAX_YEAR = 1945, 2100

_D = rf"[{DIGITISH}]{{1,2}}"
_Y = rf"[{DIGITISH}]{{4}}"
_GAP = r"[.…_·\-–—~\s]*"
_WORDS = re.compile(
    rf"ng[a-z]{{1,2}}\s*(?P<d>{_D}|{_GAP})\s*th[a-z]{{2,3}}\s*(?P<m>{_D}|{_GAP})\s*"
    rf"n[a-z]m\s*(?P<y>{_Y})"
)
_NUMERIC = re.compile(
    rf"(?:ng[a-z]{{1,2}}\s*)?(?<![\w/])(?P<d>{_D})\s*[/.-]\s*(?P<m>{_D})\s*[/.-]\s*"
    rf"(?P<y>{_Y}|[{DIGITISH}]{{2}})(?![\w/])"
)
# `ngày 3 / 5 1993`: OCR lost the second slash; the word `ngày` vouches for the date.
_NUMERIC_LOOSE = re.compile(
    rf"ng[a-z]{{1,2}}\s*(?P<d>{_D})\s*[/.-]\s*(?P<m>{_D})\s*[/.-]?\s+(?P<y>{_Y})(?![\w/])"
)
# `ngày 0Ÿ tháng # năm 2026`: the words and the year printed, the day and month written by
# hand and read as anything: the line is there, its day and month are not readable
_WORDS_LOOSE = re.compile(
    rf"ng[a-z]{{1,2}}\s*(?P<d>\S{{0,5}}?)\s*(?:th[a-z]{{2,3}}|\S?h[a-z]ng)\s*(?P<m>\S{{0,5}})\s*"
    rf"n[a-z]m\s*(?P<y>{_Y})"
)
_THROUGH = re.compile(rf"thong qua\s+(?P<rest>ng[a-z]{{1,2}}\s*{_D}.{{0,40}})")


@dataclass(frozen=True)
class DateRead:
    """A date line: the date (None when unreadable), the place before it, and how sure."""

    issued_on: date | None
    place: str | None
    start: int  # where the date words start in the text given
    fixed: bool  # look-alike characters were read as digits
    problem: str | None = None  # why there is no date although the line is there
    day: int | None = None  # the parts as read, each None when unreadable
    month: int | None = None
    year: int | None = None


def _number(token: str | None) -> tuple[int | None, bool]:
    if not token or not token.strip(" ._…·-–—~"):
        return None, False
    fixed = fix_digits(token.strip())
    if fixed is None:
        return None, False
    return int(fixed), fixed != token.strip()


def _make(d: int | None, m: int | None, y: int | None) -> tuple[date | None, str | None]:
    if d is None or m is None or y is None:
        return None, "day or month unreadable"
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None, f"year {y} out of range"
    try:
        return date(y, m, d), None
    except ValueError:
        return None, f"no such date {d}/{m}/{y}"


def _place(text: str, start: int) -> str | None:
    place = squash(text[:start]).rstrip(",;:.-– ").strip()
    while place and not place[0].isalnum():  # `_ Từ Liêm`: a stray mark before the place
        place = place[1:].lstrip()
    words = place.split(" ")
    while words and re.search(r"[-/\d]", words[0]) and words[0].upper() == words[0]:
        words.pop(0)  # the end of a symbol read apart from it (`C-UBND Phúc Diễn`)
    place = " ".join(words)
    if not place or not any(ch.isalpha() for ch in place) or len(place) > 60:
        return None
    return place


def parse_date(text: str, *, numeric: bool = True) -> DateRead | None:
    """Find a date in `text` (a header segment); None when there is no date phrase."""
    text = nfc(text)
    folded = fold(text)
    m = _WORDS.search(folded) or _WORDS_LOOSE.search(folded)
    year_fixed = False
    if m is None and numeric:
        m = _NUMERIC.search(folded) or _NUMERIC_LOOSE.search(folded)
        if m is not None:
            yy = m.group("y")
            if len(yy) == 2:  # `24/7/93` in old documents
                value, year_fixed = _number(yy)
                if value is None:
                    return None
                yy = str(1900 + value if value >= 45 else 2000 + value)
            y, fixed_y = _number(yy)
        else:
            return None
    elif m is None:
        return None
    else:
        y, fixed_y = _number(m.group("y"))
    d, fixed_d = _number(m.group("d"))
    mo, fixed_m = _number(m.group("m"))
    issued, problem = _make(d, mo, y)
    return DateRead(
        issued_on=issued,
        place=_place(text, m.start()),
        start=m.start(),
        fixed=fixed_d or fixed_m or fixed_y or year_fixed,
        problem=problem,
        day=d,
        month=mo,
        year=y,
    )


def parse_passed_date(text: str) -> date | None:
    """`… thông qua ngày 10 tháng 12 năm 2025`: the date of a law, printed at its end."""
    folded = fold(squash(text))
    m = _THROUGH.search(folded)
    if m is None:
        return None
    found = parse_date(m.group("rest"), numeric=False)
    return found.issued_on if found else None
