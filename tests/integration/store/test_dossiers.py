"""The catalogue of dossiers: `sohoa dossiers load` and the API's upload of a mục lục, a
re-import that updates, a ward limited to its own dossiers, totals from the documents."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import app
from store import unit_of_work
from store.platform.models import DocumentRow, DossierRow
from store.services import Services, set_services
from tests.conftest import bearer
from tests.integration.cli.test_cli import REPO
from tests.unit.store.test_dossier_catalog import HEADER_VI, _xlsx

WARD = "phuong-co-nhue-1"
OTHER = "phuong-xuan-dinh"


def _row(code: str, title: str, paper: int = 3) -> list[object]:
    return [1, title, code, "Vĩnh viễn", "Công khai", None, None, paper, "Tốt", f"P.{code}", None]


def _catalog(*rows: list[object]) -> bytes:
    return _xlsx([HEADER_VI, *rows])


@pytest.fixture
def api(svc: Services) -> Iterator[TestClient]:
    set_services(svc)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        set_services(None)


def _post(client: TestClient, data: bytes, headers: dict[str, str], **form: str):  # type: ignore[no-untyped-def]  # httpx's Response
    files = {"file": ("muc-luc.xlsx", data, "application/octet-stream")}
    return client.post("/api/v1/dossiers/catalog", files=files, data=form, headers=headers)


def test_a_ward_loads_its_catalogue_and_a_reimport_updates(api: TestClient, svc: Services) -> None:
    ward = bearer(svc, "records:read", "records:write", units=[WARD])
    first = _catalog(_row("H49.1", "Hồ sơ cấp phép"), _row("H49.2", "Hồ sơ cử tri"),
                     _row("H49.3", ""))  # fmt: skip
    loaded = _post(api, first, ward)
    assert loaded.status_code == 200, loaded.text
    body = loaded.json()
    assert body["created"] == ["H49.1", "H49.2"] and body["updated"] == []
    assert [(p["line"], p["file_code"]) for p in body["problems"]] == [(4, "H49.3")]
    # the same file again with one title corrected: updated in place, nothing doubled
    again = _post(
        api, _catalog(_row("H49.1", "Hồ sơ cấp phép xây dựng"), _row("H49.2", "Hồ sơ cử tri")), ward
    )
    assert again.json()["updated"] == ["H49.1"] and again.json()["unchanged"] == ["H49.2"]
    with unit_of_work(svc.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DossierRow)) == 2
    # its documents give the totals and the dates
    with unit_of_work(svc.sessions) as session:
        for day, pages, status in (
            (date(2023, 5, 2), 3, "digitized"),
            (date(2023, 1, 9), 2, "needs_review"),
            (None, None, "queued"),
        ):
            session.add(DocumentRow(
                id=uuid.uuid4().hex[:26], unit_code=WARD, dossier="H49.1", filename="a.pdf",
                sha256=uuid.uuid4().hex * 2, size=1, status=status, page_count=pages,
                issued_on=day,
            ))  # fmt: skip
    one = api.get("/api/v1/dossiers/H49.1", headers=ward).json()
    assert one["title"] == "Hồ sơ cấp phép xây dựng" and one["unit"] == WARD
    assert (one["documents"], one["digitized"], one["pages"]) == (3, 2, 5)
    assert (one["start_date"], one["end_date"]) == ("2023-01-09", "2023-05-02")
    assert one["fields"]["maintenance"] == "01"
    listed = api.get("/api/v1/dossiers", headers=ward).json()
    assert [d["file_code"] for d in listed["items"]] == ["H49.1", "H49.2"]
    # its records, listed by the records API
    records = api.get("/api/v1/records?dossier=H49.1", headers=ward).json()["items"]
    assert len(records) == 3 and {r["dossier"] for r in records} == {"H49.1"}
    assert api.get("/api/v1/records?dossier=H49.2", headers=ward).json()["items"] == []
    # another ward sees none of them and may not load into this one
    other = bearer(svc, "records:read", "records:write", units=[OTHER])
    assert api.get("/api/v1/dossiers", headers=other).json()["items"] == []
    assert api.get("/api/v1/dossiers/H49.1", headers=other).status_code == 404
    assert _post(api, first, other, unit=WARD).status_code == 403
    # a code of this ward's catalogue is not taken over by another unit's import
    taken = _post(api, _catalog(_row("H49.2", "Hồ sơ khác")), other).json()
    assert taken["problems"][0]["reason"] == f"the dossier belongs to unit {WARD}"


def test_a_file_that_is_no_catalogue_is_refused(api: TestClient, svc: Services) -> None:
    headers = bearer(svc)
    assert _post(api, b"%PDF-1.7 not a catalogue", headers, unit=WARD).status_code == 422
    assert _post(api, _catalog(), headers, unit="no-such-unit").status_code == 422


def test_the_command_line_loads_and_reports_bad_rows(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    path = tmp_path / "muc-luc.xlsx"
    path.write_bytes(_catalog(_row("H49.1", "Hồ sơ một"), _row("H49.2", "")))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "dossiers", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    env["PYTHONPATH"] = str(REPO)
    loaded = run("load", str(path), "--unit", WARD)
    assert loaded.returncode == 3, loaded.stderr
    assert "muc-luc.xlsx:3 (H49.2)" in loaded.stderr and "1 new" in loaded.stdout
    path.write_bytes(_catalog(_row("H49.1", "Hồ sơ một")))
    assert run("load", str(path), "--unit", WARD).returncode == 0
    listed = run("list", "--unit", WARD)
    assert listed.returncode == 0 and listed.stdout.startswith("H49.1\t0\t0\t0\tHồ sơ một")
    path.write_text("no,catalogue\n1,2\n")
    assert run("load", str(path)).returncode == 2


@pytest.mark.slow
def test_digitize_puts_files_in_their_dossiers_in_order(tmp_path: Path) -> None:
    """A folder per dossier named by its code, files in the order people count them; a TT 05
    name `<code>.<n>.pdf` keeps its number; the call's --dossier takes the rest."""
    from tests.data.classify_eval import all_specs
    from tests.data.writers import write_digital_pdf

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["PYTHONPATH"] = str(REPO)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    catalog = tmp_path / "muc-luc.xlsx"
    catalog.write_bytes(_catalog(_row("H49.1", "Hồ sơ một"), _row("H49.2", "Hồ sơ hai")))
    assert run("dossiers", "load", str(catalog), "--unit", WARD).returncode == 0
    specs = iter(all_specs(generated=10))
    scans = tmp_path / "scans"
    for name in ("H49.1/10.pdf", "H49.1/2.pdf", "H49.1/1.pdf", "H49.2.5.pdf", "loose.pdf"):
        (scans / name).parent.mkdir(parents=True, exist_ok=True)
        write_digital_pdf(scans / name, next(specs), max_pages=1)
    done = run("digitize", str(scans), "--unit", WARD)
    assert done.returncode in (0, 3), done.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "var" / "sohoa.db") as db:
        rows = dict(
            (name, (dossier, ordinal))
            for name, dossier, ordinal in db.execute(
                "SELECT filename, dossier, dossier_ordinal FROM documents"
            )
        )
    assert rows == {
        "1.pdf": ("H49.1", 1), "2.pdf": ("H49.1", 2), "10.pdf": ("H49.1", 3),
        "H49.2.5.pdf": ("H49.2", 5), "loose.pdf": (None, None),
    }  # fmt: skip
    listed = run("dossiers", "list")
    assert listed.stdout.splitlines()[0].startswith("H49.1\t3\t3\t3\t")
    # the package, once a person has reviewed what needed it
    with sqlite3.connect(tmp_path / "var" / "sohoa.db") as db:
        db.execute("UPDATE documents SET status = 'needs_review' WHERE filename = '2.pdf'")
    waiting = run("dossiers", "export", "H49.1", "--out", "h49-1.zip")
    assert waiting.returncode == 3 and "2.pdf (needs_review)" in waiting.stderr
    with sqlite3.connect(tmp_path / "var" / "sohoa.db") as db:
        db.execute("UPDATE documents SET status = 'digitized'")
    exported = run("dossiers", "export", "H49.1", "--out", "h49-1.zip", "--kind", "sip")
    assert exported.returncode == 0, exported.stderr
    import zipfile

    names = zipfile.ZipFile(tmp_path / "h49-1.zip").namelist()
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".pdf")) == [
        "H49.1.1.pdf", "H49.1.2.pdf", "H49.1.3.pdf",
    ]  # fmt: skip
    assert run("dossiers", "export", "H49.404", "--out", "x.zip").returncode == 2


