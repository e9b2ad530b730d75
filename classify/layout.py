"""Pages as rows of text segments, with their place on the page when word boxes are known.

A row is one printed line across the page; a segment is a run of words with no wide gap in
it. The Decree-30 header and the signature area print two columns side by side (issuer |
national name, recipients | signer), and OCR engines and PDF text extraction join them into
one line: word boxes split them again. Without boxes a row is one segment and the field
readers split it by what it says (`header.split_anchors`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from classify.text import fold, nfc, squash

Side = Literal["left", "centre", "right"]

#: a horizontal gap wider than this share of the page width separates two segments
SEGMENT_GAP = 0.03


@dataclass(frozen=True)
class WordBox:
    """One word and its box (x0, y0, x1, y1; y down) in page pixels or points."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    line: int | None = None  # the engine's line id (hOCR ocr_line), when it has one
    confidence: float | None = None  # 0–1, from the OCR engine


@dataclass(frozen=True)
class PageInput:
    """One page of a document: its text and, when known, its word boxes and size."""

    number: int
    text: str
    words: Sequence[WordBox] | None = None
    width: float | None = None  # same unit as the boxes
    height: float | None = None


@dataclass
class Seg:
    """A run of text on one row; x0/x1 are shares of the text column (0 left, 1 right)."""

    text: str
    x0: float | None = None
    x1: float | None = None
    confidence: float | None = None  # the OCR engine's, lowest of the words
    digits_confidence: float | None = None  # lowest of the words with a digit (number, date)
    fold: str = field(init=False)

    def __post_init__(self) -> None:
        self.fold = fold(self.text)

    @property
    def side(self) -> Side | None:
        """Left or right header/footer column, or centred; None without boxes."""
        if self.x0 is None or self.x1 is None:
            return None
        centre = (self.x0 + self.x1) / 2
        if centre < 0.36:
            return "left"
        if centre > 0.62:
            return "right"
        return "centre"

    def piece(self, start: int, end: int) -> Seg:
        """The part [start, end) of the text, its box cut in proportion."""
        text = self.text[start:end]
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        if self.x0 is None or self.x1 is None or not self.text:
            return Seg(text, None, None, self.confidence, self.digits_confidence)
        width = self.x1 - self.x0
        n = len(self.text)
        return Seg(
            text,
            self.x0 + width * (start + lead) / n,
            self.x0 + width * min(n, start + lead + len(text)) / n,
            self.confidence,
            self.digits_confidence,
        )


@dataclass
class Row:
    """One printed line: its segments left to right, and whether a blank line precedes it."""

    segs: list[Seg]
    gap: bool = False
    page: int = 1

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segs)

    @property
    def fold(self) -> str:
        return " ".join(s.fold for s in self.segs)

    @property
    def has_boxes(self) -> bool:
        return any(s.x0 is not None for s in self.segs)


def page_rows(page: PageInput) -> list[Row]:
    """The rows of a page: from its word boxes when it has them, else from its text lines."""
    if page.words:
        rows = _rows_from_words(page)
        if rows:
            return rows
    return _rows_from_text(page)


def _rows_from_text(page: PageInput) -> list[Row]:
    rows: list[Row] = []
    gap = False
    for raw in nfc(page.text).split("\n"):
        line = squash(raw.replace("\f", " "))
        if not line:
            gap = bool(rows)
            continue
        rows.append(Row([Seg(line)], gap, page.number))
        gap = False
    return rows


@dataclass
class _Line:
    words: list[WordBox]
    y0: float
    y1: float


