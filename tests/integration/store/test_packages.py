"""Circular 05/2025 packages of a dossier: SIP, AIP and DIP valid by eark-validator (CSIP
2.0.4) and mets.xsd, every TT 05 field in the EAD files, PREMIS with SHA-256 and events,
streamed with nothing left behind; bad dossiers and bad PDFs stop with a code."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from ocr.pdfa_check import pdfa_problems
from ocr.searchable import build_searchable_pdf
from ocr.signing_keys import load_signer
from schemas.deliverable_errors import DeliverableErrorCode as Code
from schemas.dossier import (
    Agent,
    AgentKind,
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierPackageInput,
    EventKind,
    PackageKind,
)
from schemas.settings import Settings
from store.dossiers import (
    PackageError,
    arc_doc_code,
    check_documents,
    package_file_name,
    package_stream,
    write_package,
)
from store.dossiers.ead import DOCUMENT_ELEMENTS, DOSSIER_ELEMENTS, tt05_schema
from tests.data.samples import get_spec, write_scanned_pdf
from tests.pki import PASSWORD, make_pki

ROOT = Path(__file__).resolve().parents[3]
VALIDATOR = ROOT / ".venv" / "validators" / "eark" / "bin" / "python"
VN = timezone(timedelta(hours=7))
SPECS = ["kh-251-ubnd", "cv-12-ubnd-vx", "qd-86-ubnd-cn1"]
BODY = Agent(name="Ủy ban nhân dân phường Cổ Nhuế 1", kind=AgentKind.organization,
             identifier="H49.64.33")  # fmt: skip
STAFF = Agent(name="Nguyễn Thị Lan", kind=AgentKind.person, identifier="lan.nt")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Three digitized documents (two-layer PDF/A-2b), the first signed by the body."""
    folder = tmp_path_factory.mktemp("dossier")
    files = {}
    for ordinal, key in enumerate(SPECS, start=1):
        scan = write_scanned_pdf(folder / f"scan{ordinal}.pdf", get_spec(key), dpi=120)
        files[ordinal] = folder / f"{ordinal}.pdf"
        build_searchable_pdf(scan.path, "application/pdf", lambda n: None, len(scan.pages),
                             files[ordinal])  # fmt: skip
    pki = make_pki(folder / "pki")
    with load_signer(Settings(sign_pkcs12=pki.pkcs12, sign_password=PASSWORD)) as signer:
        signer.sign(files[1], folder / "1s.pdf")
    files[1] = folder / "1s.pdf"
    return files


def _dossier(pdfs: dict[int, Path]) -> DossierPackageInput:
    pages = {n: len(pikepdf.open(p).pages) for n, p in pdfs.items()}
    documents = [
        DossierDocument(ordinal=1, type_code="10", code_number="251", code_notation="KH-UBND",
                        issued_date=date(2023, 5, 29), organ_name="UBND quận Bắc Từ Liêm",
                        subject="Ứng dụng công nghệ thông tin năm 2023", number_of_page=pages[1],
                        autograph="Giao Phòng Văn hóa và Thông tin chủ trì"),
        DossierDocument(ordinal=2, type_code="22", code_number="12", code_notation="UBND-VX",
                        issued_date=date(2024, 1, 8), number_of_page=pages[2],
                        subject="Về việc triển khai số hóa"),
        DossierDocument(ordinal=3, type_code="02", code_number="86", code_notation="QĐ-UBND",
                        issued_date=date(2024, 2, 5), number_of_page=pages[3],
                        maintenance="04", mode="02"),
    ]  # fmt: skip
    at = datetime(2025, 7, 1, 8, 0, tzinfo=VN)
    events = [
        DossierEvent(kind=EventKind.digitization, at=at, agent=STAFF, ordinal=1),
        DossierEvent(kind=EventKind.ocr, at=at + timedelta(minutes=1),
                     agent=Agent(name="sohoa", kind=AgentKind.software, identifier="0.1.0"),
                     ordinal=1),
        DossierEvent(kind=EventKind.correction, at=at + timedelta(hours=1), agent=STAFF,
                     ordinal=2, detail="subject: 'Về việc số hóa' → 'Về việc triển khai số hóa'"),
        DossierEvent(kind=EventKind.signing, at=at + timedelta(hours=2), agent=BODY, ordinal=1),
    ]  # fmt: skip
    dossier = Dossier(
        file_code="H49.64.33.2023.01", title="Hồ sơ về số hóa tài liệu lưu trữ năm 2023-2024",
        maintenance="01", mode="01", paper_file_code="H49.K1-G2-H12.01", number_of_paper=4,
        format="02", risk_recovery=True, risk_recovery_status="01", keyword="số hóa",
    )  # fmt: skip
    return DossierPackageInput(dossier=dossier, documents=documents, events=events, archive=BODY)


