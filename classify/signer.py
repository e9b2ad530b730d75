"""The signature block: `TM. ỦY BAN NHÂN DÂN` / `KT. CHỦ TỊCH` / `PHÓ CHỦ TỊCH` / name.

The block sits at the bottom right, beside the `Nơi nhận:` list; OCR joins the two columns
line by line (`- UBND Thành phố; CHỦ TỊCH`), so without word boxes the right part of a
line is what follows the last recipient item. The signer's name is the block's last line,
below the signature and the red seal (which OCR reads as stray marks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from classify.layout import Row
from classify.names import is_name_word, known_surname, repair_name
from classify.text import fold, is_vietnamese, letters, squash

_PREFIX = re.compile(r"(?<![^\W\d_])(TM|KT|TL|TUQ|Q|T/M|K/T)\s?[.,:;]\s?(?=[^\W\d_])")
_TITLES_TEXT = (
    "CHỦ TỊCH|PHÓ CHỦ TỊCH|GIÁM ĐỐC|PHÓ GIÁM ĐỐC|TỔNG GIÁM ĐỐC|PHÓ TỔNG GIÁM ĐỐC|"
    "TRƯỞNG PHÒNG|PHÓ TRƯỞNG PHÒNG|CHÁNH VĂN PHÒNG|PHÓ CHÁNH VĂN PHÒNG|CHÁNH THANH TRA|"
    "PHÓ CHÁNH THANH TRA|BỘ TRƯỞNG|THỨ TRƯỞNG|THỦ TƯỚNG|PHÓ THỦ TƯỚNG|CHỦ TỊCH QUỐC HỘI|"
    "PHÓ CHỦ TỊCH QUỐC HỘI|THỐNG ĐỐC|PHÓ THỐNG ĐỐC|TỔNG CỤC TRƯỞNG|PHÓ TỔNG CỤC TRƯỞNG|"
    "CỤC TRƯỞNG|PHÓ CỤC TRƯỞNG|VỤ TRƯỞNG|PHÓ VỤ TRƯỞNG|CHI CỤC TRƯỞNG|HIỆU TRƯỞNG|"
    "PHÓ HIỆU TRƯỞNG|VIỆN TRƯỞNG|PHÓ VIỆN TRƯỞNG|TRƯỞNG BAN|PHÓ TRƯỞNG BAN|BÍ THƯ|PHÓ BÍ THƯ|"
    "CHÁNH ÁN|CHỦ NHIỆM|PHÓ CHỦ NHIỆM|ỦY VIÊN|THƯ KÝ|CHỦ TỌA|KẾ TOÁN TRƯỞNG|NGƯỜI LẬP"
)
KNOWN_TITLES = {fold(t): t for t in _TITLES_TEXT.split("|")}
# Folded words that make a line in capitals a signer's title or signing authority.
_TITLE_WORDS = re.compile(
    r"\b(chu\s?tich|tich|giam\s?doc|truong|tuong|thong\s?doc|chanh|bi\s?thu|pho|uy\s?vien|"
    r"thu\s?ky|chu\s?nhiem|tong|uy ban|hoi dong|chinh phu|quoc hoi|dai dien|nguoi|can bo|"
    r"ke toan|hieu\s?truong|chi huy|tu lenh|chu\s?toa|thu\s?truong)\b"
)
RANKS = (
    "Đại tướng", "Thượng tướng", "Trung tướng", "Thiếu tướng", "Đại tá", "Thượng tá",
    "Trung tá", "Thiếu tá", "Đại úy", "Thượng úy", "Trung úy", "Thiếu úy",
)  # fmt: skip
_DEGREES = re.compile(
    r"^(GS|PGS|TS|TSKH|ThS|Ths|THS|BS|BSCKI+|KS|CN|LS|NCS|DS)\.?((TS|TSKH|BS|ThS)\.?)*$"
)
_NOI_NHAN = re.compile(r"^\W*n[a-z]i nh[a-z]n\b")
#: rows below the title block searched for the name (the signature and seal sit between)
NAME_WINDOW = 8


@dataclass
class SignerRead:
    """The signing authority lines, the signer's own title, the name, and how sure."""

    authority: list[str] = field(default_factory=list)  # ["TM. ỦY BAN NHÂN DÂN", "KT. …"]
    title: str | None = None  # "PHÓ CHỦ TỊCH" as printed
    title_sure: bool = True
    name: str | None = None
    name_score: float = 0.0  # 0–1: a known surname first, a clean run of names
    confidence: float | None = None  # the OCR engine's, for the name's segment


