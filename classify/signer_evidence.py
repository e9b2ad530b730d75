"""Decide the signer's name by evidence: the page's reading, the name area read again, and
the digital signature's certificate.

The name under a seal is read several times (`ocr.reread`: the area, each of its lines
alone): readings that agree up to diacritics are one name, read the way most of them spell
it. A certificate whose common name is a person and agrees with the name up to diacritics
is a strong witness and gives the spelling. Without agreement the name stays as the page
read it, or null when the readings contradict it: a wrong name is worse than a blank.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from classify.evidence import Reading
from classify.names import known_surname
from classify.signer import name_run
from classify.text import fold, squash
from schemas.record import Signature

#: readings of the area that must agree (up to diacritics) before they name the signer
MIN_AGREEING = 2
#: confidences the evidence gives
CERTIFIED = 0.97
READ_AGAIN = 0.85

# a dot no letter stands before: a seal's mark glued to the name (`‡.Trấn`), not `PGS.TS.`
_STRAY_DOT = re.compile(r"(?<![^\W\d_])\.(?=[^\W\d_])")


@dataclass(frozen=True)
class NameDecision:
    """The name and its confidence; `conflict` when the readings contradict the page's."""

    name: str | None
    confidence: float
    conflict: bool = False


def _name(text: str) -> str | None:
    found = name_run(_STRAY_DOT.sub(" ", text))
    return found[0] if found else None


def certified_names(signatures: Sequence[Signature]) -> list[str]:
    """Common names of the certificates that are a person's (`Trịnh Hồng Việt`), not a
    body's (`VIỆN KIẾN TRÚC QUỐC GIA`, `Cổng Thông tin điện tử Chính phủ`)."""
    out = []
    for sig in signatures:
        cn = squash(sig.signer or "")
        if not cn or cn.isupper() or not known_surname(cn.split(" ")[0]):
            continue
        if _name(cn) == cn:
            out.append(cn)
    return out


def _agreed(readings: Sequence[Reading]) -> tuple[str, int] | None:
    """The name most readings give (grouped up to diacritics), spelt as most of them do,
    and how many agree; None when two names are read as often."""
    names = [n for r in readings if (n := _name(r.text)) is not None]
    if not names:
        return None
    groups = Counter(fold(n) for n in names).most_common()
    if len(groups) > 1 and groups[1][1] == groups[0][1]:
        return None
    key, votes = groups[0]
    spellings = Counter(n for n in names if fold(n) == key).most_common()
    if len(spellings) > 1 and spellings[1][1] == spellings[0][1]:
        return None  # `Hiên` as often as `Hiền`: the marks are not known
    return spellings[0][0], votes


def decide_name(
    page_name: str | None,
    readings: Sequence[Reading] = (),
    signatures: Sequence[Signature] = (),
) -> NameDecision | None:
    """The signer's name by evidence; None when the evidence says nothing beyond the page's
    own reading (which then stands as it is)."""
    certified = certified_names(signatures)
    agreed = _agreed(readings)
    read = agreed[0] if agreed and agreed[1] >= MIN_AGREEING else None
    for cn in certified:
        if any(n and fold(n) == fold(cn) for n in (read, page_name)):
            return NameDecision(cn, CERTIFIED)
    if read is None:
        return None
    if page_name and fold(page_name) != fold(read):
        return NameDecision(None, 0.0, conflict=True)
    return NameDecision(read, READ_AGAIN)
