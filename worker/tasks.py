"""Celery tasks: thin wrappers that run the pipeline and decide retry versus failure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from celery import Task
from sqlalchemy.exc import DBAPIError, OperationalError

from ocr import ExtractionError
from schemas.errors import ErrorCode
from store import StorageUnavailable, unit_of_work
from store.batches.idempotency import purge_idempotency_keys
from store.records.attempts import begin_attempt, end_attempt
from store.records.documents import expired_leases, mark_requeued, queued_before
from store.services import services
from worker import pipeline, send_gate
from worker.app import app
from worker.broker_scan import broker_listing
from worker.fairness import fair_priority
from worker.retries import backoff_seconds

log = logging.getLogger(__name__)

#: errors of the infrastructure, not of the file: the same work will succeed later
TRANSIENT = (StorageUnavailable, OperationalError, ConnectionError, TimeoutError)
MAX_RETRIES = 8
#: an unexpected error is retried this often before the document is marked failed
MAX_UNEXPECTED = 2

T = TypeVar("T")


def _backoff(retries: int) -> float:
    """A transient failure's wait before the next try: 2 s, 4 s, … up to 5 minutes."""
    return backoff_seconds(retries + 1, base=2.0, cap=300.0)


def _begin(document_id: str, job: str) -> bool:
    """Count the start of `job`; fail the document when earlier starts killed their worker
    `max_crashes` times (store/records/attempts.py)."""
    svc = services()
    limit = svc.settings.max_crashes
    with unit_of_work(svc.sessions) as session:
        allowed = begin_attempt(session, document_id, job, limit)
    if not allowed:
        log.error("document %s: %s killed its worker %d times; failed", document_id, job, limit)
        pipeline.fail(
            svc, document_id, ErrorCode.worker_crashed,
            f"{job} stopped its worker process {limit} times (memory, a crash, a kill)",
        )  # fmt: skip
    return allowed


def _end(document_id: str, job: str) -> None:
    try:
        with unit_of_work(services().sessions) as session:
            end_attempt(session, document_id, job)
    except Exception:  # the row stays: at worst one more start is counted as a crash
        log.warning("document %s: the end of %s could not be recorded", document_id, job)


def _guarded(task: Task, document_id: str, step: Callable[[], T], job: str) -> T | None:
    """Run a pipeline step: a permanent error fails the document, never the batch; a
    transient one retries with backoff; a step that keeps killing its worker fails the
    document (`job` names the step for that count)."""
    try:
        if not _begin(document_id, job):
            return None
        return step()
    except ExtractionError as exc:
        pipeline.fail(services(), document_id, exc.code, exc.message)
        return None
    except TRANSIENT as exc:
        if task.request.retries >= MAX_RETRIES:
            pipeline.fail(services(), document_id, ErrorCode.internal_error, f"gave up: {exc}")
            return None
        raise task.retry(exc=exc, countdown=_backoff(task.request.retries)) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated and task.request.retries < MAX_RETRIES:
            raise task.retry(exc=exc, countdown=_backoff(task.request.retries)) from exc
        raise
    except Exception as exc:
        if task.request.retries >= MAX_UNEXPECTED:
            log.exception("document %s failed unexpectedly", document_id)
            pipeline.fail(
                services(), document_id, ErrorCode.internal_error, f"{type(exc).__name__}: {exc}"
            )
            return None
        raise task.retry(exc=exc, countdown=_backoff(task.request.retries)) from exc
    finally:
        _end(document_id, job)


def enqueue(document_id: str) -> None:
    """Send a document to the workers (call only after its row is committed), placed by its
    unit's backlog (worker/fairness.py)."""
    priority = fair_priority(services(), document_id)
    process_document.apply_async(args=[document_id], priority=priority)


def send_publish(document_id: str) -> None:
    """Ask the light queue to publish. When the broker is down the document keeps its pages,
    its lease expires and the reconciler sends it again."""
    _send_or_leave(lambda: publish_document.apply_async(args=[document_id]), document_id)


def enqueue_after_commit_safe(document_id: str) -> bool:
    """For after-commit hooks: a broker that is down must not undo a stored upload; the
    reconciler sends the document later. False when it was not sent."""
    return _send_or_leave(lambda: enqueue(document_id), document_id)


