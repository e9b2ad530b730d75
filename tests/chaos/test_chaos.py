"""Chaos on the production path: faults while a batch is being digitized, then 0 lost, 0
duplicated, 0 stuck, and how long the work took to resume and to finish after each fault.

The short form (a worker's children killed, the broker flushed; small batches) runs in the
normal suite; `make chaos` runs every fault (SOHOA_CHAOS=1).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from schemas.record import FINAL_STATES, Status
from store import unit_of_work
from store.platform.models import AuditRow, DocumentRow, JobAttemptRow, PageRow
from store.records.documents import create_batch
from store.services import Services, set_services
from tests.celery_harness import wait_until
from tests.chaos.stack import RedisProcess, Workers, terminate_database_connections
from tests.conftest import _reset_pg, make_services
from tests.data.classify_eval import all_specs
from tests.data.writers import write_digital_pdf, write_scanned_pdf
from tests.s3process import S3Process
from worker.app import app, configure
from worker.ingest import ingest_file
from worker.tasks import enqueue

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

#: after a fault is healed, the batch must be done within this (the issue's bar is 60 s to
#: resume; finishing includes the OCR still to do)
FINISH_WITHIN = 240.0


@dataclass
class Stack:
    svc: Services
    redis: RedisProcess
    s3: S3Process
    workers: Workers
    folder: Path
    made: int = 0


@pytest.fixture
def stack(pg_server: str, tmp_path: Path) -> Iterator[Stack]:
    _reset_pg(pg_server)
    broker = RedisProcess(tmp_path)
    s3 = S3Process()
    # Short periods by default; SOHOA_CHAOS_DEFAULTS=1 measures the shipped settings.
    timing: dict[str, int] = (
        {}
        if os.environ.get("SOHOA_CHAOS_DEFAULTS")
        else {"lease_seconds": 6, "lost_after": 5, "reconcile_every": 2, "stuck_after": 300}
    )
    svc = make_services(
        pg_server,
        f"s3://{s3.endpoint}/chaos-{uuid.uuid4().hex[:8]}",
        broker_url=broker.url,
        task_queue="chaos",
        pages_per_task=2,
        **timing,
    )
    configure(app, svc.settings)
    set_services(svc)
    workers = Workers(svc.settings, tmp_path)
    workers.start()
    try:
        yield Stack(svc, broker, s3, workers, tmp_path)
    finally:
        workers.stop()
        set_services(None)
        svc.close()
        s3.stop()
        broker.stop()


def _batch(stack: Stack, size: int) -> list[str]:
    """`size` distinct files, every fourth a scanned PDF of two pages (OCR), the rest digital."""
    specs = all_specs(generated=200)
    with unit_of_work(stack.svc.sessions) as session:
        batch = create_batch(
            session, unit="phong-noi-vu", dossier=None, label=None, source="chaos", actor="t"
        )
    ids = []
    for i in range(size):
        spec = specs[stack.made % len(specs)]
        stack.made += 1
        path = stack.folder / f"doc-{stack.made}.pdf"
        if i % 4 == 0:
            write_scanned_pdf(path, spec, max_pages=2)
        else:
            write_digital_pdf(path, spec, max_pages=1)
        with path.open("rb") as fh:
            entry = ingest_file(stack.svc, batch.id, fh, path.name, actor="t", enqueue=enqueue)
        assert entry.document_id
        ids.append(entry.document_id)
    return ids


def _progress(svc: Services, ids: list[str]) -> int:
    """Pages stored plus documents finished: any step of work moves it."""
    with unit_of_work(svc.sessions) as session:
        pages = session.scalar(
            select(func.count()).select_from(PageRow).where(PageRow.document_id.in_(ids))
        )
        final = session.scalar(
            select(func.count())
            .select_from(DocumentRow)
            .where(DocumentRow.id.in_(ids), DocumentRow.status.in_([s.value for s in FINAL_STATES]))
        )
    return int(pages or 0) + int(final or 0)


def _all_final(svc: Services, ids: list[str]) -> bool:
    with unit_of_work(svc.sessions) as session:
        states = session.scalars(select(DocumentRow.status).where(DocumentRow.id.in_(ids))).all()
    return len(states) == len(ids) and all(Status(s) in FINAL_STATES for s in states)


def _safe(check: Callable[[], bool]) -> Callable[[], bool]:
    """A poll that survives the faults it watches (the database connections being killed)."""

    def poll() -> bool:
        try:
            return check()
        except Exception:
            return False

    return poll


def fault_worker_children(stack: Stack) -> None:
    stack.workers.kill_ocr_children()


def fault_worker(stack: Stack) -> None:
    stack.workers.kill_ocr()  # started again by the supervisor at the next poll


def fault_broker_flush(stack: Stack) -> None:
    stack.redis.flushall()


def fault_broker_restart(stack: Stack) -> None:
    stack.redis.kill()
    time.sleep(5)
    stack.redis.start()


def fault_storage_freeze(stack: Stack) -> None:
    with stack.s3.frozen():
        time.sleep(20)


def fault_database_connections(stack: Stack) -> None:
    terminate_database_connections(stack.svc.settings.database_url)


SHORT = {
    "worker child kill -9": fault_worker_children,
    "broker FLUSHALL": fault_broker_flush,
}
FULL = {
    **SHORT,
    "worker kill -9": fault_worker,
    "broker kill -9, restarted empty": fault_broker_restart,
    "storage frozen 20 s": fault_storage_freeze,
    "database connections killed": fault_database_connections,
}


def _run(stack: Stack, faults: dict[str, Callable[[Stack], None]], size: int) -> list[str]:
    every: list[str] = []
    report = []
    for name, fault in faults.items():
        ids = _batch(stack, size)
        every += ids
        stack.workers.supervise()
        wait_until(
            _safe(lambda ids=ids: _progress(stack.svc, ids) >= 1), 180, f"work before {name}"
        )
        fault(stack)
        healed = time.monotonic()
        before = _safe_progress(stack, ids)
        resumed: float | None = None

        def done(ids: list[str] = ids, before: int = before, healed: float = healed) -> bool:
            nonlocal resumed
            stack.workers.supervise()
            if resumed is None and _safe_progress(stack, ids) > before:
                resumed = time.monotonic() - healed
            return _safe(lambda: _all_final(stack.svc, ids))()

        try:
            wait_until(done, FINISH_WITHIN, f"the batch to finish after {name}")
        except AssertionError:
            pytest.fail(f"{name}: not finished\n{stack.workers.output()}")
        finished = time.monotonic() - healed
        report.append((name, resumed if resumed is not None else finished, finished))
    print("\nrecovery after each fault (seconds from the fault healed):")
    print(f"{'fault':34} {'work resumed':>13} {'batch done':>11}")
    for name, resumed_after, finished in report:
        print(f"{name:34} {resumed_after:13.1f} {finished:11.1f}")
    settings = stack.svc.settings
    print(
        f"worker restarts by the supervisor: {stack.workers.restarts}; lease "
        f"{settings.lease_seconds} s, lost after {settings.lost_after} s, reconciler every "
        f"{settings.reconcile_every} s"
    )
    return every


def _safe_progress(stack: Stack, ids: list[str]) -> int:
    for _ in range(20):
        try:
            return _progress(stack.svc, ids)
        except Exception:
            time.sleep(0.5)
    return 0


def _assert_nothing_lost_or_doubled(svc: Services, ids: list[str]) -> None:
    with unit_of_work(svc.sessions) as session:
        rows = session.scalars(select(DocumentRow).where(DocumentRow.id.in_(ids))).all()
        assert len(rows) == len(ids)  # 0 lost
        for row in rows:  # 0 stuck, 0 failed
            assert row.status in (Status.digitized.value, Status.needs_review.value), (
                row.id, row.status, row.error_code, row.error_message,
            )  # fmt: skip
            numbers = session.scalars(
                select(PageRow.number).where(PageRow.document_id == row.id)
            ).all()
            assert sorted(numbers) == list(range(1, (row.page_count or 0) + 1))
        published = session.execute(
            select(AuditRow.document_id, func.count())
            .where(
                AuditRow.document_id.in_(ids),
                AuditRow.action.in_(["document.digitized", "document.needs_review"]),
            )
            .group_by(AuditRow.document_id)
        ).all()
    assert {doc: n for doc, n in published} == dict.fromkeys(ids, 1)  # 0 duplicated
    for doc_id in ids:
        assert svc.objects.exists(f"records/{doc_id}/record.json")
        assert svc.objects.exists(f"records/{doc_id}/searchable.pdf")


def _started(svc: Services, doc_id: str) -> set[tuple[str, int]]:
    """The pieces of work begun on the document and not ended: (step, starts so far)."""
    with unit_of_work(svc.sessions) as session:
        rows = session.execute(
            select(JobAttemptRow.job, JobAttemptRow.starts).where(
                JobAttemptRow.document_id == doc_id
            )
        ).all()
    return {(job, starts) for job, starts in rows}


def test_a_file_that_kills_its_worker_fails_after_max_crashes(stack: Stack) -> None:
    """A poison file, as a worker's memory limit or a crashing library would make it: its
    worker process dies each time it works on it (here killed as the OOM killer would). It
    ends `failed` with worker_crashed after SOHOA_MAX_CRASHES deaths; the queue goes on."""
    stack.workers.stop()
    stack.svc.settings.max_crashes = 2
    stack.workers.start()  # the workers read the limit from their environment
    (poison,) = _batch(stack, 1)
    kills, killed = 0, set()
    deadline = time.monotonic() + FINISH_WITHIN
    while _status(stack.svc, poison) not in FINAL_STATES:
        assert time.monotonic() < deadline, f"not final after {kills} deaths"
        stack.workers.supervise()
        started = _started(stack.svc, poison)
        # it began a piece of work on the file again: the process dies
        if started - killed and stack.workers.kill_ocr_children():
            kills += 1
            killed |= started
        time.sleep(0.02)
    with unit_of_work(stack.svc.sessions) as session:
        doc = session.get(DocumentRow, poison)
        assert doc is not None and doc.error_code == "worker_crashed", (kills, doc.status)
    # each step of the work (plan, a range of pages, publishing) counts its own deaths, and a
    # kill may land just after a step ended: a few more deaths than the limit, never many
    assert 2 <= kills <= 8
    others = _batch(stack, 2)  # the rest of the queue is served by the same workers
    wait_until(_safe(lambda: _all_final(stack.svc, others)), FINISH_WITHIN, "the rest")
    _assert_nothing_lost_or_doubled(stack.svc, others)


def _status(svc: Services, doc_id: str) -> str | None:
    with unit_of_work(svc.sessions) as session:
        return session.scalar(select(DocumentRow.status).where(DocumentRow.id == doc_id))


def test_chaos_short(stack: Stack) -> None:
    """Runs in the normal suite: two faults, small batches."""
    ids = _run(stack, SHORT, size=4)
    _assert_nothing_lost_or_doubled(stack.svc, ids)


@pytest.mark.chaos
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not os.environ.get("SOHOA_CHAOS"), reason="the long form: make chaos")
def test_chaos_full(stack: Stack) -> None:
    ids = _run(stack, FULL, size=8)
    _assert_nothing_lost_or_doubled(stack.svc, ids)