@pytest.mark.slow
def test_a_dossier_is_exported_as_its_package_once_every_document_is_ready(
    svc: Services, tmp_path: Path
) -> None:
    import io
    import zipfile

    from sqlalchemy import update

    from tests.data.classify_eval import all_specs
    from tests.data.writers import write_digital_pdf
    from tests.integration.api.test_uploads import serving

    headers = bearer(svc)
    files = []
    for i, spec in enumerate(all_specs(generated=10)[:3], start=1):
        path = write_digital_pdf(tmp_path / f"{i}.pdf", spec, max_pages=1).path
        files.append(("files", (f"{i}.pdf", path.read_bytes(), "application/pdf")))
    with serving(svc, tmp_path, eager=True), TestClient(app, headers=headers) as client:
        assert _post(client, _catalog(_row("H49.7", "Hồ sơ xuất")), headers, unit=WARD).json()[
            "created"
        ] == ["H49.7"]
        # nothing in it yet: nothing to package
        assert client.get("/api/v1/dossiers/H49.7/package").status_code == 409
        batch = client.post(
            "/api/v1/batches", files=files, data={"unit": WARD, "dossier": "H49.7"}
        ).json()
        assert batch["done"], batch
        with unit_of_work(svc.sessions) as session:
            session.execute(update(DocumentRow).values(status="needs_review"))
        waiting = client.get("/api/v1/dossiers/H49.7/package")
        assert waiting.status_code == 409 and "dossier_not_ready" in waiting.text
        with unit_of_work(svc.sessions) as session:  # a person reviewed them
            session.execute(update(DocumentRow).values(status="digitized"))
        response = client.get("/api/v1/dossiers/H49.7/package?kind=aip")
        assert response.status_code == 200, response.text
        assert 'filename="AIP_hoso_H49.7.zip"' in response.headers["content-disposition"]
        other = bearer(svc, "records:read", units=[OTHER])
        assert client.get("/api/v1/dossiers/H49.7/package", headers=other).status_code == 404
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    pdfs = sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".pdf"))
    assert pdfs == ["H49.7.1.pdf", "H49.7.2.pdf", "H49.7.3.pdf"]
    assert any(n.endswith("metadata/preservation/PREMIS.xml") for n in names)
    assert any(n.endswith("/METS.xml") for n in names)


