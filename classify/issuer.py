"""The issuing body: parent and issuer lines, abbreviations, capitalisation, known units.

Decree 30 prints the issuer in capitals, often on two lines: either one name wrapped
(`ỦY BAN NHÂN DÂN` / `QUẬN BẮC TỪ LIÊM`) or the parent body above the issuing body
(`UBND QUẬN BẮC TỪ LIÊM` / `PHÒNG NỘI VỤ`). The second line starts a new name when it
begins with the head word of a body and the first line is a whole name by itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from rapidfuzz import fuzz

from classify.text import fold, modern_tones, nfc, squash
from schemas.unit import Unit

_EXPANSIONS = {
    "ubnd": "ủy ban nhân dân",
    "hdnd": "hội đồng nhân dân",
    "tp.": "thành phố",
    "tx.": "thị xã",
    "mttq": "mặt trận tổ quốc",
}
# Head words that begin the name of a body (folded); a line starting with one starts a name.
_HEADS = (
    "ubnd", "uy ban", "hdnd", "hoi dong", "phong", "so", "cuc", "chi cuc", "tong cuc", "vu",
    "ban", "trung tam", "van phong", "truong", "thanh tra", "benh vien", "vien", "kho bac",
    "doi", "cong an", "bo chi huy", "tram", "hoi", "chi nhanh", "dang uy", "cong ty",
    "bao hiem xa hoi", "toa an", "chi doan", "doan", "bo", "ngan hang",
)  # fmt: skip
_BARE = {"uy ban nhan dan", "ubnd", "hoi dong nhan dan", "hdnd", "uy ban", "bo", "so"}
_CONNECTORS = ("va", "-", ",", "&", "thuoc", "cua")
# Capitalised after these (the first word of a proper name follows them).
_HEADS_1 = {"bộ", "sở", "phòng", "cục", "vụ", "ban", "viện", "trường", "và", "-"}
_HEADS_2 = {
    "trung tâm", "văn phòng", "thanh tra", "ngân hàng", "kho bạc", "tổng cục", "chi cục",
    "ủy ban", "hội đồng", "công ty", "bệnh viện",
}  # fmt: skip
_LEVELS_1 = {"tỉnh", "quận", "huyện", "phường", "xã"}
_LEVELS_2 = {"thành phố", "thị xã", "thị trấn"}
_PROPER = {
    "việt nam": "Việt Nam", "quốc hội": "Quốc hội", "chính phủ": "Chính phủ",
    "nhà nước": "Nhà nước", "hà nội": "Hà Nội", "tổ quốc": "Tổ quốc", "thủ tướng": "Thủ tướng",
}  # fmt: skip
_BREAKS = {"và", "-", ",", "thuộc", "của"}
# Words of bodies' names, to put back the marks OCR drops on capitals (`TRUYEN THONG`).
_AGENCY_TEXT = (
    "ủy ban nhân dân|hội đồng nhân dân|ủy ban|hội đồng|văn phòng|phòng|sở|bộ|ban|cục|chi cục|"
    "tổng cục|trung tâm|thanh tra|tài chính|kế hoạch|đầu tư|nội vụ|tư pháp|tài nguyên|"
    "môi trường|văn hóa|thông tin|truyền thông|thể thao|du lịch|giáo dục|đào tạo|y tế|"
    "lao động|thương binh|xã hội|kinh tế|quản lý|đô thị|xây dựng|giao thông|vận tải|"
    "công thương|nông nghiệp|phát triển|nông thôn|khoa học|công nghệ|quốc phòng|công an|"
    "ngân hàng|nhà nước|việt nam|chính phủ|quốc hội|thủ tướng|thường vụ|quận|huyện|phường|"
    "tỉnh|thành phố|thị xã|thị trấn|hà nội|ngoại giao|dân tộc|tôn giáo|bảo hiểm|kho bạc|"
    "thuế|hải quan|đảng ủy|mặt trận|tổ quốc|thanh niên|phụ nữ|cựu chiến binh|nông dân|"
    "chỉ huy|quân sự|bệnh viện|trường|nhân dân"
)
_AGENCY_WORDS = _AGENCY_TEXT.split("|")
_LEVEL_WORDS = {"tinh": "tỉnh", "quan": "quận", "huyen": "huyện", "phuong": "phường", "xa": "xã"}


def split_parent(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """(parent lines, issuer lines) of the issuer block."""
    lines = [squash(line) for line in lines if line.strip()]
    split = 0
    for i in range(1, len(lines)):
        key = fold(lines[i])
        before = fold(" ".join(lines[:i]))
        if not any(key == h or key.startswith(h + " ") for h in _HEADS):
            continue
        if before.split()[-1] in _CONNECTORS or " ".join(before.split()) in _BARE:
            continue
        split = i
    return lines[:split], lines[split:]


@lru_cache(maxsize=64)
def _vocabulary(extra: tuple[str, ...]) -> dict[str, str]:
    vocab: dict[str, str | None] = {}
    for phrase in _AGENCY_WORDS:
        key = fold(phrase)
        vocab[key] = phrase if vocab.get(key, phrase) == phrase else None
    for phrase in extra:  # the place, known units' places: they win over the common words
        phrase = squash(modern_tones(nfc(phrase))).lower()
        if phrase:
            vocab[fold(phrase)] = phrase
    return {k: v for k, v in vocab.items() if v is not None}


def restore_marks(text: str, extra: Sequence[str] = ()) -> str:
    """Put back the marks OCR dropped on capitals: `UBND HUYỆN TƯ LIEM` → `… TỪ LIÊM` when the
    place reads `Từ Liêm`; `SỞ THONG TIN VÀ TRUYEN THONG` → `… THÔNG TIN … TRUYỀN THÔNG`.
    Only words read without any mark (or a level word after `UBND`) are changed."""
    vocab = _vocabulary(tuple(extra))
    tokens = squash(nfc(text)).split(" ")
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in (4, 3, 2, 1):
            span = tokens[i : i + n]
            if len(span) < n:
                continue
            key = " ".join(fold(t) for t in span)
            after_body = fold(" ".join(out)).endswith(("nhan dan", "ubnd", "hdnd"))
            level = n == 1 and after_body and key in _LEVEL_WORDS
            if not level and (key not in vocab or not any(t.isascii() for t in span)):
                continue
            phrase = _LEVEL_WORDS[key] if level else vocab[key]
            joined = " ".join(span)
            out.append(phrase.upper() if joined.isupper() else phrase)
            i += n
            break
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def expand(text: str) -> str:
    """`UBND QUẬN X` → `ủy ban nhân dân QUẬN X`: abbreviations of bodies written out."""
    out = []
    for token in squash(nfc(text)).split(" "):
        out.append(_EXPANSIONS.get(fold(token), token))
    return " ".join(out)


def name_key(text: str, *, accents: bool = True) -> str:
    """A name as compared: expanded, lower case, one tone placement, punctuation as spaces."""
    text = modern_tones(expand(text)).lower()
    text = re.sub(r"[^\w]+", " ", text)
    return squash(fold(text) if not accents else text)


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def proper_case(text: str) -> str:
    """`BỘ KHOA HỌC VÀ CÔNG NGHỆ` → `Bộ Khoa học và Công nghệ` (Vietnamese rules, roughly):
    the first word, the word after a body's head word, and place names get a capital."""
    words = modern_tones(expand(text)).lower().split()
    out: list[str] = []
    cap_next, in_place = True, False
    i = 0
    while i < len(words):
        word, nxt = words[i], (words[i + 1] if i + 1 < len(words) else "")
        pair = f"{word} {nxt}"
        if pair in _PROPER:
            out.append(_PROPER[pair])
            cap_next, i = False, i + 2
            continue
        if word in _BREAKS:
            in_place = False
        out.append(_cap(word) if (cap_next or in_place) and word not in _BREAKS else word)
        cap_next = False
        if nxt and (pair in _HEADS_2 or pair in _LEVELS_2):
            out.append(nxt)
            after = words[i + 2] if i + 2 < len(words) else ""
            if pair in _LEVELS_2:
                in_place = True
            elif after != "nhân":  # `ủy ban nhân dân`: no proper name follows
                cap_next = True
            i += 2
            continue
        if word in _HEADS_1:
            cap_next = True
        elif word in _LEVELS_1 and not (word == "xã" and nxt == "hội"):
            in_place = True
        i += 1
    return " ".join(out)


