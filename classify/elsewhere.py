"""Number and date lines printed outside the header table.

A certificate (Giấy chứng nhận) prints `Số cấp: 155/2023/GCNATTP-TPTH` and its place–date
line at the foot of the page, under a framed title; a consolidated text (VBHN) puts its number
and date in the closing block of its last page. Looked for only when the header has no number
line (or no date line) at all: a header line that is there but unreadable is never replaced
by a line from elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from classify.dates import DateRead, parse_date
from classify.layout import Row
from classify.numbers import NumberRead, looks_misread, parse_number

# folded: `Số:`, `Số cấp:`, `Số hiệu:`, `Số văn bản:` with its colon, at a segment's start
_LABEL = re.compile(r"^\W{0,3}s[o0]\s*(?:cap|hieu|van ban)?\s*:\s*(?=\d)")
#: lines whose dates are not the document's: what it is based on, until when it is valid
_NOT_ISSUE = ("can cu", "hieu luc", "den ngay", "het han", "thong qua")


def number_elsewhere(rows: Iterable[Row]) -> NumberRead | None:
    """The first well-formed number line (label, digits, symbol) in `rows`."""
    for row in rows:
        for i, seg in enumerate(row.segs):
            label = _LABEL.match(seg.fold)
            if label is None:
                continue
            rest = " ".join(s.text for s in row.segs[i:])[label.end() :]
            read = parse_number(f"Số: {rest}")
            if read is None or read.number is None or looks_misread(read.code_notation):
                continue
            return read
    return None


def date_elsewhere(rows: Iterable[Row]) -> DateRead | None:
    """The first `<place>, ngày … tháng … năm …` line with a whole date in `rows`."""
    for row in rows:
        if any(word in row.fold for word in _NOT_ISSUE):
            continue
        if not re.search(r",\s*ng[a-z]{1,2}\b", row.fold):  # `<place>, ngày`: the comma too
            continue
        for i, _seg in enumerate(row.segs):
            found = parse_date(" ".join(s.text for s in row.segs[i:]), numeric=False)
            if found is None or found.issued_on is None or not found.place:
                continue
            if len(found.place.split()) > 6:  # a sentence that happens to hold a date
                continue
            return found
    return None
