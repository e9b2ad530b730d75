"""The type title and the subject (trích yếu) under it, or a công văn's `V/v …` lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from classify.header import Header, is_stamp, mark_of
from classify.layout import Row, Seg
from classify.text import fold, is_rule, squash, upper_ratio
from classify.types import TitleMatch, match_title

# `V/v`, and OCR's readings of it: `V/V`, `Vlv`, `V/y`, `V/` (the second v lost).
_VV = re.compile(r"^\W{0,2}v\s?(?:[/|\\]\s?(?:[vy]\b)?|[.,;:l1i]\s?[vy]\b)\.?\s*")
_SALUTATION = re.compile(r"^\W{0,2}k[a-z]nh g[a-z]{1,2}\b")
# What starts a body paragraph rather than a subject line (folded).
_BODY = re.compile(
    r"^\W{0,2}(can cu|kinh gui|thuc hien|theo de nghi|xet de nghi|dieu \d|hom nay|vao hoi|"
    r"noi nhan|quyet dinh\s*:|quyet nghi\s*:)"
)
# Openers that may also begin a subject (`Đề nghị …`): body only after a subject line.
_BODY_LATER = re.compile(
    r"^\W{0,2}(theo |de |nham |tren co so|chuong [ivxl\d]|phan [ivxl\d]|[ivx]+\.\s|\d+\.\s)"
)
_AFTER_SUBJECT = re.compile(r"^\W{0,2}(uy ban nhan dan|ubnd|chung nhan\b|xac nhan\b)")
#: a subject line is never longer than this (centred at 82 % of the text width, 14 pt)
MAX_SUBJECT_LINE = 75
MAX_SUBJECT_ROWS = 6
#: a segment ending left of this share of the text column is no part of a centred subject
MARGIN_MARK = 0.15
# marks of a seal or a stamp OCR reads as words of their own (`‹`, `ˆ`): dropped from a subject
_STRAY = "‹›ˆ˜`´¨|"


@dataclass
class TitleRead:
    """The title's type, where it is, and the subject read under it (or after `V/v`)."""

    title: TitleMatch | None = None
    title_row: int | None = None
    subject: str | None = None
    subject_rows: int = 0
    vv: bool = False  # the subject came from a `V/v` line (a công văn's)
    salutation: bool = False  # `Kính gửi:` under the header (a công văn's, a tờ trình's)
    confidence: float | None = None  # the OCR engine's, lowest over the subject's segments
    issuer_line: str | None = None  # a certificate names its issuer under the subject


def record_subject(text: str) -> str:
    """The subject as the record holds it: a công văn's `V/v` mark dropped (it marks the line,
    as `Số:` marks the number; `Về việc` printed in full stays, as printed)."""
    text = squash(text)
    m = _VV.match(fold(text))
    return text[m.end() :].strip() if m else text


def _is_body_line(seg: Seg, later: bool = False) -> bool:
    if seg.x0 is not None and seg.x1 is not None and seg.x0 < 0.04 and seg.x1 > 0.96:
        return True  # a justified line spans the whole text column; subjects are centred
    if len(seg.text) > MAX_SUBJECT_LINE or _BODY.match(seg.fold):
        return True
    return later and bool(_BODY_LATER.match(seg.fold))


