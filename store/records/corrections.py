"""Corrections of a record's document fields by staff: audited, versioned, and kept with
what the machine had read, so classification can learn from them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.record import ArchiveInfo, DocumentInfo, Status
from store.audit.trail import CORRECT, audit
from store.platform.models import AuditRow, DocumentRow, utcnow
from store.records.events import RecordEvent, record_changed


class StaleVersion(Exception):
    """The record changed since the client read it."""


def correct_document(
    session: Session,
    document_id: str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    expected_version: int | None = None,
) -> DocumentRow:
    """Apply corrections to the document fields (validated by the contract).

    Each change keeps who, when, the old and the new value. A reviewed record is digitized.
    Raises KeyError for an unknown record, StaleVersion for a stale write, and
    pydantic.ValidationError for a value the contract does not allow.
    """
    doc = session.get(DocumentRow, document_id, with_for_update=True)
    if doc is None:
        raise KeyError(document_id)
    if expected_version is not None and doc.version != expected_version:
        raise StaleVersion(f"version {doc.version}, not {expected_version}")
    before = DocumentInfo.model_validate(doc.document or {})
    unit = changes.get("unit")
    fields = {k: v for k, v in changes.items() if k != "unit"}
    after = DocumentInfo.model_validate({**before.model_dump(), **fields})
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = {k: {"old": old[k], "new": new[k]} for k in fields if old[k] != new[k]}
    moved_from = None
    if unit is not None and unit != doc.unit_code:
        moved_from = doc.unit_code
        changed["unit"] = {"old": doc.unit_code, "new": unit}
        doc.unit_code = unit
    if not changed:
        return doc
    doc.document = new
    if "secrecy" in changed:
        # a record marked secret is kept in access mode 03 (secret); unmarked, it is public
        # unless someone had set another mode by hand
        archive = dict(doc.archive or ArchiveInfo().model_dump(mode="json"))
        if new["secrecy"]:
            archive["mode"] = "03"
        elif archive.get("mode") == "03":
            archive["mode"] = "01"
        doc.archive = archive
    if doc.status == Status.needs_review.value:
        doc.status = Status.digitized.value
    doc.version += 1
    doc.updated_at = utcnow()
    read = (doc.classification or {}).get("read", {})
    audit(
        session,
        actor,
        CORRECT,
        document_id=document_id,
        detail={
            "changes": changed,
            "header": (doc.classification or {}).get("header"),
            "read": read,
        },
    )
    record_changed(session, document_id, RecordEvent.updated, moved_from=moved_from)
    return doc


def corrections(session: Session, limit: int = 5000) -> Iterator[dict[str, Any]]:
    """Past corrections, oldest first: header as read, corrected fields, fields as read."""
    rows = session.scalars(
        select(AuditRow).where(AuditRow.action == CORRECT).order_by(AuditRow.id).limit(limit)
    )
    for row in rows:
        detail = row.detail or {}
        yield {
            "header": detail.get("header"),
            "fields": {k: v["new"] for k, v in detail.get("changes", {}).items()},
            "read": detail.get("read") or {},
        }


def document_corrections(
    session: Session, document_id: str, limit: int = 1000
) -> list[dict[str, Any]]:
    """One document's corrections, oldest first, one item per changed field:
    ``{"at", "actor", "field", "old", "new"}``."""
    rows = session.scalars(
        select(AuditRow)
        .where(AuditRow.action == CORRECT, AuditRow.document_id == document_id)
        .order_by(AuditRow.id)
        .limit(limit)
    )
    return [
        {"at": row.at, "actor": row.actor, "field": field, "old": change.get("old"),
         "new": change.get("new")}
        for row in rows
        for field, change in ((row.detail or {}).get("changes") or {}).items()
    ]  # fmt: skip
