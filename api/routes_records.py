"""Digitized records."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.auth import RecordsReader
from api.deps import SessionDep
from schemas.record import Record
from store.records import load_record

router = APIRouter(prefix="/api/v1", tags=["records"])


@router.get("/records/{record_id}", response_model=Record)
def get_record(record_id: str, session: SessionDep, principal: RecordsReader) -> Record:
    record = load_record(session, record_id)
    if record is None or not principal.may_see(record.unit, record.document.secrecy):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such record")
    return record