def _min_conf(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _vv_subject(
    rows: list[Row], first: int, last: int
) -> tuple[str, int, int, float | None] | None:
    """A công văn's subject: the `V/v` segment and its continuation lines below it."""
    for i in range(max(0, first), min(len(rows), last)):
        for seg in rows[i].segs:
            m = _VV.match(seg.fold)
            if m is None or seg.side == "right":
                continue
            parts, confs = [seg.text[m.end() :].strip()], [seg.confidence]
            for j in range(i + 1, min(len(rows), i + 4)):
                cont = [s for s in rows[j].segs if s.side in (None, "left")]
                if not cont or rows[j].gap:
                    break
                nxt = cont[0]
                if (
                    _SALUTATION.match(nxt.fold)
                    or mark_of(nxt.text)
                    or len(nxt.text) > 70
                    or upper_ratio(nxt.text) > 0.6
                    or _is_body_line(nxt)
                ):
                    break
                parts.append(nxt.text)
                confs.append(nxt.confidence)
            return squash(" ".join(p for p in parts if p)), i, len(parts), _min_conf(confs)
    return None


def read_title(rows: list[Row], head: Header, hint: str | None = None) -> TitleRead:
    """Find the type title after the header and read the subject."""
    out = TitleRead()
    start = head.last_row + 1 if head.last_row >= 0 else 0
    number_row = next((p.row for p in head.pieces if p.kind == "number"), None)
    vv = _vv_subject(rows, (number_row + 1) if number_row is not None else start, start + 6)
    vv_rows: set[int] = set()
    if vv is not None:
        out.subject, first_row, out.subject_rows, out.confidence = vv
        out.vv = True
        vv_rows = set(range(first_row, first_row + out.subject_rows))
    for i in range(start, min(len(rows), start + 10)):
        row = rows[i]
        segs = [s for s in row.segs if mark_of(s.text) is None]
        if not segs:
            continue
        if _SALUTATION.match(segs[0].fold):
            out.salutation = True
            break
        if i in vv_rows:
            continue
        text = " ".join(s.text for s in segs)
        found = match_title(text, hint)
        if found is not None:
            out.title, out.title_row = found, i
            break
        if any(_is_body_line(s) for s in segs) and upper_ratio(text) < 0.6:
            break
    if out.title_row is not None and not out.vv:
        _subject_after_title(rows, out)
    return out


def after_stamp(text: str) -> str | None:
    """What follows a stamp OCR joined to a subject line (`CÔNG. THÔNG TÍN sa TỦ CHÍNH PHỦ _
    Quy định chức năng, …`): from the first word in small letters after a capital, when the
    part before it is the stamp alone and the rest is no stamp; else None."""
    words = text.split()
    for i, word in enumerate(words):
        if i and len(word) >= 2 and word[0].isupper() and word[1:].isalpha() and word[1:].islower():
            head, rest = " ".join(words[:i]), " ".join(words[i:])
            if is_stamp(head) and not is_stamp(rest) and len(words) - i >= 3:
                return rest
            return None
    return None


def _subject_after_title(rows: list[Row], out: TitleRead) -> None:
    assert out.title_row is not None
    parts: list[str] = []
    confs: list[float | None] = []
    for k, row in enumerate(rows[out.title_row + 1 : out.title_row + 1 + MAX_SUBJECT_ROWS + 2]):
        # a mark in the left margin beside a centred subject line is a stamp's, not the line's
        kept = [s for s in row.segs if s.x1 is None or s.x1 >= MARGIN_MARK]
        text = " ".join(s.text for s in kept)
        if is_rule(text) or len(text.strip(" -_.~*")) < 2:
            if parts:
                break
            continue
        segs = kept
        if k == 0 and not row.gap and len(segs) == 1 and upper_ratio(text) < 0.6:
            segs = [Seg(text)]  # right under the title a long subject line may fill the column
        if is_stamp(text):  # the portal's or a receipt stamp over the title
            text = after_stamp(text) or ""
            if not text and parts:
                break
            if not text:
                continue
            segs = [Seg(text)]  # the stamp's words moved the segment's box: its text only
        if parts and _AFTER_SUBJECT.match(fold(text)):
            # a certificate's issuer and `Chứng nhận:` under its subject, often after a gap
            if upper_ratio(text) > 0.9 and not fold(text).startswith(("chung", "xac")):
                out.issuer_line = text.strip()
            break
        if parts and row.gap:
            break
        if any(_is_body_line(s, bool(parts)) for s in segs) or _SALUTATION.match(fold(text)):
            break
        if parts and upper_ratio(parts[-1]) < 0.6 and upper_ratio(text) > 0.9:
            break  # the authority line under a subject (`CHỦ TỊCH ỦY BAN NHÂN DÂN …`)
        parts.append(" ".join(w for w in text.split() if w.strip(_STRAY)).strip(" _~—-"))
        confs.append(_min_conf([s.confidence for s in row.segs]))
        if len(parts) >= MAX_SUBJECT_ROWS:
            break
    if parts:
        out.subject = squash(" ".join(parts))
        out.subject_rows = len(parts)
        out.confidence = _min_conf(confs)
