"""The pipeline on a real Celery worker with real Redis, PostgreSQL and S3 over HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from schemas import ErrorCode, Record, Status
from store import unit_of_work
from store.platform.models import AuditRow, DocumentRow, PageRow
from store.records.documents import create_batch
from store.records.reads import load_record
from store.services import Services, set_services
from tests.celery_harness import WorkerProcess, all_final, statuses, wait_until
from tests.conftest import REDIS_URL, make_services
from tests.data.samples import (
    get_spec,
    write_bad_files,
    write_digital_pdf,
    write_jpeg,
    write_scanned_pdf,
    write_tiff,
)
from tests.pdfutil import long_pdf
from worker.app import app, configure, ocr_queue
from worker.ingest import ingest_file

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"sohoa-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(name, *client.keys(f"{name}*"))  # with the priority lists
    client.close()


@pytest.fixture
def prod_svc(pg_server: str, s3_endpoint: str, queue_name: str) -> Iterator[Services]:
    """Production-like services: PostgreSQL, S3 over HTTP, Redis broker."""
    from tests.conftest import _reset_pg

    _reset_pg(pg_server)
    svc = make_services(
        pg_server,
        f"s3://{s3_endpoint}/sohoa-{uuid.uuid4().hex[:8]}",
        broker_url=REDIS_URL,
        task_queue=queue_name,
        stuck_after=8,
        reconcile_every=2,
        lease_seconds=6,
        lost_after=3,
        pages_per_task=2,
    )
    configure(app, svc.settings)
    set_services(svc)  # what enqueue() counts the unit's backlog in
    yield svc
    set_services(None)
    svc.close()


def _ingest(svc: Services, paths: list[Path], enqueue) -> list[str]:  # type: ignore[no-untyped-def]
    with unit_of_work(svc.sessions) as session:
        batch = create_batch(
            session, unit="phuong-co-nhue-1", dossier=None, label=None, source="test", actor="t"
        )
    ids = []
    for path in paths:
        with path.open("rb") as fh:
            entry = ingest_file(svc, batch.id, fh, path.name, actor="t", enqueue=enqueue)
        assert entry.document_id
        ids.append(entry.document_id)
    return ids


def _send(document_id: str) -> None:
    from worker.tasks import enqueue

    enqueue(document_id)


def test_mixed_batch_ends_final_with_clear_errors(prod_svc: Services, tmp_path: Path) -> None:
    svc = prod_svc
    good = [
        write_scanned_pdf(tmp_path / "scan.pdf", get_spec("kh-251-ubnd"), max_pages=1).path,
        write_digital_pdf(tmp_path / "digital.pdf", get_spec("cv-12-ubnd-vx"), max_pages=2).path,
        write_tiff(tmp_path / "scan.tif", get_spec("tb-45-pnv"), max_pages=2).path,
        write_jpeg(tmp_path / "scan.jpg", get_spec("qd-86-ubnd-cn1")).path,
        # a 5-page born-digital PDF fans out in parts of 2 pages
        long_pdf(tmp_path / "long.pdf", 5, scanned=False),
    ]
    bad = write_bad_files(tmp_path / "bad")
    expected = {
        "corrupt.pdf": ErrorCode.corrupt_pdf,
        "empty.pdf": ErrorCode.empty_file,
        "encrypted.pdf": ErrorCode.encrypted_pdf,
        "notes.docx": ErrorCode.unsupported_type,
    }
    bad_paths = [bad[name] for name in expected] + [bad["png_named.pdf"]]
    ids = _ingest(svc, good + bad_paths, _send)
    worker = WorkerProcess(svc.settings, tmp_path / "worker.log")
    try:
        wait_until(lambda: all_final(svc, ids), 300, "every document to be final")
    finally:
        worker.stop()
    with unit_of_work(svc.sessions) as session:
        records = {doc_id: load_record(session, doc_id) for doc_id in ids}
    by_name = {r.source.filename: r for r in records.values() if r}
    for name, code in expected.items():
        record = by_name[name]
        assert record.status is Status.failed, name
        assert record.error is not None and record.error.code is code, (name, record.error)
    for path in [*good, bad["png_named.pdf"]]:
        record = by_name[path.name]
        assert record.status is Status.digitized, (path.name, record.error, worker.output())
        assert record.text and len(record.pages) == record.source.pages
        stored = Record.model_validate(
            json.loads(svc.objects.get_bytes(f"records/{record.id}/record.json"))
        )
        assert stored.status is Status.digitized
        assert svc.objects.exists(f"records/{record.id}/searchable.pdf")
    assert by_name["png_named.pdf"].source.media_type == "image/png"
    assert by_name["long.pdf"].source.pages == 5


def _page_count(svc: Services, doc_id: str) -> int:
    with unit_of_work(svc.sessions) as session:
        return (
            session.scalar(
                select(func.count()).select_from(PageRow).where(PageRow.document_id == doc_id)
            )
            or 0
        )


def test_worker_killed_mid_document_loses_and_duplicates_nothing(
    prod_svc: Services, tmp_path: Path
) -> None:
    svc = prod_svc
    svc.settings.pages_per_task = 100  # one task holds the whole document
    configure(app, svc.settings)
    path = long_pdf(tmp_path / "long-scan.pdf", 6, scanned=True)
    [doc_id] = _ingest(svc, [path], _send)

    first = WorkerProcess(svc.settings, tmp_path / "first.log")
    try:
        wait_until(lambda: _page_count(svc, doc_id) >= 1, 120, "the first page to be stored")
    finally:
        first.kill()
    assert statuses(svc, [doc_id])[doc_id] is Status.processing
    assert _page_count(svc, doc_id) < 6

    second = WorkerProcess(svc.settings, tmp_path / "second.log", beat=True)
    try:
        wait_until(lambda: all_final(svc, [doc_id]), 240, "the document to be finished")
    finally:
        second.stop()
    with unit_of_work(svc.sessions) as session:
        record = load_record(session, doc_id)
        rows = session.scalar(
            select(func.count())
            .select_from(DocumentRow)
            .where(DocumentRow.sha256 == record.source.sha256)
        )
        published = session.scalar(
            select(func.count())
            .select_from(AuditRow)
            .where(AuditRow.document_id == doc_id, AuditRow.action == "document.digitized")
        )
    assert record is not None and record.status is Status.digitized, second.output()
    assert rows == 1 and published == 1
    assert [p.number for p in record.pages] == [1, 2, 3, 4, 5, 6]
    assert sorted(svc.objects.list(f"records/{doc_id}/pages/")) == sorted(
        f"records/{doc_id}/pages/{n}.hocr" for n in range(1, 7)
    )


def test_task_dropped_by_the_broker_is_rerun_by_the_reconciler(
    prod_svc: Services, tmp_path: Path
) -> None:
    svc = prod_svc
    sample = write_digital_pdf(tmp_path / "lost.pdf", get_spec("bc-128-ubnd-xd"), max_pages=1)
    [doc_id] = _ingest(svc, [sample.path], _send)
    client = redis.Redis.from_url(REDIS_URL)
    assert client.llen(ocr_queue(svc.settings)) == 1
    client.delete(ocr_queue(svc.settings))  # Redis lost the message
    client.close()
    assert statuses(svc, [doc_id])[doc_id] is Status.queued

    worker = WorkerProcess(svc.settings, tmp_path / "worker.log", beat=True)
    try:
        wait_until(lambda: all_final(svc, [doc_id]), 120, "the reconciler to re-send it")
    finally:
        worker.stop()
    assert statuses(svc, [doc_id])[doc_id] is Status.digitized, worker.output()
    assert "reconciler re-sent" in worker.output()
