"""Batches: upload files (many at once, or zips), follow their progress, retry, cancel.

An upload is answered once every file is in object storage and has its entry (202). A
client that sends an `Idempotency-Key` and retries after a timeout gets the first request's
batch (200) instead of a second batch.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.requests import ClientDisconnect, Request

from api.auth import BatchesReader, BatchesWriter, require, still_authenticated
from api.deps import ServicesDep, SessionDep
from api.record_access import refresh_quietly, visible_document
from api.upload_limits import Allowance, quota_wait
from api.upload_store import TRANSIENT, Context, store_files
from api.uploads import (
    DRAIN_LIMIT,
    Upload,
    UploadError,
    drain,
    multipart_boundary,
    receive_upload,
)
from schemas.auth import Principal, Scope
from schemas.batch import Batch, BatchAction, BatchPage
from schemas.record import Record
from store import after_commit, unit_of_work
from store.accounts.units import unit_exists
from store.batches.actions import cancel_batch, retry_batch
from store.batches.idempotency import (
    MAX_KEY_LENGTH,
    claim_idempotency_key,
    finish_idempotency_key,
    release_idempotency_key,
    touch_idempotency_key,
)
from store.batches.progress import batch_progress, list_batches, progress_fingerprint
from store.batches.quotas import AccountUsage, account_usage
from store.dossiers.registry import dossier_codes
from store.platform.models import BatchRow, DocumentRow
from store.records.documents import create_batch, requeue
from store.records.reads import build_record
from store.services import Services
from worker.tasks import enqueue_after_commit_safe

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["batches"])

NO_BATCH = "no such batch"
#: server-sent events: how often the database is looked at, and the keep-alive comment
POLL_SECONDS = 1.0
#: how often a stream asks whether its credentials still hold (a revoked token's stream ends)
REAUTH_SECONDS = 5.0
KEEPALIVE_SECONDS = 15.0
#: an idempotency key of a running upload is touched this often (see KEY_STALE_AFTER)
TOUCH_SECONDS = 60.0
#: event streams open in this process
active_streams = 0

RecordsRetrier = Annotated[Principal, Depends(require(Scope.records_read, Scope.records_write))]
_ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"

_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "The scanned files (PDF, TIFF, JPEG, PNG), repeated; "
                            "a zip is unpacked and each of its files gets an entry "
                            "`archive.zip/inner/path.pdf`",
                        },
                        "unit": {
                            "type": "string",
                            "maxLength": 64,
                            "description": "Unit code; default: the caller's only unit",
                        },
                        "dossier": {
                            "type": "string",
                            "maxLength": 100,
                            "description": "Dossier code (mã hồ sơ)",
                        },
                        "label": {"type": "string", "maxLength": 200},
                    },
                }
            }
        },
    }
}
_UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Batch, "description": "The batch of an earlier request with this key"},
    403: {"description": "Not allowed to upload for this unit"},
    408: {"description": "The body stalled or trickled (SOHOA_BODY_IDLE_TIMEOUT)"},
    409: {"description": "A request with this Idempotency-Key is still running; retry later"},
    413: {"description": "Too many files, or more bytes than one request may send"},
    422: {"description": "Not multipart/form-data, no files, an unknown unit, a bad field"},
    429: {"description": "The account is at an upload quota; see Retry-After"},
    503: {"description": "Object storage or the database is unavailable; retry later"},
}


class _Key:
    """The Idempotency-Key of one request, kept alive while the request runs."""

    def __init__(self, svc: Services, actor: str, key: str | None) -> None:
        self.svc, self.actor, self.key = svc, actor, key
        self._touched = time.monotonic()

    def _due(self) -> bool:
        return self.key is not None and time.monotonic() - self._touched > TOUCH_SECONDS

    def tick(self) -> None:
        if self._due():
            assert self.key is not None
            touch_idempotency_key(self.svc.sessions, self.actor, self.key)
            self._touched = time.monotonic()

    async def atick(self) -> None:
        if self._due():
            await run_in_threadpool(self.tick)

    async def release(self) -> None:
        if self.key is not None:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(
                    release_idempotency_key, self.svc.sessions, self.actor, self.key
                )


def _form(upload: Upload, principal: Principal) -> tuple[str | None, str | None, str | None]:
    unit, dossier, label = upload.text("unit"), upload.text("dossier"), upload.text("label")
    if unit is None and principal.units is not None and len(principal.units) == 1:
        (unit,) = principal.units  # a ward's staff upload for their ward
    if not principal.may_use_unit(unit):
        raise UploadError(status.HTTP_403_FORBIDDEN, "not allowed to upload for this unit")
    if not upload.files:
        raise UploadError(422, "no files (send them in the repeated field 'files')")
    return unit, dossier, label


def _store_batch(
    svc: Services,
    principal: Principal,
    upload: Upload,
    fields: tuple[str | None, str | None, str | None],
    key: _Key,
    allowance: Allowance,
) -> Batch:
    unit, dossier, label = fields
    actor = principal.actor
    with unit_of_work(svc.sessions) as session:
        if unit is not None and not unit_exists(session, unit):
            raise UploadError(422, f"unknown unit {unit!r}")
        batch_id = create_batch(
            session, unit=unit, dossier=dossier, label=label, source="api", actor=actor
        ).id
        known = frozenset(dossier_codes(session))
    ctx = Context(
        svc, batch_id, actor, enqueue_after_commit_safe, unit, dossier,
        tick=key.tick, principal=principal, allowance=allowance, known_dossiers=known,
    )  # fmt: skip
    store_files(ctx, upload.files)
    with unit_of_work(svc.sessions) as session:
        if key.key is not None:
            finish_idempotency_key(session, actor, key.key, batch_id)
        summary = batch_progress(session, batch_id)
    assert summary is not None
    return summary


def _usage(svc: Services, actor: str) -> AccountUsage:
    with unit_of_work(svc.sessions) as session:
        return account_usage(session, actor)


def _load(svc: Services, batch_id: str, *, entries: bool = True) -> Batch | None:
    with unit_of_work(svc.sessions) as session:
        return batch_progress(session, batch_id, entries=entries)


@router.post(
    "/batches",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Batch,
    openapi_extra=_UPLOAD_DOC,
    responses=_UPLOAD_RESPONSES,
)
async def upload_batch(
    request: Request,
    svc: ServicesDep,
    principal: BatchesWriter,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=MAX_KEY_LENGTH,
            description="Any unique string per request (e.g. a UUID): a retried request with "
            "the same key returns the first request's batch",
        ),
    ] = None,
) -> Response:
    """Store every file (before answering) and queue it; one entry per file, per file of a
    zip too.

    A bad file gets its own entry and error and never rejects the others: only a request
    that is wrong as a whole (not multipart, no files, too many files, a unit the caller may
    not use or that does not exist) is refused, and then nothing is stored.
    """
    multipart_boundary(request.headers.get("content-type"))  # or UploadError
    actor = principal.actor
    if idempotency_key is not None:
        claim = await run_in_threadpool(claim_idempotency_key, svc.sessions, actor, idempotency_key)
        if not claim.claimed:
            if claim.batch_id is None:
                await drain(request, DRAIN_LIMIT)
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    "a request with this Idempotency-Key is still running; retry later",
                    headers={"Retry-After": "5"},
                )
            await drain(request)  # the client is sending the same files again
            first = await run_in_threadpool(_load, svc, claim.batch_id)
            if first is not None:
                return JSONResponse(
                    first.model_dump(mode="json"), headers={"Idempotent-Replayed": "true"}
                )
    key = _Key(svc, actor, idempotency_key)
    usage = await run_in_threadpool(_usage, svc, actor)
    wait = quota_wait(svc.settings, usage)
    if wait is not None:
        await key.release()
        await drain(request, DRAIN_LIMIT)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Tài khoản đã đạt hạn mức tải lên; hãy thử lại sau. "
            "The account is at its upload quota; retry later.",
            headers={"Retry-After": str(wait)},
        )
    try:
        with tempfile.TemporaryDirectory(prefix="sohoa-upload-") as folder:
            upload = await receive_upload(
                request,
                Path(folder),
                max_files=svc.settings.zip_max_entries,
                max_file_size=svc.settings.max_file_size,
                max_body=svc.settings.zip_max_size,
                on_chunk=key.atick,
            )
            fields = _form(upload, principal)
            allowance = Allowance.for_request(svc.settings, usage)
            batch = await run_in_threadpool(
                _store_batch, svc, principal, upload, fields, key, allowance
            )
    except ClientDisconnect:
        await key.release()
        log.info("upload by %s abandoned by the client; nothing stored", actor)
        return Response(status_code=status.HTTP_400_BAD_REQUEST)
    except BaseException as exc:  # answered by its kind (api/errors.py); the key is free again
        await key.release()
        if isinstance(exc, TRANSIENT):
            log.warning("upload by %s: infrastructure unavailable: %s", actor, exc)
        raise
    return JSONResponse(batch.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)


@router.get("/batches", response_model=BatchPage)
def get_batches(
    session: SessionDep,
    principal: BatchesReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(pattern=_ULID, description="`next_cursor` of the previous page")
    ] = None,
) -> BatchPage:
    """Batches the caller may see (those of their units), newest first, without entries."""
    items, next_cursor = list_batches(session, principal, limit=limit, cursor=cursor)
    return BatchPage(items=items, next_cursor=next_cursor)


@router.get("/batches/{batch_id}", response_model=Batch)
def get_batch(batch_id: str, session: SessionDep, principal: BatchesReader) -> Batch:
    """Counts per state, pages done, pace and time left, and every file's entry."""
    summary = batch_progress(session, batch_id)
    if summary is None or not principal.may_use_unit(summary.unit):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_BATCH)
    return summary


