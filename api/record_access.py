"""Which record a caller may reach or change, and the version tag of what they read.

Shared by the routers that answer about one record (its JSON, its pages, its batch's
entries): a record that does not exist and one the caller may not see get the same 404.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Row
from sqlalchemy.orm import Session

from api.downloads import etag_matches
from schemas.auth import Principal
from store.platform.db import lock_row
from store.platform.models import DocumentRow
from store.records.corrections import StaleVersion
from store.services import Services
from worker.pipeline import refresh_record_json

log = logging.getLogger(__name__)

NOT_FOUND = "no such record"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def record_etag(doc: DocumentRow | Row[Any]) -> str:
    """Strong ETag of the record's JSON; If-Match on PATCH compares against it."""
    return f'"{doc.id}-v{doc.version}-{micros(doc.updated_at)}"'


def secrecy_of(doc: DocumentRow | Row[Any]) -> str | None:
    return doc.secrecy or (doc.document or {}).get("secrecy")


def visible_document(session: Session, principal: Principal, record_id: str) -> DocumentRow:
    """The document, or the same 404 whether it is missing or not visible to `principal`."""
    doc = session.get(DocumentRow, record_id)
    if doc is None or not principal.may_see(doc.unit_code, secrecy_of(doc)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return doc


def document_to_change(
    session: Session, principal: Principal, record_id: str, if_match: str | None
) -> DocumentRow:
    """The document, locked for this transaction, visible to `principal`, and still the
    version `if_match` names when the client sent one (else StaleVersion: 412).

    Locked before it is read, so two changes based on the same ETag are serialized and the
    second one sees the first one's version: 412, not a lost update."""
    lock_row(session, DocumentRow.id, record_id, DocumentRow.version)
    doc = visible_document(session, principal, record_id)
    if if_match is not None and not etag_matches(if_match, record_etag(doc), weak=False):
        raise StaleVersion("If-Match does not match the record's ETag")
    return doc


def refresh_quietly(svc: Services, record_id: str) -> None:
    """Rewrite record.json after a committed change; a failure is logged, not raised (the
    database is the truth, and record.json catches up on the next change)."""
    try:
        refresh_record_json(svc, record_id)
    except Exception:
        log.exception("record.json of %s not refreshed after a change", record_id)
