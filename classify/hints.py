"""Learning from corrections, as a pure function: past corrections in, `Hints` out.

The store keeps what people corrected (`Correction`: the record's header as read, the fields
they set, and what had been read); `Hints.from_corrections` turns a list of them into lookups
that make the next records of that kind come out right:

- a header (issuer block) → issuer, parent, unit code, place: a unit whose header is unusual
  (`ĐẢNG ỦY - UBND PHƯỜNG …`, an old name) is recognised from then on;
- signers' names people confirmed → an OCR reading one letter off is set right;
- a symbol's type part → type code (`Số: 05/KHPH-UBND` corrected to ke_hoach once).

Later corrections win over earlier ones for the same key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from classify.issuer import name_key
from classify.text import fold, nfc
from classify.types import type_from_abbreviation

_HEADER_FIELDS = ("issuer", "issuer_parent", "unit", "place")
#: folded similarity (0–100) for a header read with a few OCR errors to count as the same
HEADER_SIMILARITY = 94.0
#: folded similarity for a name read by OCR to be taken as a name people confirmed
SIGNER_SIMILARITY = 88.0


@dataclass(frozen=True)
class Correction:
    """One record's correction: its header as read, the fields set, the fields as read."""

    header: str | None  # Classification.header, e.g. "UBND QUẬN BẮC TỪ LIÊM / PHÒNG NỘI VỤ"
    fields: Mapping[str, str | None]  # corrected DocumentInfo fields, plus "unit"
    read: Mapping[str, str | None] = field(default_factory=dict)  # the same fields as read


@dataclass(frozen=True)
class HeaderHint:
    """What a header stands for, as people corrected it."""

    key: str
    values: Mapping[str, str | None]


def _marks(text: str) -> int:
    return sum(1 for ch in text if not ch.isascii())


def _digits(text: str) -> str:
    return "".join(re.findall(r"\d+", text))


@dataclass(frozen=True)
class Hints:
    """Lookups learned from corrections (build with `from_corrections`)."""

    headers: Mapping[str, HeaderHint] = field(default_factory=dict)
    signers: tuple[str, ...] = ()
    type_parts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_corrections(cls, corrections: Iterable[Correction]) -> Hints:
        """Build hints from corrections, oldest first."""
        headers: dict[str, dict[str, str | None]] = {}
        signers: dict[str, str] = {}
        type_parts: dict[str, str] = {}
        for c in corrections:
            values = {k: c.fields[k] for k in _HEADER_FIELDS if k in c.fields}
            if c.header and values:
                key = name_key(c.header, accents=False)
                headers.setdefault(key, {}).update(values)
            name = c.fields.get("signer")
            if name:
                signers[fold(name)] = nfc(name)
            corrected, notation = c.fields.get("type"), c.read.get("code_notation")
            if corrected and notation:
                part = nfc(notation).split("/")[-1].split("-")[0]
                if part and type_from_abbreviation(part) != corrected:
                    type_parts[part] = corrected
        return cls(
            headers={k: HeaderHint(k, v) for k, v in headers.items()},
            signers=tuple(signers.values()),
            type_parts=type_parts,
        )

    def header_for(self, header: str | None) -> tuple[HeaderHint, float] | None:
        """The hint for a header as read now, with a confidence; None when none is close."""
        if not header or not self.headers:
            return None
        key = name_key(header, accents=False)
        if key in self.headers:
            return self.headers[key], 0.98
        found = process.extract(
            key, list(self.headers), scorer=fuzz.ratio, score_cutoff=HEADER_SIMILARITY, limit=2
        )
        if not found or (len(found) > 1 and found[1][1] > found[0][1] - 3):
            return None
        best = found[0][0]
        if _digits(best) != _digits(key):
            return None  # `Cổ Nhuế 1` is not `Cổ Nhuế 2`
        return self.headers[best], 0.9

    def signer_for(self, name: str | None) -> str | None:
        """A confirmed name this reading is (one OCR error away), or None."""
        if not name or not self.signers:
            return None
        folded = {fold(s): s for s in self.signers}
        key = fold(name)
        if key in folded:
            known = folded[key]
            # `Thanh` and `Thành` fold alike: snap only a reading that lost marks (OCR does).
            return known if _marks(name) < _marks(known) or name == known else None
        found = process.extract(
            key, list(folded), scorer=fuzz.ratio, score_cutoff=SIGNER_SIMILARITY, limit=2
        )
        if not found or (len(found) > 1 and found[1][1] > found[0][1] - 3):
            return None
        best = found[0][0]
        return folded[best] if len(best.split()) == len(key.split()) else None

    def type_for(self, part: str | None) -> str | None:
        """The type people gave documents whose symbol starts with this part."""
        return self.type_parts.get(nfc(part)) if part else None