def _sse(event: str | None, data: str | None = None, event_id: str | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    if data is not None:
        lines.append(f"data: {data}")
    return "\n".join(lines) + "\n\n"


async def _progress_events(
    request: Request, svc: Services, first: Batch, last_event_id: str | None
) -> AsyncIterator[str]:
    global active_streams
    active_streams += 1
    try:
        yield "retry: 5000\n\n"
        summary: Batch | None = first
        last_id, sent_at = last_event_id, time.monotonic()
        checked_at = sent_at
        while summary is not None:
            fingerprint = progress_fingerprint(summary)
            if summary.done:
                yield _sse("done", summary.model_dump_json(), fingerprint)
                return
            if fingerprint != last_id:
                yield _sse("progress", summary.model_dump_json(), fingerprint)
                last_id, sent_at = fingerprint, time.monotonic()
            elif time.monotonic() - sent_at >= KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                sent_at = time.monotonic()
            await anyio.sleep(POLL_SECONDS)
            if await request.is_disconnected():
                return
            if time.monotonic() - checked_at >= REAUTH_SECONDS:
                if not await still_authenticated(request):
                    yield _sse("revoked", "credentials revoked or expired")
                    return
                checked_at = time.monotonic()
            summary = await run_in_threadpool(_load, svc, first.id, entries=False)
    finally:
        active_streams -= 1


@router.get(
    "/batches/{batch_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`event: progress` with the batch (without entries) whenever it "
            "changes, a `: keepalive` comment every 15 s, `event: done` when every record is "
            "final, then the stream ends. Each event's `id` names the state: a client "
            "reconnecting with `Last-Event-ID` gets the next change only. When the caller's "
            "token is revoked or expires (or the session closes), `event: revoked` and "
            "the stream ends.",
        },
        204: {"description": "The batch is done and `Last-Event-ID` says the client knows"},
        404: {"description": "No such batch, or not visible to the caller"},
    },
)
async def batch_events(
    batch_id: str,
    request: Request,
    svc: ServicesDep,
    principal: BatchesReader,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
) -> Response:
    """Progress of a batch as server-sent events, until it is done."""
    first = await run_in_threadpool(_load, svc, batch_id, entries=False)
    if first is None or not principal.may_use_unit(first.unit):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_BATCH)
    if first.done and last_event_id == progress_fingerprint(first):
        # the client saw `done` already: 204 tells an EventSource to stop reconnecting
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return StreamingResponse(
        _progress_events(request, svc, first, last_event_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _batch_for(svc: Services, principal: Principal, batch_id: str) -> None:
    with unit_of_work(svc.sessions) as session:
        row = session.get(BatchRow, batch_id)
        if row is None or not principal.may_use_unit(row.unit_code):
            raise HTTPException(status.HTTP_404_NOT_FOUND, NO_BATCH)


@router.post(
    "/batches/{batch_id}/retry",
    response_model=BatchAction,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "No such batch, or not visible to the caller"}},
)
def retry_failed(batch_id: str, svc: ServicesDep, principal: BatchesWriter) -> BatchAction:
    """Put every failed record of the batch back in the queue (cancelled ones too)."""
    _batch_for(svc, principal, batch_id)
    with unit_of_work(svc.sessions) as session:
        requeued = retry_batch(session, batch_id, principal)
        for document_id in requeued:
            after_commit(session, partial(enqueue_after_commit_safe, document_id))
    summary = _load(svc, batch_id)
    assert summary is not None
    return BatchAction(batch=summary, record_ids=requeued)


