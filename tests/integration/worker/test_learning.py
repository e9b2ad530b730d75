"""Staff corrections teach classification: after one record with an unusual header is
corrected, the next record with that header comes out right — through the whole pipeline."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from schemas import Record, Status
from store import unit_of_work
from store.platform.models import AuditRow
from store.records.corrections import correct_document
from store.records.documents import create_batch
from store.records.reads import load_record
from store.services import Services
from tests.data.samples import get_spec, write_digital_pdf
from worker import pipeline
from worker.ingest import ingest_file

pytestmark = pytest.mark.slow

#: a ward's header as some archives print it: the Party committee above the People's Committee
UNUSUAL_HEADER = "ĐẢNG ỦY - UBND\nPHƯỜNG THƯỢNG CÁT"


def _digitize(svc: Services, path: Path) -> Record:
    with unit_of_work(svc.sessions) as session:
        batch = create_batch(session, unit=None, dossier=None, label=None, source="test", actor="t")
    sent: list[str] = []
    with path.open("rb") as fh:
        ingest_file(svc, batch.id, fh, path.name, actor="t", enqueue=sent.append)
    [doc_id] = sent
    plan = pipeline.start(svc, doc_id, "test")
    assert plan is not None
    pipeline.extract_pages(svc, doc_id, plan.remaining)
    assert pipeline.publish(svc, doc_id) is not None
    with unit_of_work(svc.sessions) as session:
        record = load_record(session, doc_id)
    assert record is not None
    return record


def test_a_corrected_header_is_read_right_next_time(svc: Services, tmp_path: Path) -> None:
    base = get_spec("tb-45-pnv")
    first_spec = dataclasses.replace(
        base, key="unusual-1", issuer=UNUSUAL_HEADER, parent=None, number="21/TB-UBND",
        place="Thượng Cát",
    )  # fmt: skip
    second_spec = dataclasses.replace(first_spec, key="unusual-2", number="37/TB-UBND")
    first = _digitize(svc, write_digital_pdf(tmp_path / "a.pdf", first_spec).path)
    assert first.unit is None  # no known unit prints its header like that
    assert first.document.number == "21/TB-UBND"

    with unit_of_work(svc.sessions) as session:
        correct_document(
            session, first.id,
            {"unit": "phuong-thuong-cat", "issuer": "Ủy ban nhân dân phường Thượng Cát"},
            actor="van-thu-1",
        )  # fmt: skip
    with unit_of_work(svc.sessions) as session:
        corrected = load_record(session, first.id)
        [entry] = session.query(AuditRow).filter(AuditRow.action == "document.correct").all()
    assert corrected is not None and corrected.unit == "phuong-thuong-cat"
    assert entry.actor == "van-thu-1"
    assert entry.detail["changes"]["issuer"]["old"] == first.document.issuer  # machine's value
    assert entry.detail["changes"]["issuer"]["new"] == "Ủy ban nhân dân phường Thượng Cát"

    second = _digitize(svc, write_digital_pdf(tmp_path / "b.pdf", second_spec).path)
    assert second.unit == "phuong-thuong-cat"
    assert second.document.issuer == "Ủy ban nhân dân phường Thượng Cát"
    assert second.document.number == "37/TB-UBND"
    assert second.status in (Status.digitized, Status.needs_review)
