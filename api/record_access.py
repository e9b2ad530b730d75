"""Which record a caller may reach, and the version tag of what they read.

Shared by the routers that answer about one record (its JSON, its pages, its batch's
entries): a record that does not exist and one the caller may not see get the same 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import Row
from sqlalchemy.orm import Session

from schemas.auth import Principal
from store.platform.models import DocumentRow

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