def _is_name_word(token: str) -> bool:
    ls = letters(token)
    return (
        ls == token
        and 1 <= len(ls) <= 7
        and token[0].isupper()
        and (len(token) == 1 or token[1:].islower())
    )


def _words(text: str) -> list[str]:
    """Words of a line, the seal's and signature's stray marks (`\\`, `¿`, `'`) as spaces."""
    return squash("".join(ch if ch.isalpha() or ch == "." else " " for ch in text)).split(" ")


def _name_word(token: str) -> str | None:
    """The token as a word of a name: `Phạm`; `xuân` (a known name word in lower case) as
    `Xuân`; None for anything else."""
    if _is_name_word(token):
        return token
    if token.isalpha() and token.islower() and is_name_word(token):
        return token[:1].upper() + token[1:]
    return None


def name_run(text: str) -> tuple[str, float] | None:
    """The person's name at the end of `text` (`… VHTT. Nguyễn Văn Thành`), and a score.

    The name must start with a known surname (a rank may precede it): a run of names whose
    surname the seal or the signature wiped out (`Văn Kim Quân`) is no name to record.
    """
    tokens = _words(text)
    run: list[str] = []
    capital: list[bool] = []  # printed with a capital (a lower-case word only inside a name)
    while tokens and (word := _name_word(tokens[-1])) is not None:
        if not run and word != tokens[-1]:
            break  # a name ends with a capital: `… xử lý vi` is the end of a sentence
        capital.insert(0, word == tokens.pop())
        run.insert(0, word)
    if run and not known_surname(run[0]) and known_surname(run[0][1:]):
        run[0] = run[0][1].upper() + run[0][2:]  # `Švũ`: a mark of the seal glued to `Vũ`
    starts = [i for i, tok in enumerate(run[:-1]) if known_surname(tok) and capital[i]]
    if not starts:
        return None
    tokens += run[: starts[0]]
    run = run[starts[0] :]
    if len(run) > 5:
        return None
    fixed = repair_name(run)
    if not is_vietnamese("".join(fixed)):
        return None  # `Hồñg`: a letter no name has, and no known name word to read it as
    score = 0.95 if fixed == run else 0.8
    return " ".join(fixed), score


def strip_honorifics(name: str) -> str:
    """The person's name without a military rank or academic title before it:
    `Thượng tướng Nguyễn Văn Gấu` → `Nguyễn Văn Gấu`, `PGS.TS. Nguyễn Đình Hiền` → `Nguyễn
    Đình Hiền`. The record holds the name alone; the function is the signer's title."""
    words = squash(name).split(" ")
    changed = True
    while changed and len(words) > 2:
        changed = False
        for rank in RANKS:
            n = len(rank.split())
            if fold(" ".join(words[:n])) == fold(rank) and len(words) > n + 1:
                words, changed = words[n:], True
                break
        if not changed and _DEGREES.match(words[0].replace(" ", "")):
            words, changed = words[1:], True
    return " ".join(words)


def _right_part(seg_text: str) -> str:
    """What a joined line holds of the right column: after the last recipient item."""
    text = squash(seg_text)
    prefix = _PREFIX.search(text)
    if prefix:
        return text[prefix.start() :]
    label = re.match(r"^\W*n[a-z]i nh[a-z]n\s*[:;.]?", fold(text))
    if label:  # `Nơi nhận: 59. CHỦ TỊCH`: what follows the label is the right column's
        return text[label.end() :].strip()
    if text[:1] in "-+•*~–—=":  # a recipient item: `- UBND Thành phố; CHỦ TỊCH`
        cut = max(text.rfind(";"), text.rfind(":"), text.rfind("./."), text.rfind(". "))
        return text[cut + 1 :].strip(" .") if cut >= 0 else text
    if ";" in text:  # a recipient item that lost its dash: `Lãnh đạo đơn vị; PHÓ CHỦ TỊCH`
        return text[text.rfind(";") + 1 :].strip()
    return text


