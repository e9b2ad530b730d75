"""Document types: the title in capitals (`KẾ HOẠCH`) and the type part of the symbol (`KH`).

Titles are matched folded (`KE HOACH` and `KÉ HOẠCH` are OCR's readings of `KẾ HOẠCH`);
abbreviations are matched as printed first, because folding merges some of them
(`HĐ` hợp đồng / `HD` hướng dẫn, `ĐA` đề án / `DA` dự án).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from classify.text import fold, letters, nfc
from schemas.vocab import DocumentType, document_types

# Titles printed on real documents that are not a type name of the vocabulary.
_EXTRA_TITLES = {
    # Joint circulars and resolutions are types of their own, listed nowhere: TT 05/2025 files
    # them, like every legal normative document, under 32 `Khác`.
    "thong tu lien tich": "khac",
    "nghi quyet lien tich": "khac",
    "bo luat": "luat",
    "luat": "luat",
    "phap lenh": "khac",
    "lenh": "khac",
    "hien phap": "khac",
    "thu cam on": "thu_cong",
    "thu chuc mung": "thu_cong",
    "thu khen": "thu_cong",
    "thu tham hoi": "thu_cong",
    "thu chia buon": "thu_cong",
    "giay uy quyen": "giay_uy_quyen",
    "ban thoa thuan": "ban_thoa_thuan",
    # Documents of no listed type (TT 05/2025 code 32).
    "van ban hop nhat": "khac",
    "giay chung nhan": "khac",
    "giay phep": "khac",
    "giay xac nhan": "khac",
    "chung chi": "khac",
    "dieu le": "khac",
    "noi quy": "khac",
    "danh sach": "khac",
    "bang ke": "khac",
    "trich luc": "khac",
    "xac thuc van ban hop nhat": "khac",
}
# Symbol parts of legal documents and old variants, beyond the vocabulary's abbreviations.
_EXTRA_ABBREVIATIONS = {
    "NĐ": "nghi_dinh", "TTLT": "khac", "NQLT": "khac", "VBHN": "khac", "GCN": "khac",
    "GP": "khac", "GXN": "khac",
}  # fmt: skip
#: symbol parts that begin so are certificates (`GCNATTP`: food safety): no listed type
_KHAC_PREFIXES = ("GCN", "VBHN")
_TITLE_WORDS = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class TitleMatch:
    code: str
    score: float  # 0–1
    alternatives: tuple[str, ...] = ()  # other types nearly as close (an ambiguous reading)


def title_key(text: str) -> str:
    """A title as matched: folded, letters and single spaces only (`KẾ HOẠCH:` → `ke hoach`)."""
    return " ".join(_TITLE_WORDS.split(fold(text))).strip()


@lru_cache(maxsize=1)
def _titles() -> dict[str, str]:
    titles = {title_key(t.name): t.code for t in document_types().values() if t.code != "khac"}
    titles.update(_EXTRA_TITLES)
    return titles


@lru_cache(maxsize=1)
def _abbreviations() -> tuple[dict[str, str], dict[str, str]]:
    exact: dict[str, str] = {}
    for t in document_types().values():
        if t.abbreviation:
            exact[nfc(t.abbreviation)] = t.code
            exact[nfc(t.abbreviation).split("-")[0]] = t.code
    exact.update(_EXTRA_ABBREVIATIONS)
    folded: dict[str, str | None] = {}
    for abbr, code in exact.items():
        key = fold(abbr)
        folded[key] = code if folded.get(key, code) == code else None
    return exact, {k: v for k, v in folded.items() if v is not None}


def lookup(code: str) -> DocumentType | None:
    """The vocabulary entry of a type code."""
    return document_types().get(code)


def type_from_abbreviation(part: str | None) -> str | None:
    """`KH` → ke_hoach, `NĐ` → nghi_dinh; None for an issuer's part (`UBND`) or nothing."""
    if not part:
        return None
    exact, folded = _abbreviations()
    part = nfc(part)
    if part in exact:
        return exact[part]
    if part.upper().startswith(_KHAC_PREFIXES):
        return "khac"
    return folded.get(fold(part))


def match_title(text: str, hint: str | None = None) -> TitleMatch | None:
    """The type a title line names; `hint` (the type of the symbol) breaks near ties.

    A title is a short line in capitals, so anything long or in lower case is no title.
    """
    key = title_key(text)
    if not key or len(key) > 40 or len(letters(text)) < 3:
        return None
    if sum(ch.isupper() for ch in letters(text)) < 0.7 * len(letters(text)):
        return None
    titles = _titles()
    if key in titles:
        return TitleMatch(titles[key], 1.0)
    for title, code in sorted(titles.items(), key=lambda item: -len(item[0])):
        # `THÔNG TƯ LIÊN TỊCH`, `QUYẾT ĐỊNH:` with a little more on the line
        if key.startswith(title + " ") and len(key.split()) <= len(title.split()) + 2:
            return TitleMatch(code, 0.95)
    if len(key) < 6:
        return None  # too short to match loosely: `LUAT` must be read exactly
    found = process.extract(key, list(titles), scorer=fuzz.ratio, score_cutoff=80, limit=4)
    if not found:
        return None
    best_title, best_score, _ = found[0]
    close = [titles[t] for t, s, _ in found if s >= best_score - 4]
    if hint in close:
        return TitleMatch(hint, min(best_score, 97.0) / 100)
    if len(set(close)) > 1:
        return TitleMatch(titles[best_title], best_score / 100 - 0.2, tuple(set(close)))
    return TitleMatch(titles[best_title], best_score / 100 - 0.05)
