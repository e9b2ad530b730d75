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
    #: how the files came: api, cli, watch
    source: str | None = None
    #: who uploaded them, as the audit log names them
    created_by: str | None = None
    files: int = Field(default=0, description="Uploaded files (entries), rejected ones included")
    pages_per_minute: float | None = Field(
        default=None,
        description="Pages of this batch's records extracted per minute since its first page "
        "was done; null before two pages are done",
    )
    eta_seconds: int | None = Field(
        default=None,
        description="Estimated seconds until every record is final at the current pace; "
        "null when unknown, 0 when done",
    )


class BatchPage(BaseModel):
    """One page of batches, newest first; entries are left out (GET the batch for them)."""

    items: list[Batch]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page"
    )


class BatchAction(BaseModel):
    """The result of retrying or cancelling the records of a batch."""

    batch: Batch
    record_ids: list[str] = Field(
        default_factory=list, description="Records the action changed (requeued or cancelled)"
    )
