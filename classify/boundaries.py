"""Where a new document begins in a dossier scanned as one file.

Every administrative document (Decree 30/2020) opens with the same header: the national name
`CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM` and the motto on the right, the issuer on the left, the
`Số: …/…` line and the place–date line under them, then the type's title. A page that carries
that header is the first page of a document; the pages after it, until the next such page,
belong to it. What is read here is the top of each page, as OCR gives it: the phrases are
matched loosely (a scan loses letters), and an annex (`Phụ lục`), which repeats none of the
header or only part of it, stays with its document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from classify.header import MOTTO, NATIONAL
from classify.text import fold

#: lines at the top of a page where the header is looked for
TOP_LINES = 18
#: a page scoring this much opens a document
THRESHOLD = 0.6

_NUMBER = re.compile(r"^\W{0,3}so\s*[:;.,]?\s*\S{0,12}\s*/\s*\S", re.MULTILINE)
_DATE = re.compile(r"ngay\W{0,3}\S{0,4}\W{0,3}thang\W{0,3}\S{0,4}\W{0,3}nam")
_TITLES = (
    "quyet dinh", "thong bao", "ke hoach", "bao cao", "to trinh", "giay moi", "nghi quyet",
    "chi thi", "huong dan", "bien ban", "cong van", "giay chung nhan", "giay xac nhan",
    "chuong trinh", "phuong an", "de an", "quy che", "quy dinh", "thong tu", "nghi dinh",
    "cong dien", "giay gioi thieu", "giay uy quyen", "phieu gui", "hop dong", "don",
)  # fmt: skip
_ANNEX = re.compile(r"^\W{0,3}(phu luc|danh sach|bang|bieu|mau so)\b")
_ISSUER = re.compile(r"\b(uy ban nhan dan|ubnd|so |phong |bo |hoi dong|van phong|chi cuc|cuc )")


@dataclass(frozen=True)
class PageStart:
    page: int  # from 1
    score: float
    why: tuple[str, ...]


def _lines(text: str) -> list[str]:
    return [line for line in (fold(x).strip() for x in text.splitlines()) if line][:TOP_LINES]


def _has(phrase: str, lines: Sequence[str], cutoff: float) -> bool:
    return any(
        len(line) >= 0.5 * len(phrase) and fuzz.partial_ratio(phrase, line) >= cutoff
        for line in lines
    )


def start_score(top_text: str) -> tuple[float, tuple[str, ...]]:
    """How much the top of a page looks like a document's first page, and why."""
    lines = _lines(top_text)
    joined = "\n".join(lines)
    signals = {
        "national": (_has(NATIONAL, lines, 78.0), 0.5),
        "motto": (_has(MOTTO, lines, 72.0), 0.3),
        "number": (bool(_NUMBER.search(joined)), 0.2),
        "date": (bool(_DATE.search(joined)), 0.1),
        "title": (any(line.startswith(_TITLES) and len(line) < 60 for line in lines), 0.1),
        "issuer": (any(_ISSUER.search(line) for line in lines[:6]), 0.1),
    }
    why = [name for name, (seen, _) in signals.items() if seen]
    score = sum(weight for seen, weight in signals.values() if seen)
    if lines and _ANNEX.match(lines[0]) and "national" not in why:
        score, why = score - 0.5, [*why, "annex"]
    return round(score, 2), tuple(why)


def document_starts(tops: Sequence[str]) -> list[PageStart]:
    """The first page of each document, from the top text of every page in order; page 1
    always opens one."""
    starts = []
    for number, text in enumerate(tops, start=1):
        score, why = start_score(text)
        if number == 1 or score >= THRESHOLD:
            starts.append(PageStart(number, score, why))
    return starts


def page_ranges(starts: Sequence[PageStart], page_count: int) -> list[tuple[int, int]]:
    """(first, last) pages of each document, from its start to the page before the next."""
    firsts = [s.page for s in starts]
    return [
        (first, (firsts[i + 1] - 1) if i + 1 < len(firsts) else page_count)
        for i, first in enumerate(firsts)
    ]