def _group_lines(words: Sequence[WordBox]) -> list[_Line]:
    """Words into lines: by the engine's line ids when every word has one, else by height."""
    lines: list[_Line] = []
    if all(w.line is not None for w in words):
        by_id: dict[int, list[WordBox]] = {}
        for w in words:
            by_id.setdefault(w.line or 0, []).append(w)
        groups = list(by_id.values())
    else:
        groups = []
        for w in sorted(words, key=lambda w: (w.y0 + w.y1) / 2):
            mid = (w.y0 + w.y1) / 2
            if groups and groups[-1][-1].y0 <= mid <= groups[-1][-1].y1:
                groups[-1].append(w)
            else:
                groups.append([w])
    for group in groups:
        lines.append(_Line(group, min(w.y0 for w in group), max(w.y1 for w in group)))
    # Lines side by side (the engine split them) share one row: merge what overlaps in y and
    # not in x (lines of one column never sit side by side; a tall mark of the seal overlaps
    # several lines in y, and must not chain them into one row).
    lines.sort(key=lambda ln: (ln.y0 + ln.y1) / 2)
    merged: list[_Line] = []
    for ln in lines:
        if merged:
            last = merged[-1]
            overlap = min(last.y1, ln.y1) - max(last.y0, ln.y0)
            apart = all(w.x1 <= v.x0 or v.x1 <= w.x0 for w in ln.words for v in last.words)
            if apart and overlap > 0.5 * min(last.y1 - last.y0, ln.y1 - ln.y0):
                last.words += ln.words
                last.y0, last.y1 = min(last.y0, ln.y0), max(last.y1, ln.y1)
                continue
        merged.append(ln)
    return merged


def _rows_from_words(page: PageInput) -> list[Row]:
    words = [w for w in page.words or () if w.text.strip()]
    if not words:
        return []
    width = page.width or max(w.x1 for w in words)
    lines = _group_lines(words)
    # The text column, from the rows' extents: scans are shifted, and margins differ.
    lefts = sorted(min(w.x0 for w in ln.words) for ln in lines)
    rights = sorted(max(w.x1 for w in ln.words) for ln in lines)
    col_l = lefts[len(lefts) // 10]
    col_r = rights[(len(rights) * 9) // 10]
    if col_r - col_l < 0.3 * width:
        col_l, col_r = 0.0, width
    span = col_r - col_l
    heights = [ln.y1 - ln.y0 for ln in lines]
    median_h = statistics.median(heights) if heights else 0.0
    gap_limit = SEGMENT_GAP * width
    rows: list[Row] = []
    prev_y1: float | None = None
    for ln in lines:
        ordered = sorted(ln.words, key=lambda w: w.x0)
        runs: list[list[WordBox]] = [[ordered[0]]]
        for w in ordered[1:]:
            if w.x0 - runs[-1][-1].x1 > gap_limit:
                runs.append([w])
            else:
                runs[-1].append(w)
        segs = []
        for run in runs:
            confs = [w.confidence for w in run if w.confidence is not None]
            digits = [
                w.confidence
                for w in run
                if w.confidence is not None and any(ch.isdigit() for ch in w.text)
            ]
            segs.append(
                Seg(
                    squash(nfc(" ".join(w.text for w in run))),
                    (run[0].x0 - col_l) / span,
                    (run[-1].x1 - col_l) / span,
                    min(confs) if confs else None,
                    min(digits) if digits else None,
                )
            )
        gap = prev_y1 is not None and ln.y0 - prev_y1 > 1.0 * median_h
        rows.append(Row(segs, gap, page.number))
        prev_y1 = ln.y1
    return rows


def words_from_chars(chars: Iterable[Mapping[str, Any]]) -> list[WordBox]:
    """Word boxes from a PDF text layer's characters (pdfplumber: text, x0, x1, top, bottom).

    Characters are joined into a word while they sit on one line with no space between.
    """
    words: list[WordBox] = []
    text, box = "", [0.0, 0.0, 0.0, 0.0]
    for ch in chars:
        c = str(ch.get("text", ""))
        x0, x1 = float(ch["x0"]), float(ch["x1"])
        top, bottom = float(ch["top"]), float(ch["bottom"])
        same_line = text and abs(top - box[1]) < 0.5 * (bottom - top) and -1.0 < x0 - box[2] < 1.5
        if text and (not c.strip() or not same_line):
            words.append(WordBox(nfc(text), box[0], box[1], box[2], box[3]))
            text = ""
        if not c.strip():
            continue
        if text:
            text += c
            box = [box[0], min(box[1], top), max(box[2], x1), max(box[3], bottom)]
        else:
            text, box = c, [x0, top, x1, bottom]
    if text:
        words.append(WordBox(nfc(text), box[0], box[1], box[2], box[3]))
    return words
