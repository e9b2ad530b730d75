"""What follows any change of a record, in the same transaction as the change itself.

Every path that changes a record (publishing, failing, a correction, a retry) calls
`record_changed`, so the filter columns and whatever else is derived from the record can
never drift from it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy.orm import Session

from store.platform.models import DocumentRow
from store.search.index import index_document
from store.webhooks.outbox import enqueue_event


class RecordEvent(StrEnum):
    digitized = "record.digitized"  # digitized or needs_review: the record has content
    updated = "record.updated"  # corrected by staff, moved to another unit
    failed = "record.failed"


def sync_filter_columns(doc: DocumentRow) -> None:
    """Copy the document fields lists filter on into their own indexed columns."""
    info = doc.document or {}
    issued = info.get("issued_on")
    doc.doc_type = info.get("type")
    try:
        doc.issued_on = date.fromisoformat(issued) if issued else None
    except (TypeError, ValueError):
        doc.issued_on = None
    doc.secrecy = info.get("secrecy")


def record_changed(
    session: Session, document_id: str, event: RecordEvent, *, moved_from: str | None = None
) -> None:
    """Bring everything derived from the record up to date with it. `moved_from`: the unit
    the record belonged to before this change, whose subscribers hear of it too (the
    record left their unit: their copy must go)."""
    session.flush()  # the change may still be pending on an object of this session
    doc = session.get(DocumentRow, document_id, populate_existing=True)
    if doc is None:
        return
    sync_filter_columns(doc)
    index_document(session, document_id)  # the search index, in the same transaction
    # webhooks: an outbox row per subscription
    enqueue_event(session, event, document_id, also_for_unit=moved_from)
