"""Batches: the files one person uploaded together."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.errors import ErrorCode
from schemas.record import Status


class EntryOutcome(StrEnum):
    """What happened to one uploaded file when it was received."""

    accepted = "accepted"  # stored, a new record was created
    duplicate = "duplicate"  # the same bytes were stored before: points at the first record
    rejected = "rejected"  # refused before storing (e.g. over the size limit)


class BatchEntry(BaseModel):
    filename: str
    outcome: EntryOutcome
    record_id: str | None = None
    status: Status | None = None
    sha256: str | None = None
    error_code: ErrorCode | None = None
    error_message: str | None = None


class Batch(BaseModel):
    id: str
    unit: str | None = None
    dossier: str | None = None
    label: str | None = None
    created_at: datetime
    counts: dict[Status, int] = Field(default_factory=dict)
    pages_total: int = 0
    pages_done: int = 0
    done: bool = False
    entries: list[BatchEntry] = Field(default_factory=list)
