"""Names as the state writes them: ministries, agencies, provinces and wards.

OCR misreads marks on capitals (`QUANG NGAÀI`, `TRUYÊN THÔNG`). A span of an issuer's name
is set to the official spelling only when it is no known name as read and exactly one known
name is that close: the same letters with other marks, or (long names) one letter more or less.
The list: the ministries and agencies of `schemas/vocab/agencies.csv`, the provinces before
the 2025 merger (`provinces_2024.csv`) and the provinces and wards after it
(`vietnam-provinces`), each with its level word (`tỉnh Quảng Ngãi`, `phường Hoàn Kiếm`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from rapidfuzz.distance import Levenshtein

from classify.text import fold, modern_tones, nfc, squash
from schemas.vocab import agencies, provinces_2024

#: what ends a name inside an issuer line: the end, or a connector
_ENDS = {"và", "-", ",", ";", "–", "thuộc", "của"}
#: a name this long (folded letters) may differ by one letter from the known one
_LONG = 8


def _key(text: str) -> str:
    return squash(re.sub(r"[^\w]+", " ", modern_tones(nfc(text)).lower()))


def _level_names() -> list[str]:
    from vietnam_provinces import Province, Ward

    out = [f"{kind} {name}" for name, kind in provinces_2024()]
    for p in Province.iter_all():
        name = p.name
        for head in ("Thành phố ", "Tỉnh "):
            name = name.removeprefix(head)
        out.append(("thành phố " if "thành phố" in p.division_type.value else "tỉnh ") + name)
    for w in Ward.iter_all():
        out.append(w.name[:1].lower() + w.name[1:])  # `Phường Hoàn Kiếm` → `phường Hoàn Kiếm`
    return out


@cache
def _known() -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
    """(key → official spelling, folded key → keys, folded key with no letter doubled → keys)."""
    spelled: dict[str, str] = {}
    for name in [a.name for a in agencies()] + _level_names():
        spelled.setdefault(_key(name), name)
    folded: dict[str, list[str]] = {}
    single: dict[str, list[str]] = {}
    for key in spelled:
        folded.setdefault(fold(key), []).append(key)
        single.setdefault(_undouble(fold(key)), []).append(key)
    return spelled, folded, single


def official(name: str) -> str | None:
    """The official spelling of a whole name when one known name is that close, else None."""
    key = _key(name)
    if not key:
        return None
    spelled, folded, single = _known()
    if key in spelled:
        return spelled[key]
    flat = fold(key)
    same = folded.get(flat, [])
    if len(same) == 1:
        return spelled[same[0]]
    if same or len(flat.replace(" ", "")) < _LONG:
        return None
    near = set(single.get(_undouble(flat), [])) | {k for k in _agency_keys() if _near(flat, k)}
    return spelled[near.pop()] if len(near) == 1 else None


def _near(read: str, known_key: str) -> bool:
    """In a ministry's or agency's long name, one letter off past its head word (`Truyên`
    read for `Truyền` is a mark; `Truyn` a letter). Places get no such leeway: `Phúc Diễn`
    is never `Phú Diễn`, both are wards; only a letter read twice (`Ngaài`) is undone."""
    known = fold(known_key)
    head, _, rest = read.partition(" ")
    if head != known.partition(" ")[0] or len(read.split()) != len(known.split()):
        return False
    return Levenshtein.distance(rest, known.partition(" ")[2], score_cutoff=1) <= 1


def _undouble(text: str) -> str:
    return re.sub(r"([a-z])\1", r"\1", text)


@cache
def _agency_keys() -> tuple[str, ...]:
    return tuple(_key(a.name) for a in agencies())


def _styled(new: str, old: Sequence[str]) -> list[str]:
    """`new`'s words in the case `old` was printed in (capitals stay capitals)."""
    joined = " ".join(old)
    if joined.isupper():
        return new.upper().split()
    words = new.split()
    pairs = zip(words, old, strict=True)
    return [w if not o[:1].isupper() else w[:1].upper() + w[1:] for w, o in pairs]


def correct_names(text: str) -> str:
    """Known names in an issuer's text set to their official spelling where sure
    (`BỘ THÔNG TIN VÀ TRUYÊN THÔNG` → `… TRUYỀN THÔNG`, `tỉnh Quang Ngaài` → `tỉnh Quảng
    Ngãi`). A span is a name only up to the end of the text or a connector."""
    tokens = squash(nfc(text)).split(" ") if text.strip() else []
    if not tokens or len(tokens) > 40:
        return text
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            if j < len(tokens) and tokens[j].lower() not in _ENDS:
                continue
            span = tokens[i:j]
            if not any(ch.isalpha() for ch in span[0]) or span[-1].lower() in _ENDS:
                continue
            found = official(" ".join(span))
            if found is not None and len(found.split()) == len(span):
                out += _styled(found, span)
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def joint_issuers(lines: Sequence[str], notation: str | None) -> list[str]:
    """The bodies of a joint document (`TÒA ÁN NHÂN DÂN TỐI CAO` / `VIỆN KIỂM SÁT …` /
    `BỘ TƯ PHÁP`, `Số: 01/2016/TTLT-TANDTC-VKSNDTC-BTP`), each by its official name; empty
    when the block is one body's. Joint only when the symbol names several bodies and every
    line is a known central body by itself."""
    if not notation or notation.count("-") < 2 or len(lines) < 2:
        return []
    names = []
    for line in lines:
        clean = squash(re.sub(r"[^\w\s,-]+|(?<=\s)[-–—~=_]+(?=\s|$)", " ", line)).strip(" -,")
        found = official(clean)
        if found is None or found not in {a.name for a in agencies()}:
            return []
        names.append(found)
    return names if len(set(names)) == len(names) else []


_LEVEL_HEADS = ("thành phố ", "tỉnh ", "phường ", "xã ", "đặc khu ", "thị trấn ")


@cache
def _places() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Bare place names (`Quảng Ngãi`, `Hoàn Kiếm`): (key → spelling, folded key → keys)."""
    spelled: dict[str, str] = {}
    for name in _level_names():
        for head in _LEVEL_HEADS:
            if name.lower().startswith(head):
                name = name[len(head) :]
                break
        spelled.setdefault(_key(name), name)
    folded: dict[str, list[str]] = {}
    for key in spelled:
        folded.setdefault(_undouble(fold(key)), []).append(key)
    return spelled, folded


def official_place(place: str) -> str | None:
    """The place of the date line in its official spelling (`Quang Ngaài` → `Quảng Ngãi`)
    when exactly one province or ward is that close; None when it is right or unsure."""
    key = _key(place)
    spelled, folded = _places()
    if not key or key in spelled:
        return None
    same = folded.get(_undouble(fold(key)), [])
    return spelled[same[0]] if len(same) == 1 else None
