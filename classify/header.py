"""The header of page 1: issuer block, national name and motto, number, place and date, marks.

Works on rows of segments (`layout.page_rows`). OCR and PDF text extraction join the two
header columns into one line (`ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI …`), so segments are first
cut at the printed phrases whose wording is fixed (the national name, the motto), then at the
end of the number symbol and at the start of the place-and-date phrase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from classify.dates import DateRead, parse_date
from classify.layout import Row, Seg
from classify.numbers import NumberRead, parse_number
from classify.text import fold, is_rule, letters, upper_ratio

NATIONAL = fold("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
MOTTO = fold("Độc lập - Tự do - Hạnh phúc")
#: rows of page 1 searched for the header's fixed parts
HEADER_ROWS = 16
SECRECY = {"mat": "mat", "toi mat": "toi_mat", "tuyet mat": "tuyet_mat"}
URGENCY = {"khan": "khan", "thuong khan": "thuong_khan", "hoa toc": "hoa_toc"}


@dataclass
class Piece:
    """A segment, or part of one, with its row and what it was recognised as."""

    row: int
    seg: Seg
    kind: str = "other"  # national, motto, number, date, other

    @property
    def text(self) -> str:
        return self.seg.text


@dataclass
class Header:
    """What the header says; rows are indexes into the page's rows."""

    issuer_lines: list[str] = field(default_factory=list)
    number: NumberRead | None = None
    number_confidence: float | None = None  # the OCR engine's, for the number segment
    date: DateRead | None = None
    date_confidence: float | None = None
    secrecy: str | None = None
    urgency: str | None = None
    national: bool = False
    last_row: int = -1  # the last row of the header table (number, date, national name)
    pieces: list[Piece] = field(default_factory=list)


def _find(folded: str, phrase: str, cutoff: float) -> tuple[int, int] | None:
    if len(folded) < 0.6 * len(phrase):
        return None
    found = fuzz.partial_ratio_alignment(phrase, folded, score_cutoff=cutoff)
    if found is None or found.src_end - found.src_start < 0.8 * len(phrase):
        return None
    return found.dest_start, found.dest_end


def split_anchors(row: int, seg: Seg, anchors: dict[str, int]) -> Iterator[Piece]:
    """Cut the national name and the motto out of a segment; yield the pieces in order.

    `anchors` (kind → row) is updated: each fixed phrase is taken once, the first time.
    """
    for kind, phrase, cutoff in (("national", NATIONAL, 80.0), ("motto", MOTTO, 75.0)):
        if kind in anchors:
            continue
        span = _find(seg.fold, phrase, cutoff)
        if span is None or (kind == "national" and upper_ratio(seg.text[span[0] : span[1]]) < 0.6):
            continue  # in capitals on the header; a body line may quote it in lower case
        anchors[kind] = row
        start, end = span
        if seg.text[:start].strip():
            yield from split_anchors(row, seg.piece(0, start), anchors)
        yield Piece(row, seg.piece(start, end), kind)
        if seg.text[end:].strip():
            yield from split_anchors(row, seg.piece(end, len(seg.text)), anchors)
        return
    yield Piece(row, seg)


def mark_of(text: str) -> tuple[str, str] | None:
    """("secrecy"|"urgency", code) when the text is a mark and nothing else (`| KHẨN |`)."""
    key = " ".join(fold(letters_and_spaces(text)).split())
    if key in SECRECY:
        return "secrecy", SECRECY[key]
    if key in URGENCY:
        return "urgency", URGENCY[key]
    return None


def letters_and_spaces(text: str) -> str:
    return "".join(ch if ch.isalpha() else " " for ch in text)


# Receipt stamps (`CÔNG VĂN ĐẾN`, `ĐẾN`, `Số: … Ngày: … Giờ: …`) and the publishing portal's
# marks (`CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ`, `chinhphu.vn`) printed over the header (folded).
_STAMP = re.compile(
    r"(\bcong van den\b|^\W*(\w\W+)?den\W*$|^\W*den\W*(ngay|noay|gio|so)\b|"
    r"\bgio\s*[:.]|\bngay\s*[:.]|\b[a-z]{2,}\.(vn|com|gov)\b|www|http|\bchuyen\s*[:.]|"
    r"\bluu ho so\b)"
)


_PORTAL = "cong thong tin dien tu"
_BODY_HEADS = ("trung tam ", "cuc ", "so ", "phong ", "vu ", "ban ", "vien ", "bo ", "chi cuc ")


def is_stamp(text: str) -> bool:
    """A line of a receipt stamp or of the portal's mark, not of the issuer's name."""
    key = " ".join(fold(text).split())
    if _STAMP.search(key):
        return True
    if key.startswith(_BODY_HEADS):  # `TRUNG TÂM THÔNG TIN ĐIỆN TỬ` is a body's name
        return False
    return len(key) >= 16 and fuzz.partial_ratio(_PORTAL, key) >= 82


def _stamp_owners(pieces: list[Piece]) -> set[int]:
    """Ids of the lines right above a `CÔNG VĂN ĐẾN` line: the body that received it
    (`VĂN PHÒNG CHÍNH PHỦ`), printed in the stamp, not the issuer."""
    owners: set[int] = set()
    for piece in pieces:
        if "cong van den" in " ".join(fold(piece.text).split()):
            above = [p for p in pieces if p.row == piece.row - 1 and p.kind == "other"]
            near = [p for p in above if _overlaps(p.seg, piece.seg)] or above[:1]
            owners.update(id(p) for p in near)
    return owners


