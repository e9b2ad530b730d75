"""The project's own copies of the vocabularies (document types, default units)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from schemas.unit import Unit, UnitKind


@dataclass(frozen=True)
class DocumentType:
    code: str
    name: str
    abbreviation: str | None
    archive_code: str
    group: str


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("schemas").joinpath("vocab", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def document_types() -> dict[str, DocumentType]:
    """Document types by code (Decree 30/2020/NĐ-CP and Circular 05/2025/TT-BNV)."""
    return {
        row["code"]: DocumentType(
            code=row["code"],
            name=row["name"],
            abbreviation=row["abbreviation"] or None,
            archive_code=row["archive_code"],
            group=row["group"],
        )
        for row in _read_csv("document_types.csv")
    }


def parse_units_csv(text: str) -> list[Unit]:
    """Units from a CSV with the columns code,name,kind,parent,valid_from,valid_to."""
    units = []
    for row in csv.DictReader(io.StringIO(text)):
        units.append(
            Unit(
                code=row["code"].strip(),
                name=row["name"].strip(),
                kind=UnitKind(row.get("kind") or "other"),
                parent=(row.get("parent") or "").strip() or None,
                valid_from=date.fromisoformat(row["valid_from"]) if row.get("valid_from") else None,
                valid_to=date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
            )
        )
    return units


@cache
def default_units() -> tuple[Unit, ...]:
    """The default units shipped with sohoa (Bắc Từ Liêm district); operators may load their own."""
    text = resources.files("schemas").joinpath("vocab", "units.csv").read_text(encoding="utf-8")
    return tuple(parse_units_csv(text))


@dataclass(frozen=True)
class Agency:
    name: str
    kind: str  # state, ministry, agency
    valid_to: date | None


@cache
def agencies() -> tuple[Agency, ...]:
    """Central bodies, ministries and agencies by their official names (before and after the
    2025 reorganisation of the government; `valid_to` marks those that were merged)."""
    return tuple(
        Agency(
            name=row["name"],
            kind=row["kind"],
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
        )
        for row in _read_csv("agencies.csv")
    )


@cache
def provinces_2024() -> tuple[tuple[str, str], ...]:
    """(name, level) of the 63 provinces and cities before the 2025 merger of provinces."""
    return tuple((row["name"], row["kind"]) for row in _read_csv("provinces_2024.csv"))
