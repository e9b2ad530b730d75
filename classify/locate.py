"""Where the number and the day are on the page: the crops a second recognizer should read.

On paper originals the number (`Số: 2191/CT-CS`) and the day, sometimes the month, are
written by hand into the printed line after signing. The printed words around them
(`Số:`, the symbol `/CT-CS`, `ngày`, `tháng`, `năm`) are read well by OCR, so their word
boxes say where the handwriting is: the gap between the label and the end of the symbol,
between `ngày` and `tháng`, between `tháng` and `năm`. Boxes are in the page's own units
(the word boxes'), y down; the header is searched in the top part of the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from classify.layout import PageInput, WordBox
from classify.layout import _group_lines as group_lines
from classify.text import fold

Box = tuple[float, float, float, float]

#: the header lines are searched in this top share of the page
HEADER_SHARE = 0.45
#: the gaps are returned as tight as the printed line; `variants` pads them
PAD_Y = 0.0
#: the crops read for one gap, as (line heights above and below, line heights left and
#: right): handwriting rises over the line and its width is unknown, so each reading is a
#: vote (measured on the real scans: no one padding reads every field)
VARIANTS = ((0.2, 0.0), (0.35, 0.0), (0.1, 0.2))

_LABEL = re.compile(r"^[^a-z0-9]{0,2}s[o06e]\s*[:;.,]?")
_DAY = re.compile(r"^ng[a-z]{1,2}y?")
# `tháng`, or `:háng` when the handwritten day runs over its `t`
_MONTH = re.compile(r"t?h[a-z]ng")
_YEAR_WORD = re.compile(r"^n[a-z]m")
#: the place–date line sits beside the number line: at most this many line heights apart
NEAR_NUMBER = 3.0


@dataclass(frozen=True)
class Crops:
    """The crop rectangles on one page; None where the line or the gap was not found."""

    page: int
    number_line: Box | None = None
    number_gap: Box | None = None  # from the label's end to the symbol's end
    date_line: Box | None = None
    day_gap: Box | None = None
    month_gap: Box | None = None

    def fields(self) -> dict[str, Box]:
        """The gaps to read, by field name (`number`, `day`, `month`)."""
        named = {"number": self.number_gap, "day": self.day_gap, "month": self.month_gap}
        return {k: v for k, v in named.items() if v is not None}


def _after(word: WordBox, prefix_len: int) -> float:
    """The x where the first `prefix_len` characters of a word end (proportional)."""
    text = word.text
    if prefix_len >= len(text):
        return word.x1
    return word.x0 + (word.x1 - word.x0) * prefix_len / max(1, len(text))


def _pad(x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> Box:
    h = y1 - y0
    return (
        max(0.0, x0),
        max(0.0, y0 - PAD_Y * h),
        min(width, x1),
        min(height, y1 + PAD_Y * h),
    )


def _line_box(words: Sequence[WordBox]) -> tuple[float, float, float, float]:
    return (
        min(w.x0 for w in words),
        min(w.y0 for w in words),
        max(w.x1 for w in words),
        max(w.y1 for w in words),
    )


def _symbol_word(text: str, mark: str) -> bool:
    return mark in text and re.search(r"[^\W\d_]", text.split(mark, 1)[1]) is not None


def _number(line: list[WordBox], width: float, height: float) -> tuple[Box, Box] | None:
    for i, word in enumerate(line):
        folded = fold(word.text)
        label = _LABEL.match(folded)
        if label is None:
            continue
        colon = label.group().rstrip()[-1:] in ":;.,"
        if not colon and (len(folded) > label.end() or i > 0):  # `SỞ …`, `số` in a sentence
            continue
        rest = line[i:]
        # the symbol's end: the first word with a dash and a letter (`/CT-CS`), else one with
        # a slash (`/2025/UBTVQH15`); the label's own word may hold the number (`Số:2/J`)
        end = next((k for k, w in enumerate(rest) if _symbol_word(w.text, "-")), None)
        if end is None:
            end = next((k for k, w in enumerate(rest) if _symbol_word(w.text, "/")), None)
        if end is None:
            return None
        words = rest[: end + 1]
        x0, y0, x1, y1 = _line_box(words)
        start = _after(word, label.end())
        if x1 - start <= 0:
            return None
        return _pad(x0, y0, x1, y1, width, height), _pad(start, y0, x1, y1, width, height)
    return None


def _date(line: list[WordBox], width: float, height: float) -> tuple[Box, Box, Box | None] | None:
    folded = [fold(w.text) for w in line]
    for i, f in enumerate(folded):
        day = _DAY.match(f)
        if day is None or (i and "/" in folded[i - 1]) or "can cu" in " ".join(folded[:i]):
            continue  # a date in a sentence citing a document: `… số 30/2020/NĐ-CP ngày …`
        # `tháng` may be read joined to the handwriting before it (`08tháng`)
        month, m_start = next(
            (
                (k, m.start())
                for k in range(i + 1, min(len(line), i + 5))
                if (m := _MONTH.search(folded[k])) is not None
            ),
            (None, 0),
        )
        if month is None:
            continue
        year = next(
            (k for k in range(month + 1, min(len(line), month + 5)) if _YEAR_WORD.match(folded[k])),
            None,
        )
        y0 = min(w.y0 for w in line[i : month + 1])
        y1 = max(w.y1 for w in line[i : month + 1])
        start = _after(line[i], day.end())
        day_gap = _pad(start, y0, _after(line[month], m_start), y1, width, height)
        month_gap = None
        if year is not None:
            found = _MONTH.search(folded[month])  # it matched to find `month` above
            if found is not None:
                m_end = _after(line[month], found.end())
                month_gap = _pad(m_end, y0, line[year].x0, y1, width, height)
        x0, ly0, x1, ly1 = _line_box(line[i : (year + 2 if year is not None else len(line))])
        date_line = _pad(line[0].x0 if i else x0, ly0, x1, ly1, width, height)
        if day_gap[2] - day_gap[0] <= 0:
            return None
        return date_line, day_gap, month_gap
    return None


def variants(box: Box) -> list[Box]:
    """The crops read for one gap (see VARIANTS)."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    return [
        (max(0.0, x0 - dx * h), max(0.0, y0 - dy * h), x1 + dx * h, y1 + dy * h)
        for dy, dx in VARIANTS
    ]


def locate(page: PageInput, *, header_share: float = HEADER_SHARE) -> Crops:
    """The number line and the place–date line in the header of `page`, and their gaps."""
    words = [w for w in page.words or () if w.text.strip()]
    if not words:
        return Crops(page.number)
    width = page.width or max(w.x1 for w in words)
    height = page.height or max(w.y1 for w in words)
    limit = header_share * height
    found: dict[str, Box | None] = {}
    header = group_lines([w for w in words if w.y0 < limit])
    lines = [sorted(g.words, key=lambda w: w.x0) for g in header]
    for line in lines:
        if (num := _number(line, width, height)) is not None:
            found["number_line"], found["number_gap"] = num
            break
    near = found.get("number_line")
    for line in lines:
        if near is not None:  # beside the number line, not a date in the text under it
            mid = (line[0].y0 + line[0].y1) / 2
            if abs(mid - (near[1] + near[3]) / 2) > NEAR_NUMBER * (near[3] - near[1]):
                continue
        if (dat := _date(line, width, height)) is not None:
            found["date_line"], found["day_gap"], found["month_gap"] = dat
            break
    return Crops(page.number, **found)
