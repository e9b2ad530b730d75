"""What one upload request may store: the request's own limits and its account's quotas.

The request's limits (`SOHOA_ZIP_MAX_ENTRIES` files, `SOHOA_ZIP_MAX_SIZE` bytes) count every
file it stores, the entries of all its zips together: a request of a thousand zips is bounded
like one zip. The quotas (`SOHOA_QUOTA_QUEUED_DOCUMENTS` documents waiting,
`SOHOA_QUOTA_UPLOAD_BYTES_PER_HOUR` bytes of new files) count what the account already has;
only a new record in the queue uses them, a duplicate or a refused file does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from schemas.batch import EntryOutcome
from schemas.errors import ErrorCode
from schemas.settings import Settings
from store.batches.quotas import AccountUsage
from store.platform.models import utcnow
from worker.ingest import Ingested

#: Retry-After when the account has too many documents waiting: the time a worker takes to
#: clear a few of them
WAITING_RETRY_SECONDS = 60


@dataclass
class Allowance:
    """What the rest of one request may still store."""

    files: int
    bytes: int
    quota_documents: int
    quota_bytes: int

    @classmethod
    def for_request(cls, settings: Settings, usage: AccountUsage) -> Allowance:
        return cls(
            files=settings.zip_max_entries,
            bytes=settings.zip_max_size,
            quota_documents=settings.quota_queued_documents - usage.waiting_documents,
            quota_bytes=settings.quota_upload_bytes_per_hour - usage.bytes_in_window,
        )

    def refusal(self, size: int) -> ErrorCode | None:
        """Why a file of `size` bytes may not be stored now, or None."""
        if self.files <= 0 or size > self.bytes:
            return ErrorCode.request_too_large
        if self.quota_documents <= 0 or size > self.quota_bytes:
            return ErrorCode.quota_exceeded
        return None

    def charge(self, outcome: Ingested, size: int) -> None:
        self.files -= 1
        self.bytes -= size
        if outcome.queued:  # a new record, or a failed one of the account's re-queued
            self.quota_documents -= 1
            if outcome.outcome == EntryOutcome.accepted:  # new bytes stored
                self.quota_bytes -= size


def quota_wait(settings: Settings, usage: AccountUsage) -> int | None:
    """Seconds before the account may upload again, when it is at a quota now; else None."""
    waits = []
    if usage.waiting_documents >= settings.quota_queued_documents:
        waits.append(WAITING_RETRY_SECONDS)
    if usage.bytes_in_window >= settings.quota_upload_bytes_per_hour:
        frees_at = usage.window_frees_at or utcnow()
        waits.append(max(1, math.ceil((frees_at - utcnow()).total_seconds())))
    return max(waits) if waits else None
