"""Units: the organisations whose records are digitized (a fonds each)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel


class UnitKind(StrEnum):
    district = "district"
    department = "department"
    ward = "ward"
    other = "other"


class Unit(BaseModel):
    code: str
    name: str
    kind: UnitKind
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
