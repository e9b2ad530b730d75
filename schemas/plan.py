"""The district's digitization plan and the progress measured against it.

A plan file (YAML) names the plan, its task group, the indicators with their targets and
deadlines, and per unit the inventory still on paper: the denominators, which staff estimate
and update. Progress is always computed from the database, never typed in.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.unit import UnitKind


class Measure(StrEnum):
    documents = "documents"
    pages = "pages"
    dossiers = "dossiers"


MEASURE_LABELS: dict[Measure, tuple[str, str]] = {
    Measure.documents: ("văn bản", "documents"),
    Measure.pages: ("trang", "pages"),
    Measure.dossiers: ("hồ sơ", "dossiers"),
}


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[\w.-]+$")
    name: str = Field(min_length=1, max_length=300)
    measure: Measure = Measure.documents
    #: the kinds of unit the indicator is about (district bodies, wards…)
    unit_kinds: list[UnitKind] = Field(min_length=1)
    #: the share of the inventory to digitize, 0–1 (the file may say 70%)
    target: float = Field(gt=0, le=1)
    deadline: date

    @field_validator("target", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().endswith("%"):
            return float(value.strip()[:-1].replace(",", ".")) / 100
        return value


class Inventory(BaseModel):
    """What a unit holds on paper, to be digitized: the denominators."""

    model_config = ConfigDict(extra="forbid")

    unit: str = Field(min_length=1, max_length=64)
    dossiers: int | None = Field(default=None, ge=0)
    documents: int | None = Field(default=None, ge=0)
    pages: int | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=500)

    def of(self, measure: Measure) -> int | None:
        value: int | None = getattr(self, measure.value)
        return value


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=60, description="e.g. 251/KH-UBND")
    issued_on: date
    issuer: str = Field(min_length=1, max_length=300)
    title: str = Field(min_length=1, max_length=500)
    task_group: str = Field(min_length=1, max_length=300)
    indicators: list[Indicator] = Field(min_length=1)
    inventory: list[Inventory] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Plan:
        codes = [i.code for i in self.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError("indicator codes must be unique")
        units = [i.unit for i in self.inventory]
        if len(set(units)) != len(units):
            raise ValueError("a unit appears twice in the inventory")
        return self


class Pace(StrEnum):
    met = "met"  # the target is reached
    on_track = "on_track"  # at the current pace, reached by the deadline
    at_risk = "at_risk"  # at the current pace, reached after the deadline (or never)
    late = "late"  # the deadline has passed and the target is not reached
    no_inventory = "no_inventory"  # nothing to measure against yet


PACE_LABELS: dict[Pace, tuple[str, str]] = {
    Pace.met: ("Đã đạt", "Met"),
    Pace.on_track: ("Đúng tiến độ", "On track"),
    Pace.at_risk: ("Có nguy cơ chậm", "At risk"),
    Pace.late: ("Chậm tiến độ", "Late"),
    Pace.no_inventory: ("Chưa có số liệu kiểm kê", "No inventory"),
}


class Quality(BaseModel):
    documents: int = 0
    needs_review: int = 0
    failed: int = 0
    review_share: float | None = None
    mean_ocr_confidence: float | None = None


class UnitProgress(BaseModel):
    unit: str
    name: str
    kind: UnitKind
    indicator: str | None = Field(description="Code of the indicator the unit counts toward")
    measure: Measure
    target: float | None
    deadline: date | None
    inventory: int | None
    digitized: int
    share: float | None = Field(description="digitized / inventory, 0–1 (may exceed 1)")
    digitized_documents: int
    digitized_pages: int
    digitized_dossiers: int
    dossiers_total: int = Field(default=0, description="Dossiers of the unit's catalogue (mục lục)")
    dossiers_complete: int = Field(
        default=0, description="Of them, with documents, every one digitized (in review or not)"
    )
    pages_per_working_day: float
    per_working_day: float = Field(description="Pace in the indicator's measure")
    projected_on: date | None
    status: Pace
    quality: Quality


class IndicatorProgress(BaseModel):
    code: str
    name: str
    measure: Measure
    unit_kinds: list[UnitKind]
    target: float
    deadline: date
    units: int
    units_with_inventory: int
    inventory: int
    digitized: int
    share: float | None
    units_met: int
    units_at_risk: int
    units_late: int
    projected_on: date | None
    status: Pace


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM")
    documents: int
    pages: int


class TypeCount(BaseModel):
    type: str
    label: str
    documents: int
    pages: int


class DayCount(BaseModel):
    day: date
    documents: int
    pages: int


class Progress(BaseModel):
    """Everything the dashboard and the report show, computed in one pass."""

    as_of: date
    window_days: int = Field(description="Calendar days over which the pace is measured")
    plan: Plan | None
    indicators: list[IndicatorProgress]
    units: list[UnitProgress]
    by_type: list[TypeCount]
    by_month: list[MonthCount]
    by_day: list[DayCount]
    totals: UnitProgress | None = Field(description="The whole district, all units together")
    quality: Quality