@router.post(
    "/batches/{batch_id}/cancel",
    response_model=BatchAction,
    responses={404: {"description": "No such batch, or not visible to the caller"}},
)
def cancel(
    batch_id: str, svc: ServicesDep, principal: BatchesWriter, background: BackgroundTasks
) -> BatchAction:
    """Records of the batch still waiting in the queue fail with the code `cancelled` (they
    can be retried later); records already being processed finish."""
    _batch_for(svc, principal, batch_id)
    with unit_of_work(svc.sessions) as session:
        cancelled = cancel_batch(session, batch_id, principal)
    for document_id in cancelled:  # record.json of a failed record, as the pipeline writes it
        background.add_task(refresh_quietly, svc, document_id)
    summary = _load(svc, batch_id)
    assert summary is not None
    return BatchAction(batch=summary, record_ids=cancelled)


@router.post(
    "/records/{record_id}/retry",
    response_model=Record,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["records"],
    responses={
        404: {"description": "No such record, or not visible to the caller (same answer)"},
        409: {"description": "The record has not failed"},
    },
)
def retry_record(record_id: str, svc: ServicesDep, principal: RecordsRetrier) -> Record:
    """Send a failed record back to the queue (its pages are redone)."""
    with unit_of_work(svc.sessions) as session:
        doc = visible_document(session, principal, record_id)
        if not requeue(session, record_id, principal.actor):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"Chỉ tài liệu lỗi mới thử lại được (trạng thái: {doc.status}). "
                f"Only a failed record can be retried (status: {doc.status}).",
            )
        after_commit(session, lambda: enqueue_after_commit_safe(record_id))
    with unit_of_work(svc.sessions) as session:
        requeued = session.get(DocumentRow, record_id)
        assert requeued is not None
        return build_record(requeued, [])
