"""Decide the number, day and month by evidence, when a second recognizer read them too.

Two readings of one handwritten field (Tesseract's, from the page, and a second
recognizer's, from crops of the field: `classify.locate`) are weighed with what else the
document says: the number's shape in front of the printed symbol, the day and month valid
for the printed year, the date not after a digital signature's signing time and not before
a document it cites. A field without enough evidence stays null: a wrong value is worse than
a blank, since nobody looks at a field that seems filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from classify.dates import parse_date
from classify.text import fold

#: the best of the agreeing readings must score this (the lowest of its digits) to count
MIN_SCORE = 0.6
#: confidences given by the evidence (a key field below 0.7 sends the record to review)
BOTH_AGREE = 0.97
SECOND_ONLY_UNANIMOUS = 0.8
SECOND_ONLY = 0.65
WITNESSED = 0.9
PRINTED_DISPUTED = 0.65
#: Tesseract is trusted over a disagreeing second reading only this sure of the digits
PRINTED_SURE = 0.9

#: below this a field read by Tesseract alone is worth a second reading of its gap
REREAD_BELOW = 0.9

# what stands before the slash: digits for a number, anything else (`K3`) is a misreading
_BEFORE_SLASH = re.compile(r"^\W*([^\W_][^\s/]{0,7})\s?/\s?([\w/-]*)")
_SMALL = re.compile(r"^\W*(\d{1,2})\W*$")
# `… số 5770/NBI-QLDN2 ngày 15/12/2025`, `Quyết định số 2034/QĐ-BGDĐT ngày 13 tháng 7 năm 2023`
_CITED = re.compile(r"so\s+\S*\d\S*/\S+\s+(ng[a-z]{1,2}\s*\d{1,2}.{0,24}?\d{4})")
# `Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;`
_GROUND = re.compile(r"can cu\b[^;]{0,160}?\b(ng[a-z]{1,2}\s*\d{1,2}.{0,24}?\d{4})")
#: Vietnam's time: a signing time is compared with the issue date on the local calendar
VIETNAM = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Reading:
    """One reading of a field by the second recognizer: its text and its lowest digit score."""

    text: str
    score: float


@dataclass(frozen=True)
class Decision:
    """A field's value and confidence by evidence; `why` names a review code when unsure."""

    value: str | None
    confidence: float
    why: str | None = None  # "readings_disagree", "number_unreadable", …
    detail: str | None = None


def number_value(text: str) -> str | None:
    """What a reading of the gap `…/QĐ-UBND` has right before the slash: the number when
    it is digits (`2191`); a token with letters (`K3`) says the reading went wrong."""
    m = _BEFORE_SLASH.match(text.strip())
    return m.group(1) if m else None


def notation_value(text: str) -> str | None:
    """The symbol after the number in a reading of the gap (`CT-CS`, `2025/QD-UBND`)."""
    m = _BEFORE_SLASH.match(text.strip())
    return m.group(2).strip("-/") or None if m else None


def small_value(text: str, top: int = 31) -> str | None:
    """A day (up to 31) or a month (up to 12) alone in its gap: one or two digits."""
    m = _SMALL.match(text.strip())
    if m is None or not 1 <= int(m.group(1)) <= top:
        return None
    return m.group(1)


def same_symbol(a: str | None, b: str | None) -> bool:
    """Two readings of a symbol agree once folded (the second recognizer reads no marks)."""
    return a is not None and b is not None and fold(a).replace(" ", "") == fold(b).replace(" ", "")


def vote(values: Sequence[tuple[str | None, float]]) -> tuple[str | None, int, float]:
    """The value the readings agree on, how many gave it, and the best score among them.
    Readings that give two different values (`3` and `23`, `3` and `K3`) are no evidence."""
    if conflicting(values):
        return None, 0, 0.0
    good = [(v, s) for v, s in values if v is not None and v.isdigit()]
    if not good:
        return None, 0, 0.0
    return good[0][0], len(good), max(s for _, s in good)


def conflicting(values: Sequence[tuple[str | None, float]]) -> bool:
    return len({v.lstrip("0") or "0" for v, _ in values if v is not None}) > 1


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lstrip("0") == b.lstrip("0")


def decide(
    printed: str | None,
    printed_confidence: float | None,
    second: Sequence[tuple[str | None, float]],
    *,
    unreadable: str,
) -> Decision:
    """Weigh Tesseract's value (`printed`, None when it read none) against the second
    recognizer's readings of the same field (several crops of it, each a vote)."""
    value, votes, score = vote(second)
    if value is None and conflicting(second) and printed is None:
        return Decision(None, 0.0, unreadable, "the second readings disagree")
    if value is None:  # the second recognizer has nothing to say: Tesseract as before
        return Decision(printed, -1.0)
    if printed is not None:
        if _same(printed, value):
            return Decision(printed, BOTH_AGREE)
        if printed_confidence is not None and printed_confidence >= PRINTED_SURE:
            return Decision(printed, PRINTED_DISPUTED, "readings_disagree", f"{printed} / {value}")
        return Decision(None, 0.0, "readings_disagree", f"{printed} / {value}")
    if votes >= 2 and score >= 0.9:  # several crops read it, none read anything else
        return Decision(value, SECOND_ONLY_UNANIMOUS)
    if votes >= 2 and score >= MIN_SCORE:
        return Decision(value, SECOND_ONLY, "low_confidence", f"digits scored {score:.2f}")
    return Decision(None, 0.0, unreadable, f"{votes} of {len(second)} readings: {value}")


def cited_dates(text: str) -> list[date]:
    """Dates of the documents a text cites (`… số 12/2020/NĐ-CP ngày 01/02/2020 …`, and the
    grounds `Căn cứ Luật … ngày 19 tháng 6 năm 2015`), earliest first."""
    folded = fold(text)
    found = []
    for m in (*_CITED.finditer(folded), *_GROUND.finditer(folded)):
        read = parse_date(m.group(1))
        if read is not None and read.issued_on is not None:
            found.append(read.issued_on)
    return sorted(set(found))


def signing_day(signed_at: datetime) -> date:
    """The day of a signing time on Vietnam's calendar (a naive time is taken as local)."""
    if signed_at.tzinfo is None:
        return signed_at.date()
    return signed_at.astimezone(VIETNAM).date()


def implausible(issued: date, signed: Sequence[date], cited: Sequence[date]) -> str | None:
    """Why a date cannot be the issue date, or None: a document is signed on or after the day
    it is issued, and issued on or after the documents it cites."""
    if signed and issued > min(signed):
        return f"after the digital signing on {min(signed).isoformat()}"
    if cited and issued < max(cited):
        return f"before the cited document of {max(cited).isoformat()}"
    return None


def unsure_fields(confidence: Mapping[str, float]) -> set[str]:
    """The gaps worth a second reading after a first classification: the number's, and the
    day's and month's, when those fields were not read for sure (printed numbers and dates
    read well are left alone, and cost nothing more)."""
    wanted = set()
    if confidence.get("number", 0.0) < REREAD_BELOW:
        wanted.add("number")
    if confidence.get("issued_on", 0.0) < REREAD_BELOW:
        wanted |= {"day", "month"}
    return wanted
