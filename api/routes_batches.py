"""Upload a batch of files; follow it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status

from api.auth import BatchesReader, BatchesWriter, forbidden
from api.deps import ServicesDep, SessionDep
from schemas.batch import Batch
from store import unit_of_work
from store.documents import create_batch
from store.records import batch_summary
from store.units import unit_exists
from worker.ingest import ingest_file
from worker.tasks import enqueue_after_commit_safe

router = APIRouter(prefix="/api/v1", tags=["batches"])


@router.post("/batches", status_code=status.HTTP_202_ACCEPTED, response_model=Batch)
def upload_batch(
    svc: ServicesDep,
    principal: BatchesWriter,
    files: Annotated[list[UploadFile], File(description="The scanned files")],
    unit: Annotated[str | None, Form()] = None,
    dossier: Annotated[str | None, Form()] = None,
    label: Annotated[str | None, Form()] = None,
) -> Batch:
    """Store every file (before answering) and queue it; one entry per file.

    A bad file gets its own error and never rejects the others.
    """
    if not files:
        raise HTTPException(422, "no files")
    actor = principal.actor
    if unit is None and principal.units is not None and len(principal.units) == 1:
        (unit,) = principal.units  # a ward's staff upload for their ward
    if not principal.may_use_unit(unit):
        raise forbidden("not allowed to upload for this unit")
    with unit_of_work(svc.sessions) as session:
        if unit is not None and not unit_exists(session, unit):
            raise HTTPException(422, f"unknown unit {unit!r}")
        batch = create_batch(
            session, unit=unit, dossier=dossier, label=label, source="api", actor=actor
        )
    for upload in files:
        ingest_file(
            svc,
            batch.id,
            upload.file,
            upload.filename or "unnamed",
            actor=actor,
            enqueue=enqueue_after_commit_safe,
            unit=unit,
            dossier=dossier,
        )
    with unit_of_work(svc.sessions) as session:
        summary = batch_summary(session, batch.id)
    assert summary is not None
    return summary


@router.get("/batches/{batch_id}", response_model=Batch)
def get_batch(batch_id: str, session: SessionDep, principal: BatchesReader) -> Batch:
    """Counts per state, pages done, and every file's entry."""
    summary = batch_summary(session, batch_id)
    if summary is None or not principal.may_use_unit(summary.unit):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such batch")
    return summary