def _overlaps(a: Seg, b: Seg) -> bool:
    if a.x0 is None or a.x1 is None or b.x0 is None or b.x1 is None:
        return True
    return not (a.x1 < b.x0 or b.x1 < a.x0)


def _is_issuer_line(piece: Piece) -> bool:
    text = piece.text
    return (
        piece.kind == "other"
        and not is_stamp(text)
        and piece.seg.side != "right"
        and len(letters(text)) >= 2
        and not is_rule(text)
        and upper_ratio(text) >= 0.85
        and mark_of(text) is None
    )


_OPEN_END = re.compile(r"(\bngay|\bthang|\bs[o06e]\s*[:;.,]?|/)\W*$")
_OPEN_START = re.compile(r"^\W*(thang|nam|/|\d)")


def _join_gaps(segs: list[Seg]) -> list[Seg]:
    """Join segments cut at a gap left for a hand (`ngày ____ tháng`, `Số: ____/QĐ-UBND`)."""
    out = [segs[0]] if segs else []
    for seg in segs[1:]:
        last = out[-1]
        if _OPEN_END.search(last.fold) and _OPEN_START.match(seg.fold):
            x1 = seg.x1 if seg.x1 is not None else last.x1
            confs = [c for c in (last.confidence, seg.confidence) if c is not None]
            digits = [c for c in (last.digits_confidence, seg.digits_confidence) if c is not None]
            out[-1] = Seg(
                f"{last.text} {seg.text}",
                last.x0,
                x1,
                min(confs) if confs else None,
                min(digits) if digits else None,
            )
        else:
            out.append(seg)
    return out


def _caps_only(text: str) -> str:
    """An issuer line without the stray words OCR adds at its ends (`… TỪ LIÊM Sn Uài Ms`)."""
    tokens = text.split()

    def caps(tok: str) -> bool:
        ls = letters(tok)
        return not ls or ls.isupper()

    while tokens and not caps(tokens[-1]):
        tokens.pop()
    while tokens and not caps(tokens[0]):
        tokens.pop(0)
    return " ".join(tokens)


def read_header(rows: list[Row]) -> Header:
    """Read the header table of page 1 from its rows."""
    head = Header()
    anchors: dict[str, int] = {}
    pieces: list[Piece] = []
    for i, row in enumerate(rows[:HEADER_ROWS]):
        for seg in _join_gaps(row.segs):
            pieces.extend(split_anchors(i, seg, anchors))
    number_row = -1
    for idx, piece in enumerate(pieces):
        if piece.kind != "other" or piece.row >= 12:
            continue
        read = parse_number(piece.text)
        if read is None:
            continue
        head.number, head.number_confidence = read, piece.seg.digits_confidence
        number_row = piece.row
        rest = piece.seg.piece(read.end, len(piece.text))
        piece.seg, piece.kind = piece.seg.piece(0, read.end), "number"
        if rest.text:
            pieces.insert(idx + 1, Piece(piece.row, rest))
        break
    anchor_row = max([number_row, *anchors.values()], default=-1)
    date_limit = anchor_row + 2 if anchor_row >= 0 else 6
    date_row = -1
    for piece in pieces:
        if piece.kind != "other" or piece.row > date_limit:
            continue
        found = parse_date(piece.text)
        if found is None or (found.place and len(found.place.split()) > 7):
            continue
        head.date, head.date_confidence = found, piece.seg.digits_confidence
        date_row = piece.row
        piece.kind = "date"
        break
    head.national = "national" in anchors or "motto" in anchors
    head.last_row = max(anchor_row, date_row)
    limit = number_row if number_row >= 0 else (date_row if date_row >= 0 else head.last_row + 1)
    if limit < 0:
        limit = 4
    owners = _stamp_owners(pieces)
    lines = [
        _caps_only(p.text)
        for p in pieces
        if p.row < limit and _is_issuer_line(p) and id(p) not in owners
    ]
    head.issuer_lines = [ln for ln in lines if ln]
    head.pieces = pieces
    return head


def find_marks(rows: list[Row], first: int, last: int) -> dict[str, str]:
    """Secrecy and urgency marks printed alone on a line of rows[first:last]."""
    found: dict[str, str] = {}
    for row in rows[max(0, first) : last]:
        for seg in row.segs:
            mark = mark_of(seg.text)
            if mark is not None and len(seg.text) <= 20:
                found.setdefault(mark[0], mark[1])
    return found


_CONSOLIDATED = fold("XÁC THỰC VĂN BẢN HỢP NHẤT")


def consolidated_issuer(text: str) -> str | None:
    """The body that certifies a consolidated text (VBHN): its page 1 prints no header; the
    last page ends with `BỘ QUỐC PHÒNG   XÁC THỰC VĂN BẢN HỢP NHẤT` / `Số: …/VBHN-BQP …`.
    Returns the body's name as printed (`BỘ QUỐC PHÒNG`, maybe empty), or None without one."""
    for line in text.splitlines()[-80:]:
        key = fold(line)
        span = _find(key, _CONSOLIDATED, 85.0)
        if span is None or upper_ratio(line) < 0.8:
            continue
        before = _caps_only(line[: span[0]].strip(" -|_~"))
        return before if len(letters(before)) >= 2 and not is_stamp(before) else ""
    return None
