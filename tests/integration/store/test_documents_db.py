"""State transitions of documents on SQLite and PostgreSQL: guarded, idempotent, audited."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from schemas import ErrorCode, Status
from schemas.batch import EntryOutcome
from store import after_commit, unit_of_work
from store.platform.models import AuditRow, DocumentRow, PageRow, UnitRow, utcnow
from store.records.documents import (
    PageValues,
    claim,
    create_batch,
    mark_failed,
    mark_published,
    mark_requeued,
    save_page,
    stuck_documents,
)
from store.records.reads import batch_summary, load_record
from store.services import Services
from worker.ingest import ingest_file

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _batch(svc: Services) -> str:
    with unit_of_work(svc.sessions) as session:
        return create_batch(
            session,
            unit="phuong-co-nhue-1",
            dossier="H49.64.33.2001.160",
            label=None,
            source="test",
            actor="tester",
        ).id


def _ingest(svc: Services, batch_id: str, data: bytes, name: str, sent: list[str]):
    return ingest_file(svc, batch_id, io.BytesIO(data), name, actor="tester", enqueue=sent.append)


def test_default_units_are_loaded(svc: Services) -> None:
    with unit_of_work(svc.sessions) as session:
        codes = set(session.scalars(select(UnitRow.code)))
    assert {"quan-bac-tu-liem", "phuong-co-nhue-1", "phong-noi-vu"} <= codes


def test_upload_creates_a_queued_record_and_sends_it_after_commit(svc: Services) -> None:
    sent: list[str] = []
    batch_id = _batch(svc)
    entry = _ingest(svc, batch_id, b"%PDF-1.4\n...%%EOF", "hop12/0001.pdf", sent)
    assert entry.outcome is EntryOutcome.accepted and entry.status is Status.queued
    assert sent == [entry.document_id]
    record = _load(svc, entry.document_id)
    assert record.status is Status.queued
    assert record.source.filename == "0001.pdf"
    assert record.source.media_type == "application/pdf"
    assert svc.objects.exists(f"originals/{record.source.sha256[:2]}/{record.source.sha256}")


def test_same_bytes_twice_are_stored_once_and_reported_as_duplicate(svc: Services) -> None:
    sent: list[str] = []
    batch_id = _batch(svc)
    first = _ingest(svc, batch_id, PNG_HEAD, "a.png", sent)
    second = _ingest(svc, batch_id, PNG_HEAD, "copy of a.png", sent)
    assert second.outcome is EntryOutcome.duplicate
    assert second.document_id == first.document_id
    assert sent == [first.document_id]
    assert len(list(svc.objects.list("originals/"))) == 1
    summary = _summary(svc, batch_id)
    assert [e.outcome for e in summary.entries] == [EntryOutcome.accepted, EntryOutcome.duplicate]
    assert summary.counts == {Status.queued: 1}


def test_empty_and_unsupported_files_fail_at_once_and_their_bytes_are_not_kept(
    svc: Services,
) -> None:
    """Recorded as failed (the uploader sees why), but a type never accepted costs no
    storage: a 1 GB file of junk inside a small zip is not kept."""
    sent: list[str] = []
    batch_id = _batch(svc)
    empty = _ingest(svc, batch_id, b"", "empty.pdf", sent)
    docx = _ingest(svc, batch_id, b"PK\x03\x04" + b"\x00" * 100, "notes.docx", sent)
    assert sent == []
    assert _load(svc, empty.document_id).error.code is ErrorCode.empty_file
    assert _load(svc, docx.document_id).error.code is ErrorCode.unsupported_type
    assert list(svc.objects.list("originals/")) == []


def test_too_large_file_is_rejected_without_a_record(svc: Services) -> None:
    svc.settings.max_file_size = 10
    batch_id = _batch(svc)
    entry = _ingest(svc, batch_id, b"%PDF-1.4" + b"x" * 100, "big.pdf", [])
    assert entry.outcome is EntryOutcome.rejected
    assert entry.error_code is ErrorCode.file_too_large
    assert list(svc.objects.list("originals/")) == []
    assert _summary(svc, batch_id).entries[0].error_code is ErrorCode.file_too_large


def test_retrying_a_failed_file_by_uploading_it_again(svc: Services) -> None:
    sent: list[str] = []
    batch_id = _batch(svc)
    entry = _ingest(svc, batch_id, PNG_HEAD, "a.png", sent)
    with unit_of_work(svc.sessions) as session:
        assert claim(session, entry.document_id, "t1", timedelta(minutes=5))
        assert mark_failed(session, entry.document_id, ErrorCode.corrupt_image, "bad")
    again = _ingest(svc, batch_id, PNG_HEAD, "a.png", sent)
    assert again.status is Status.queued
    assert sent == [entry.document_id, entry.document_id]


def test_claim_is_exclusive_until_the_holder_goes_quiet(svc: Services) -> None:
    sent: list[str] = []
    doc_id = _ingest(svc, _batch(svc), PNG_HEAD, "a.png", sent).document_id
    stale = timedelta(minutes=5)
    with unit_of_work(svc.sessions) as session:
        assert claim(session, doc_id, "task-1", stale) is not None
    with unit_of_work(svc.sessions) as session:
        assert claim(session, doc_id, "task-2", stale) is None  # someone is on it
        assert claim(session, doc_id, "task-1", stale) is not None  # a redelivery of task-1
    with unit_of_work(svc.sessions) as session:  # task-1's worker died long ago
        session.execute(update(DocumentRow).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    with unit_of_work(svc.sessions) as session:
        assert claim(session, doc_id, "task-2", stale) is not None
        attempts = session.get(DocumentRow, doc_id).attempts
    assert attempts == 3


def test_final_states_are_never_undone(svc: Services) -> None:
    doc_id = _ingest(svc, _batch(svc), PNG_HEAD, "a.png", []).document_id
    with unit_of_work(svc.sessions) as session:
        claim(session, doc_id, "t", timedelta(minutes=5))
        save_page(session, doc_id, PageValues(1, "Số: 251/KH-UBND", "ocr", 0.9, 0, None, True))
        save_page(session, doc_id, PageValues(1, "Số: 251/KH-UBND", "ocr", 0.9, 0, None, True))
    with unit_of_work(svc.sessions) as session:
        assert mark_published(session, doc_id, Status.digitized, None)
        assert not mark_published(session, doc_id, Status.digitized, None)
        assert not mark_failed(session, doc_id, ErrorCode.internal_error, "late")
        assert claim(session, doc_id, "t", timedelta(0)) is None
        pages = session.scalars(select(PageRow).where(PageRow.document_id == doc_id)).all()
        actions = session.scalars(select(AuditRow.action).where(AuditRow.document_id == doc_id))
        assert list(actions) == ["document.upload", "document.digitized"]
    assert len(pages) == 1
    record = _load(svc, doc_id)
    assert record.status is Status.digitized and record.text == "Số: 251/KH-UBND"


def test_stuck_documents_are_found_and_requeued(svc: Services) -> None:
    doc_id = _ingest(svc, _batch(svc), PNG_HEAD, "a.png", []).document_id
    with unit_of_work(svc.sessions) as session:
        claim(session, doc_id, "dead-task", timedelta(minutes=5))
        assert list(stuck_documents(session, timedelta(minutes=5))) == []
        session.execute(update(DocumentRow).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    with unit_of_work(svc.sessions) as session:
        assert list(stuck_documents(session, timedelta(minutes=5))) == [doc_id]
        mark_requeued(session, [doc_id])
    with unit_of_work(svc.sessions) as session:
        assert session.get(DocumentRow, doc_id).status == Status.queued.value
        assert list(stuck_documents(session, timedelta(minutes=5))) == []
        assert claim(session, doc_id, "new-task", timedelta(minutes=5)) is not None


def test_after_commit_hooks_run_only_on_commit(svc: Services) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), unit_of_work(svc.sessions) as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("boom")
    with unit_of_work(svc.sessions) as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]


def _load(svc: Services, doc_id: str | None):
    assert doc_id is not None
    with unit_of_work(svc.sessions) as session:
        record = load_record(session, doc_id)
    assert record is not None
    return record


def _summary(svc: Services, batch_id: str):
    with unit_of_work(svc.sessions) as session:
        summary = batch_summary(session, batch_id)
    assert summary is not None
    return summary