def title_case(text: str) -> str:
    """A signer's title: `PHÓ CHỦ TỊCH` → `Phó Chủ tịch`, `BỘ TRƯỞNG` → `Bộ trưởng`."""
    words = modern_tones(squash(nfc(text))).lower().split()
    out: list[str] = []
    if words and words[0] in ("q.", "q"):  # acting: `Q. Chủ tịch`
        return "Q. " + title_case(" ".join(words[1:]))
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2])
        if pair in _PROPER:
            out.append(_PROPER[pair])
            i += 2
            continue
        first = i == 0 or (i == 1 and words[0] == "phó")
        out.append(_cap(words[i]) if first else words[i])
        i += 1
    return " ".join(out)


@dataclass(frozen=True)
class UnitMatch:
    unit: Unit
    score: float  # 0–1


def _valid(unit: Unit, on: date | None) -> bool:
    if on is None:
        return True
    return not (
        (unit.valid_from and on < unit.valid_from) or (unit.valid_to and on > unit.valid_to)
    )


@lru_cache(maxsize=4096)
def _locality(name: str) -> str:
    key = name_key(name)
    for head in ("ủy ban nhân dân ", "hội đồng nhân dân "):
        key = key.removeprefix(head)
    return key


def _score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if fold(a) == fold(b):
        return 0.97  # only the diacritics differ: OCR loses them on capitals
    return max(fuzz.ratio(a, b), fuzz.ratio(fold(a), fold(b)) - 3) / 100 - 0.01


