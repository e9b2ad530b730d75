"""The contracts of sohoa: records, batches, units, error codes, configuration."""

from schemas.batch import Batch, BatchEntry, EntryOutcome
from schemas.errors import ERROR_MESSAGES, ErrorCode, error_message
from schemas.record import (
    FINAL_STATES,
    SCHEMA_VERSION,
    ArchiveInfo,
    DocumentInfo,
    Page,
    PageMethod,
    Record,
    RecordError,
    Source,
    Status,
)
from schemas.settings import Settings, get_settings
from schemas.unit import Unit, UnitKind

__all__ = [
    "ERROR_MESSAGES",
    "FINAL_STATES",
    "SCHEMA_VERSION",
    "ArchiveInfo",
    "Batch",
    "BatchEntry",
    "DocumentInfo",
    "EntryOutcome",
    "ErrorCode",
    "Page",
    "PageMethod",
    "Record",
    "RecordError",
    "Settings",
    "Source",
    "Status",
    "Unit",
    "UnitKind",
    "error_message",
    "get_settings",
]