def _send_or_leave(send: Callable[[], object], document_id: str) -> bool:
    if not send_gate.open_now():  # a send failed a moment ago: do not wait on it again
        log.info("broker unavailable: %s left to the reconciler", document_id)
        return False
    try:
        send()
    except Exception:
        send_gate.failed()
        log.exception("could not send %s to the broker; the reconciler will", document_id)
        return False
    return True


@app.task(bind=True, name="sohoa.process", acks_late=True, reject_on_worker_lost=True)
def process_document(self: Task, document_id: str) -> str:
    """Claim a document, extract it (fanning out large ones by page ranges) and publish it."""
    svc = services()
    plan = _guarded(
        self, document_id, lambda: pipeline.start(svc, document_id, self.request.id), "start"
    )
    if plan is None:
        return "skipped"
    chunks = plan.chunks(svc.settings.pages_per_task)
    if len(chunks) <= 1:
        _guarded(
            self,
            document_id,
            lambda: pipeline.extract_pages(svc, document_id, plan.remaining),
            "extract",
        )
        if pipeline.is_complete(svc, document_id):
            send_publish(document_id)
        return "extracted"
    for pages in chunks:
        extract_range.apply_async(args=[document_id, pages])
    return f"fanned out in {len(chunks)} parts"


@app.task(bind=True, name="sohoa.extract_range", acks_late=True, reject_on_worker_lost=True)
def extract_range(self: Task, document_id: str, pages: list[int]) -> str:
    """Extract some pages of a large document; the part that finishes last publishes."""
    svc = services()
    job = f"extract:{pages[0]}-{pages[-1]}" if pages else "extract"
    _guarded(self, document_id, lambda: pipeline.extract_pages(svc, document_id, pages), job)
    if pipeline.is_complete(svc, document_id):
        # Two parts finishing together may both send it: publishing is idempotent.
        send_publish(document_id)
    return "extracted"


@app.task(bind=True, name="sohoa.publish", acks_late=True, reject_on_worker_lost=True)
def publish_document(self: Task, document_id: str) -> str:
    """Write the record's objects and make it final (on the light queue)."""
    svc = services()
    status = _guarded(self, document_id, lambda: pipeline.publish(svc, document_id), "publish")
    return status.value if status else "nothing to publish"


@app.task(name="sohoa.reconcile")
def reconcile() -> dict[str, Any]:
    """Re-send what shows no sign of life: a task lost by the broker is not a record lost.

    A processing document whose lease expired (its worker died) or that made no progress for
    `stuck_after`, and a queued document older than `lost_after` whose message is in no broker
    queue (a flush or restart lost it). When the broker cannot be listed, a queued document
    is re-sent only after `stuck_after`.
    """
    svc = services()
    settings = svc.settings
    listing = broker_listing(settings, fresh=float(settings.lease_seconds))
    with unit_of_work(svc.sessions) as session:
        expired = [
            d
            for d in expired_leases(
                session,
                timedelta(seconds=settings.lease_seconds),
                timedelta(seconds=settings.stuck_after),
            )
            # parts of a large document waiting their turn in the queue hold no lease
            if listing is None or d not in listing.waiting
        ]
        if listing is None:
            waited = timedelta(seconds=settings.stuck_after)
            lost = list(queued_before(session, waited))
        else:
            waited = timedelta(seconds=settings.lost_after)
            lost = [d for d in queued_before(session, waited) if d not in listing.present]
        mark_requeued(session, expired + lost)
    send_gate.reset()  # the reconciler always tries: it is how work comes back
    for document_id in expired + lost:
        enqueue_after_commit_safe(document_id)
    if expired or lost:
        log.warning(
            "reconciler re-sent %d documents with an expired lease and %d lost ones: %s",
            len(expired), len(lost), (expired + lost)[:20],
        )  # fmt: skip
    return {"expired": expired, "lost": lost, "broker_listed": listing is not None}


#: an Idempotency-Key answers a client's retries for this long, then it is forgotten
IDEMPOTENCY_KEEP = timedelta(days=7)


@app.task(name="sohoa.housekeeping")
def housekeeping() -> dict[str, Any]:
    """Daily: forget idempotency keys no client will retry with any more."""
    svc = services()
    with unit_of_work(svc.sessions) as session:
        purged = purge_idempotency_keys(session, IDEMPOTENCY_KEEP)
    return {"idempotency_keys_purged": purged}
