"""The number and symbol: `Số: 251/KH-UBND`, `Số: 30/2020/NĐ-CP`, `Luật số: 140/2025/QH15`.

OCR misreads the label (`Sô:`, `S6:`), the digits (`2O`, `l5`) and, on paper originals, the
number itself is often handwritten in a dotted gap: then the notation is read and the number
stays null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rapidfuzz.distance import Levenshtein

from classify.text import DIGITISH, fix_digits, fold, nfc

# On the folded text: an optional type word before the label (`Luật số:`), then `số`.
_LABEL = re.compile(
    r"^[^a-z0-9]{0,3}(?:(luat|phap lenh|nghi quyet|lenh)\s*)?s[o06e]\s*([:;.,]?)\s*(?=\S)"
)
# Letters of any kind: OCR puts marks on capitals (`UBNĐ`, `ÚBND`), and they are kept as read.
_NOTATION = r"(?:\d{4}\s?/\s?)?[^\W\d_][^\W_]*(?:\s?[-/]\s?[^\W_]+)*"
_SYMBOL = re.compile(
    rf"^(?P<num>[{DIGITISH}]{{1,6}}(?:\.[{DIGITISH}]{{1,3}})?)?\s?(?P<blank>[.…_·,\s]*)"
    rf"/\s?(?P<notation>{_NOTATION})"
)
_YEAR = re.compile(r"^(\d{4})/(.+)$")
# a printed symbol anywhere: capitals (a small `g`, `r` allowed) joined by dashes, `CT-CS`
_LOOSE = re.compile(r"(?<![^\W\d_])((?:\d{4}/)?[^\W\d_]{1,6}(?:-[^\W_]{1,10})+)")


@dataclass(frozen=True)
class NumberRead:
    """What the number line says. `end` is where the symbol ends in the text given."""

    number: str | None  # "251/KH-UBND"; None when the number itself cannot be read
    code_number: str | None  # "251"
    code_notation: str | None  # "KH-UBND" (legal documents: "NĐ-CP", the year apart)
    year: int | None  # the year of a legal document's symbol (30/2020/NĐ-CP)
    type_part: str | None  # the first part of the notation ("KH", "NĐ", "UBND")
    label: str | None  # "luat", "phap lenh" when the label names a type
    fixed: bool  # look-alike characters were read as digits
    end: int
    # a symbol-like word later in the segment when the number spoils the symbol's reading
    # (`Số: 2/J “€TI-CS`): only a witness for a second reading, never the record's symbol
    loose_notation: str | None = None


def match_label(folded: str) -> re.Match[str] | None:
    """The `Số:` label at the start of a folded segment."""
    return _LABEL.match(folded)


def parse_number(text: str) -> NumberRead | None:
    """Read a segment that starts with the number label; None when it does not."""
    text = nfc(text)
    label = match_label(fold(text))
    if label is None:
        return None
    start = label.end()
    rest = text[start:]
    m = _SYMBOL.match(rest)
    if m is None:
        if not label.group(2):  # `SỞ TÀI CHÍNH` is not a number line
            return None
        loose = _LOOSE.findall(rest)
        return NumberRead(
            None, None, None, None, None, label.group(1), False, start, loose[0] if loose else None
        )
    raw_notation = re.sub(r"\s", "", m.group("notation")).rstrip("-/")
    notation, year = raw_notation, None
    ym = _YEAR.match(raw_notation)
    if ym:
        year, notation = int(ym.group(1)), ym.group(2)
    type_part = notation.split("-")[0] if notation else None
    raw_num = m.group("num")
    code_number: str | None = None
    fixed = False
    if raw_num and not m.group("blank").strip(" "):
        head, _, tail = raw_num.partition(".")
        fixed_head = fix_digits(head)
        fixed_tail = fix_digits(tail) if tail else ""
        if fixed_head is not None and fixed_tail is not None:
            code_number = fixed_head + (f".{fixed_tail}" if tail else "")
            fixed = code_number != raw_num
    number = None
    if code_number is not None:
        number = f"{code_number}/{year}/{notation}" if year else f"{code_number}/{notation}"
    return NumberRead(
        number=number,
        code_number=code_number,
        code_notation=notation or None,
        year=year,
        type_part=type_part,
        label=label.group(1),
        fixed=fixed,
        end=start + m.end(),
    )


def repair_type_part(read: NumberRead, abbreviation: str) -> NumberRead | None:
    """The symbol with its type part set to `abbreviation` when OCR misread it by one letter
    (`QĐĐ`, `TTT` for the `QĐ`, `TTr` the title calls for); None when it is not that close."""
    part = read.type_part
    if not part or not read.code_notation or part == abbreviation or len(abbreviation) < 2:
        return None
    if Levenshtein.distance(part, abbreviation) > 1:
        return None
    notation = abbreviation + read.code_notation[len(part) :]
    number = None
    if read.code_number is not None:
        middle = f"/{read.year}" if read.year else ""
        number = f"{read.code_number}{middle}/{notation}"
    return replace(read, code_notation=notation, type_part=abbreviation, number=number)


# Parts of symbols printed with small letters; any other small letter is OCR's.
_MIXED_CASE = {"TTr", "CTr", "QyĐ", "TTg", "ĐTr"}


def looks_misread(notation: str | None) -> bool:
    """A notation OCR probably misread: a small letter where none is printed (`TIr`), or a
    part that is one letter over and over (`TTT` for `TTr`; `STTTT` is a real code)."""
    for part in re.split(r"[-/]", notation or ""):
        if len(part) >= 3 and len(set(part)) == 1:
            return True
        if any(ch.islower() for ch in part) and part not in _MIXED_CASE:
            return True
    return False