@pytest.mark.slow
def test_every_digitized_copy_carries_the_digitizing_bodys_signature(
    svc: Services, tmp_path: Path
) -> None:
    """With a key configured, the searchable PDF a worker publishes is signed in the body's
    name (still PDF/A, the signature intact); a key that cannot be used publishes the copy
    unsigned and sends the record to review with not_signed, nothing lost."""
    from pydantic import SecretStr

    from ocr.pdfa_check import pdfa_problems
    from ocr.pdfsignatures import read_signatures
    from tests.data.classify_eval import all_specs
    from tests.data.writers import write_digital_pdf
    from tests.integration.api.test_uploads import serving
    from tests.pki import PASSWORD, make_pki

    pki = make_pki(tmp_path / "pki")
    svc.settings.sign_pkcs12 = pki.pkcs12
    svc.settings.sign_password = SecretStr(PASSWORD)
    specs = all_specs(generated=10)
    pdfs = [
        write_digital_pdf(tmp_path / f"{i}.pdf", s, max_pages=1).path
        for i, s in enumerate(specs[:2])
    ]
    with serving(svc, tmp_path, eager=True), TestClient(app, headers=bearer(svc)) as client:

        def upload(path: Path) -> dict:  # type: ignore[type-arg]  # the record's JSON
            sent = [("files", (path.name, path.read_bytes(), "application/pdf"))]
            batch = client.post("/api/v1/batches", files=sent, data={"unit": WARD}).json()
            record_id = batch["entries"][0]["record_id"]
            return client.get(f"/api/v1/records/{record_id}").json()

        signed = upload(pdfs[0])
        assert signed["archive"]["signed_by"] and signed["archive"]["signed_at"]
        copy = tmp_path / "signed.pdf"
        copy.write_bytes(client.get(f"/api/v1/records/{signed['id']}/pdf").content)
        (found,) = read_signatures(copy)
        assert found.intact and found.coverage == "whole_file"
        assert found.organization == signed["archive"]["signed_by"] or found.signer
        assert pdfa_problems(copy) == []
        svc.settings.sign_password = SecretStr("sai mật khẩu")
        unsigned = upload(pdfs[1])
    assert unsigned["status"] == "needs_review"
    assert "not_signed" in {r["code"] for r in unsigned["review"]}
    assert unsigned["archive"]["signed_by"] is None if unsigned["archive"] else True