def locality(name: str) -> str:
    """`Ủy ban nhân dân phường Đông Ngạc` → `Đông Ngạc`; `Phòng Nội vụ` → `Phòng Nội vụ`."""
    words = squash(name).split(" ")
    key = [fold(w) for w in words]
    for head in (["uy", "ban", "nhan", "dan"], ["hoi", "dong", "nhan", "dan"]):
        if key[:4] == head:
            words, key = words[4:], key[4:]
    for level in (["thanh", "pho"], ["thi", "xa"], ["thi", "tran"], ["tinh"], ["quan"],
                  ["huyen"], ["phuong"], ["xa"]):  # fmt: skip
        if key[: len(level)] == level:
            return " ".join(words[len(level) :])
    return " ".join(words)


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    return name_key(name)


def match_unit(
    issuer: str, parent: str | None, units: Sequence[Unit], on: date | None = None
) -> UnitMatch | None:
    """The known unit this issuer is, or None when no unit is close and unambiguous."""
    key = name_key(issuer)
    parent_key = name_key(parent) if parent else None
    by_code = {u.code: u for u in units}
    scored: list[tuple[float, Unit]] = []
    for unit in units:
        if not _valid(unit, on):
            continue
        own = _key(unit.name)
        up = by_code.get(unit.parent) if unit.parent else None
        score = _score(key, own)
        if up is not None:
            score = max(score, _score(key, f"{own} {_locality(up.name)}"))
            if parent_key is not None and _score(parent_key, _key(up.name)) < 0.85:
                continue  # the same name under another parent body
            if parent_key is None and unit.kind == "department":
                score -= 0.08  # `PHÒNG NỘI VỤ` alone could be any district's
        elif parent_key is not None:
            score -= 0.05
        scored.append((score, unit))
    scored.sort(key=lambda item: -item[0])
    if not scored or scored[0][0] < 0.9:
        return None
    best, unit = scored[0]
    if len(scored) > 1 and scored[1][0] > best - 0.02:
        return None  # `Cổ Nhuế 1` or `Cổ Nhuế 2`: too close to tell
    return UnitMatch(unit, min(1.0, best))