def _opener(pdfs: dict[int, Path]):  # type: ignore[no-untyped-def]
    return lambda document: open(pdfs[document.ordinal], "rb")


def _validate(package: Path, tmp_path: Path) -> dict:
    assert VALIDATOR.exists(), "the E-ARK validator is missing: run `make venv-test`"
    unpack = tmp_path / "unpacked"
    unpack.mkdir()
    run = subprocess.run(
        [str(VALIDATOR), str(ROOT / "tests" / "eark_check.py"), str(package),
         str(ROOT / "tests" / "data" / "eark"), str(unpack)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def _errors(result: dict, kind: PackageKind) -> list[str]:
    report = result["report"]
    messages = report["structure"]["messages"] + [
        m for part in report["metadata"].values() for m in part["messages"]
    ]
    # SIP14 asks every note of a CREATOR agent for a NOTETYPE of IDENTIFICATIONCODE, while
    # CSIP16 asks the software CREATOR's one note for SOFTWARE VERSION: no SIP meets both
    # (eark-validator 1.1.3 applies SIP14 to the software agent the E-ARK SIP does not).
    expected = {"SIP14"} if kind == PackageKind.sip else set()
    errors = [m for m in messages if m["severity"] == "Error" and m["rule_id"] not in expected]
    return [f"{m['rule_id']}: {m['message']}" for m in errors]


@pytest.mark.parametrize("kind", list(PackageKind))
def test_packages_pass_eark_validator_and_mets_xsd(
    pdfs: dict[int, Path], tmp_path: Path, kind: PackageKind
) -> None:
    package = _dossier(pdfs)
    out = tmp_path / package_file_name(package, kind)
    write_package(out, package, kind, _opener(pdfs))
    result = _validate(out, tmp_path)
    assert result["report"]["structure"]["status"] == "WellFormed"
    assert _errors(result, kind) == []
    assert len(result["mets_xsd"]) == 2 and all(e == [] for e in result["mets_xsd"].values())


def test_aip_layout_names_checksums_and_metadata(pdfs: dict[int, Path], tmp_path: Path) -> None:
    package = _dossier(pdfs)
    out = tmp_path / "aip.zip"
    write_package(out, package, PackageKind.aip, _opener(pdfs))
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        root = names[0].split("/")[0]
        assert root.startswith("uuid-") and root == root.upper().replace("UUID-", "uuid-")
        inside = {name.removeprefix(root + "/") for name in names}
        assert inside == {
            "METS.xml", "metadata/descriptive/EAD.xml", "metadata/preservation/PREMIS.xml",
            "representations/rep1/METS.xml", "schemas/TT05_2025.xsd", "documentation/README.txt",
            *(f"representations/rep1/metadata/descriptive/EAD_doc_{n}.xml" for n in (1, 2, 3)),
            *(f"representations/rep1/data/H49.64.33.2023.01.{n}.pdf" for n in (1, 2, 3)),
        }  # fmt: skip
        read = lambda name: archive.read(f"{root}/{name}")  # noqa: E731
        for n, source in pdfs.items():
            assert (
                read(f"representations/rep1/data/H49.64.33.2023.01.{n}.pdf") == source.read_bytes()
            )
        schema = etree.XMLSchema(etree.fromstring(read("schemas/TT05_2025.xsd")))
        ead = etree.fromstring(read("metadata/descriptive/EAD.xml"))
        assert schema.validate(ead), schema.error_log
        assert [e.tag for e in ead] == [name for name, *_ in DOSSIER_ELEMENTS]
        assert ead.findtext("totalDoc") == "3" and ead.findtext("startDate") == "29/05/2023"
        assert ead.findtext("endDate") == "05/02/2024"
        assert ead.find("maintenance").get("label") == "Vĩnh viễn"
        for n in (1, 2, 3):
            doc = etree.fromstring(
                read(f"representations/rep1/metadata/descriptive/EAD_doc_{n}.xml")
            )
            assert schema.validate(doc), schema.error_log
            tags = [e.tag for e in doc]
            assert tags == [{"docCode": "arcDocCode"}.get(t, t) for t, *_ in DOCUMENT_ELEMENTS]
            assert doc.findtext("arcDocCode") == f"H49.64.33.2023.01.{n:07d}"
            assert doc.findtext("docId") == f"H49.64.33.2023.01.{n}"
        doc3 = etree.fromstring(read("representations/rep1/metadata/descriptive/EAD_doc_3.xml"))
        assert doc3.findtext("maintenance") == "04" and doc3.find("mode").get("label")
        doc1 = etree.fromstring(read("representations/rep1/metadata/descriptive/EAD_doc_1.xml"))
        assert doc1.findtext("maintenance") == "01"  # the dossier's
        assert doc1.find("typeName").get("label") == "Kế hoạch"
        assert doc1.findtext("autograph") == "Giao Phòng Văn hóa và Thông tin chủ trì"

        mets = etree.fromstring(read("representations/rep1/METS.xml"))
        ns = {"m": "http://www.loc.gov/METS/", "x": "http://www.w3.org/1999/xlink"}
        for file in mets.iterfind(".//m:file", ns):
            href = file.find("m:FLocat", ns).get("{http://www.w3.org/1999/xlink}href")
            data = read(f"representations/rep1/{href}")
            assert file.get("CHECKSUM") == hashlib.sha256(data).hexdigest().upper()
            assert file.get("SIZE") == str(len(data)) and file.get("ID").startswith("ID-")

        premis = etree.fromstring(read("metadata/preservation/PREMIS.xml"))
        p = {"p": "http://www.loc.gov/premis/v3"}
        digests = premis.xpath("//p:object//p:messageDigest/text()", namespaces=p)
        assert digests == [
            hashlib.sha256(s.read_bytes()).hexdigest().upper() for s in pdfs.values()
        ]
        assert premis.xpath("//p:object//p:formatName/text()", namespaces=p) == ["PDF/A-2b"] * 3
        events = premis.xpath("//p:event/p:eventType/text()", namespaces=p)
        assert events == ["digitization", "optical character recognition",
                          "metadata modification", "digital signature generation",
                          "information package creation"]  # fmt: skip
        correction = premis.xpath("//p:event[p:eventType='metadata modification']", namespaces=p)[0]
        assert "→" in correction.findtext("p:eventDetailInformation/p:eventDetail", namespaces=p)
        agents = premis.xpath("//p:agent/p:agentName/text()", namespaces=p)
        assert {"Nguyễn Thị Lan", "sohoa", BODY.name} <= set(agents)


def test_dip_is_one_pdf_with_a_bookmark_per_document(pdfs: dict[int, Path], tmp_path: Path) -> None:
    package = _dossier(pdfs)
    out = tmp_path / "dip.zip"
    write_package(out, package, PackageKind.dip, _opener(pdfs))
    with zipfile.ZipFile(out) as archive:
        (name,) = [n for n in archive.namelist() if "/data/" in n]
        assert name.endswith("representations/rep1/data/H49.64.33.2023.01.pdf")
        (tmp_path / "dossier.pdf").write_bytes(archive.read(name))
    with pikepdf.open(tmp_path / "dossier.pdf") as pdf:
        assert len(pdf.pages) == sum(d.number_of_page for d in package.documents)
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert (
            titles[0]
            == "1. Kế hoạch 251/KH-UBND ngày 29/05/2023: Ứng dụng công nghệ thông tin năm 2023"
        )
        assert len(titles) == 3 and titles[2].startswith("3. Quyết định 86/QĐ-UBND")
        assert "/AcroForm" not in pdf.Root  # the stamp is in the page, no broken signature
    assert pdfa_problems(tmp_path / "dossier.pdf") == []


def test_an_empty_dossier_is_refused(pdfs: dict[int, Path], tmp_path: Path) -> None:
    package = _dossier(pdfs).model_copy(update={"documents": [], "events": []})
    for kind in PackageKind:
        with pytest.raises(PackageError) as caught:
            write_package(tmp_path / "x.zip", package, kind, _opener(pdfs))
        assert caught.value.code == Code.empty_dossier
    with pytest.raises(PackageError):
        check_documents(package, _opener(pdfs))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", [PackageKind.aip, PackageKind.dip])
def test_a_consumer_that_stops_reading_leaves_nothing(
    pdfs: dict[int, Path], kind: PackageKind
) -> None:
    opened = []

    def open_pdf(document: DossierDocument):  # type: ignore[no-untyped-def]
        opened.append(open(pdfs[document.ordinal], "rb"))  # noqa: SIM115
        return opened[-1]

    before = set(Path(tempfile.gettempdir()).glob("sohoa-*"))
    stream = package_stream(_dossier(pdfs), kind, open_pdf, chunk_size=4096)
    received = [next(stream) for _ in range(3)]
    assert sum(map(len, received)) > 0
    stream.close()  # what a web server does when the client goes away
    assert opened and all(f.closed for f in opened)
    assert set(Path(tempfile.gettempdir()).glob("sohoa-*")) == before


def test_an_export_failing_midway_leaves_no_file(pdfs: dict[int, Path], tmp_path: Path) -> None:
    def open_pdf(document: DossierDocument):  # type: ignore[no-untyped-def]
        if document.ordinal == 3:
            raise PermissionError(f"{pdfs[3]}: the storage refused")
        return open(pdfs[document.ordinal], "rb")

    with pytest.raises(PackageError) as caught:
        write_package(tmp_path / "aip.zip", _dossier(pdfs), PackageKind.aip, open_pdf)
    assert (caught.value.code, caught.value.ordinal) == (Code.document_unreadable, 3)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("broken", "code"),
    [("not pdfa", Code.document_not_pdfa), ("truncated", Code.document_damaged),
     ("not a pdf", Code.document_damaged)],
)  # fmt: skip
def test_a_bad_pdf_is_named(pdfs: dict[int, Path], tmp_path: Path, broken: str, code: Code) -> None:
    bad = tmp_path / "bad.pdf"
    if broken == "not pdfa":
        write_scanned_pdf(bad, get_spec("tb-45-pnv"), dpi=100, max_pages=1)
    elif broken == "truncated":
        bad.write_bytes(pdfs[2].read_bytes()[: pdfs[2].stat().st_size // 2])
    else:
        bad.write_bytes(b"PK\x03\x04 not a pdf at all" * 100)
    files = {**pdfs, 2: bad}
    with pytest.raises(PackageError) as caught:
        write_package(tmp_path / "sip.zip", _dossier(pdfs), PackageKind.sip, _opener(files))
    assert (caught.value.code, caught.value.ordinal) == (code, 2)
    assert "document 2" in caught.value.message
    with pytest.raises(PackageError) as checked:
        check_documents(_dossier(pdfs), _opener(files))
    assert checked.value.ordinal == 2
    assert checked.value.code in (code, Code.document_not_pdfa, Code.document_damaged)
    assert not (tmp_path / "sip.zip").exists()


def test_check_documents_passes_a_good_dossier(pdfs: dict[int, Path]) -> None:
    check_documents(_dossier(pdfs), _opener(pdfs))


def test_names_and_codes() -> None:
    dossier = Dossier(file_code="H49.64.33.2001.160", title="t", maintenance="01", mode="01",
                      paper_file_code="H49.1.2")  # fmt: skip
    document = DossierDocument(ordinal=12, type_code="10", number_of_page=1)
    assert arc_doc_code(dossier, document) == "H49.64.33.2001.160.0000012"
    with pytest.raises(ValueError):
        Dossier(file_code="../etc", title="t", maintenance="01", mode="01", paper_file_code="x")
    with pytest.raises(ValueError):  # a digitized dossier needs its paper original's code
        Dossier(file_code="H49.1", title="t", maintenance="01", mode="01")
    assert "Vĩnh viễn".encode() in tt05_schema()