def _clean_title(text: str) -> tuple[str, str]:
    """(title, what was cut before it): stray marks of the seal and signature cut off,
    `⁄5'Q: CHỦ TỊCH` → `Q. CHỦ TỊCH`."""
    prefix = _PREFIX.search(text)
    if prefix:
        return f"{prefix.group(1)}. " + text[prefix.end() :].strip(), text[: prefix.start()]
    for i, ch in enumerate(text):
        if ch.isupper() and (i == 0 or not text[i - 1].isalnum()):
            rest, cut = text[i:], text[:i]
            damaged = re.match(r"^\S{1,3}[.:]\s+", rest)  # `QÒ. CHỦ TỊCH`: no prefix known
            if damaged:
                return rest[damaged.end() :], cut + damaged.group(0).strip()
            return rest, cut
    return "", text


def snap_title(text: str) -> str:
    """A title read with OCR errors set to the known title it is (`CÑỦ TỊCH` → `CHỦ TỊCH`);
    a stray one-letter word before it (`Z PHÓ CHỦ TỊCH`) goes if it is no known title."""
    key = " ".join(fold("".join(ch if ch.isalpha() else " " for ch in text)).split())
    if key in KNOWN_TITLES:
        return KNOWN_TITLES[key]
    found = process.extractOne(key, list(KNOWN_TITLES), scorer=fuzz.ratio, score_cutoff=88)
    if found:
        return KNOWN_TITLES[found[0]]
    head, _, rest = text.partition(" ")
    return rest if len(head) == 1 and rest else text


_TITLE_QUOTES = str.maketrans({c: " " for c in "'`‘’“”\"|_~^*"})


def title_line(text: str) -> tuple[str, bool] | None:
    """The text when it is a line of the signing authority or title (capitals), and whether
    a mark that may have been a prefix (`⁄⁄^90..`, `QÒ.`) stood before it."""
    text, cut = _clean_title(squash(text.translate(_TITLE_QUOTES)).strip(" .,"))
    ls = letters(text)
    if len(ls) < 2 or sum(ch.isupper() for ch in ls) < 0.85 * len(ls):
        return None
    if _PREFIX.match(text) or _TITLE_WORDS.search(fold(text)):
        return text, bool(re.search(r"[.:;,]\s*$", cut))
    return None


def read_signer(rows: list[Row], start: int = 0) -> SignerRead:
    """Read the signature block of the page the rows come from, below rows[start]."""
    out = SignerRead()
    cands: list[tuple[int, str, bool]] = []  # (row, title line, a damaged prefix before it)
    for i, row in enumerate(rows):
        if i < start:
            continue
        for seg in row.segs:
            if seg.side == "left":
                continue
            title = title_line(_right_part(seg.text))
            if title is not None:
                cands.append((i, *title))
    if not cands:  # the seal took the titles: look for the name below `Nơi nhận:` alone
        label = next(
            (i for i, r in enumerate(rows) if i >= start and _NOI_NHAN.match(r.fold)), None
        )
        if label is None:
            return out
        cands = [(label, "", False)]
    # The block: the last run of title lines, at most one row apart.
    block: list[tuple[int, str, bool]] = [cands[-1]]
    for cand in reversed(cands[:-1]):
        if block[0][0] - cand[0] > 2:
            break
        block.insert(0, cand)
    lines = [text for _, text, _ in block if text]
    out.authority = [ln for ln in lines if _PREFIX.match(ln)]
    titles = [ln for ln in lines if not _PREFIX.match(ln)]
    out.title = snap_title(titles[-1]) if titles else None
    if out.title and not is_vietnamese(out.title):
        out.title = None  # `€RÖ TỊCH`: too damaged to say which title it was
    if not lines:
        pass
    elif lines[-1].startswith("Q."):  # `Q. CHỦ TỊCH`: acting, that is the signer's title
        out.title = "Q. " + snap_title(lines[-1][2:])
    elif block[-1][2] and out.title:
        # Only `Q.` stands before the last line: a prefix the seal made unreadable.
        out.title, out.title_sure = "Q. " + out.title, False
    last = block[-1][0]
    found: list[tuple[float, str, float | None]] = []
    for row in rows[last + 1 : last + 1 + NAME_WINDOW]:
        for seg in row.segs:
            if seg.side == "left":
                continue
            named = name_run(_right_part(seg.text) or seg.text)
            if named is not None:
                found.append((named[1], named[0], seg.confidence))
    if found:
        best = max(found, key=lambda item: item[0])  # the first of the best (a surname first)
        out.name_score, out.name, out.confidence = best[0], best[1], best[2]
    return out
