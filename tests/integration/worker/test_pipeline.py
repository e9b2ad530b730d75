"""The pipeline steps in process, on SQLite and PostgreSQL, with the folder and S3 stores."""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pytest

from ocr import ExtractionError
from schemas import ErrorCode, Record, Status
from store import unit_of_work
from store.records.documents import create_batch
from store.records.reads import load_record
from store.services import Services
from tests.conftest import make_services
from tests.data.samples import cer, get_spec, write_bad_files, write_digital_pdf, write_scanned_pdf
from worker import pipeline
from worker.ingest import ingest_file

pytestmark = pytest.mark.slow


@pytest.fixture
def pipeline_svc(database_url: str, storage_url: str):  # type: ignore[no-untyped-def]
    svc = make_services(database_url, storage_url)
    yield svc
    svc.close()


def _run(svc: Services, path: Path, holder: str = "test") -> Record:
    with unit_of_work(svc.sessions) as session:
        batch = create_batch(
            session, unit="quan-bac-tu-liem", dossier=None, label=None, source="test", actor="t"
        )
    sent: list[str] = []
    with path.open("rb") as fh:
        entry = ingest_file(svc, batch.id, fh, path.name, actor="t", enqueue=sent.append)
    assert entry.document_id
    for doc_id in sent:
        try:
            plan = pipeline.start(svc, doc_id, holder)
            assert plan is not None
            pipeline.extract_pages(svc, doc_id, plan.remaining)
            assert pipeline.publish(svc, doc_id) is Status.digitized
        except ExtractionError as exc:
            pipeline.fail(svc, doc_id, exc.code, exc.message)
    with unit_of_work(svc.sessions) as session:
        record = load_record(session, entry.document_id)
    assert record is not None
    return record


def test_scanned_and_digital_pdfs_become_stored_records(
    pipeline_svc: Services, tmp_path: Path
) -> None:
    svc = pipeline_svc
    scan = write_scanned_pdf(tmp_path / "scan.pdf", get_spec("kh-251-ubnd"), max_pages=1)
    digital = write_digital_pdf(tmp_path / "digital.pdf", get_spec("cv-12-ubnd-vx"), max_pages=1)

    for sample, method in ((scan, "ocr"), (digital, "text-layer")):
        record = _run(svc, sample.path)
        assert record.status is Status.digitized, record.error
        assert record.unit == "quan-bac-tu-liem"
        assert [p.method.value for p in record.pages] == [method]
        assert cer(sample.text, record.text or "") <= 0.02
        read = record.document.model_dump(mode="json")
        for field in ("type", "number", "issued_on", "signer"):  # what the page says
            assert read[field] == sample.document[field], field

        prefix = f"records/{record.id}/"
        stored = json.loads(svc.objects.get_bytes(prefix + "record.json"))
        assert Record.model_validate(stored) == record
        assert svc.objects.get_bytes(prefix + "text.txt").decode() == record.text
        assert svc.objects.exists(prefix + "pages/1.hocr") == (method == "ocr")

        pdf_path = tmp_path / f"{record.id}.pdf"
        svc.objects.download(prefix + "searchable.pdf", pdf_path)
        with pdfplumber.open(pdf_path) as pdf:
            assert len(pdf.pages) == 1
            assert cer(sample.pages[0], pdf.pages[0].extract_text() or "") <= 0.05


def test_a_step_run_twice_changes_nothing(pipeline_svc: Services, tmp_path: Path) -> None:
    svc = pipeline_svc
    digital = write_digital_pdf(tmp_path / "digital.pdf", get_spec("tb-45-pnv"), max_pages=1)
    record = _run(svc, digital.path)
    assert pipeline.start(svc, record.id, "test") is None  # final: nobody claims it again
    assert pipeline.extract_pages(svc, record.id, [1]) == 0
    assert pipeline.publish(svc, record.id) is None
    with unit_of_work(svc.sessions) as session:
        again = load_record(session, record.id)
    assert again == record


def test_broken_file_fails_with_its_code_and_keeps_its_original(
    pipeline_svc: Services, tmp_path: Path
) -> None:
    svc = pipeline_svc
    bad = write_bad_files(tmp_path)
    record = _run(svc, bad["encrypted.pdf"])
    assert record.status is Status.failed
    assert record.error is not None and record.error.code is ErrorCode.encrypted_pdf
    assert record.text is None and record.pages == []
    sha = record.source.sha256
    assert svc.objects.exists(f"originals/{sha[:2]}/{sha}")
    stored = json.loads(svc.objects.get_bytes(f"records/{record.id}/record.json"))
    assert stored["error"]["code"] == "encrypted_pdf"
