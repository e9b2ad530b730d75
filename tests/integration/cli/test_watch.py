"""`sohoa watch`: a scanning station's folder. Complete files only, each stored once, moved
to done/ or failed/ with a JSON saying why, in their dossier at their số thứ tự."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from cli.watch import Station, is_temporary, watch
from store import unit_of_work
from store.platform.models import DocumentRow
from store.services import Services
from tests.integration.api.test_uploads import pdf_bytes, serving

WARD = "phuong-co-nhue-1"


def _sidecar(path: Path) -> dict:  # type: ignore[type-arg]  # the JSON as written
    return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))


def test_a_station_folder_is_digitized_file_by_file(svc: Services, tmp_path: Path) -> None:
    root = tmp_path / "tram-quet"
    (root / WARD / "H49.1").mkdir(parents=True)
    (root / "khong-co-don-vi").mkdir()
    for name in ("10.pdf", "2.pdf", "1.pdf"):
        (root / WARD / "H49.1" / name).write_bytes(pdf_bytes(name))
    (root / WARD / "H49.1" / "3.pdf.part").write_bytes(b"%PDF-1.4 still coming")
    (root / WARD / "~$nhap.pdf").write_bytes(b"%PDF-1.4 an editor's lock file")
    (root / WARD / "rong.pdf").write_bytes(b"")
    (root / "khong-co-don-vi" / "x.pdf").write_bytes(pdf_bytes("x"))
    with serving(svc, tmp_path, eager=False):
        station = Station(root, svc, settle=0.2)
        assert station.scan() == []  # seen once: not known to be complete yet
        assert watch(station, once=True, every=0.1) == 5
    done = root / "done" / WARD / "H49.1"
    records = {name: _sidecar(done / name) for name in ("1.pdf", "2.pdf", "10.pdf")}
    assert all(r["status"] == "queued" and r["record_id"] for r in records.values())
    with unit_of_work(svc.sessions) as session:
        placed = {
            doc.filename: (doc.dossier, doc.dossier_ordinal)
            for doc in session.scalars(select(DocumentRow).where(DocumentRow.dossier == "H49.1"))
        }
    assert placed == {"1.pdf": ("H49.1", 1), "2.pdf": ("H49.1", 2), "10.pdf": ("H49.1", 3)}
    empty = _sidecar(root / "failed" / WARD / "rong.pdf")
    assert empty["error_code"] == "empty_file"
    unknown = _sidecar(root / "failed" / "khong-co-don-vi" / "x.pdf")
    assert unknown["error_code"] == "unknown_unit"
    # temporary names stay where they are, untouched
    assert (root / WARD / "H49.1" / "3.pdf.part").exists()
    assert (root / WARD / "~$nhap.pdf").exists()


def test_a_growing_file_waits_and_a_restart_never_stores_twice(
    svc: Services, tmp_path: Path
) -> None:
    root = tmp_path / "tram"
    folder = root / WARD
    folder.mkdir(parents=True)
    growing = folder / "dai.pdf"
    growing.write_bytes(b"%PDF-1.4 first part")
    with serving(svc, tmp_path, eager=False):
        station = Station(root, svc, settle=0.3)
        station.scan()
        time.sleep(0.35)
        with growing.open("ab") as f:  # the scanner is still writing
            f.write(b" second part")
        assert station.scan() == []
        time.sleep(0.35)
        (ready,) = station.scan()
        first = station.take(ready)
        # a crash after storing and before moving: the file is back, a new station starts
        again = folder / "dai.pdf"
        again.write_bytes((root / "done" / WARD / "dai.pdf").read_bytes())
        restarted = Station(root, svc, settle=0.0)
        assert watch(restarted, once=True, every=0.05) == 1
    # the same name again in done/: kept beside the first, with a time in its name
    (kept,) = [p for p in (root / "done" / WARD).glob("dai.*.pdf")]
    second = _sidecar(kept)
    assert second["record_id"] == first["record_id"] and second["outcome"] == "duplicate"
    with unit_of_work(svc.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 1


def test_temporary_names() -> None:
    for name in ("a.pdf.part", ".hidden.pdf", "~$doc.pdf", "x.crdownload", "Thumbs.db", "y.TMP"):
        assert is_temporary(name), name
    for name in ("0001.pdf", "H49.1.2.pdf", "scan~1.pdf"):
        assert not is_temporary(name), name
