"""A dossier's SIP, AIP or DIP (Circular 05/2025/TT-BNV), written as a stream of zip bytes.

    for chunk in package_stream(package, PackageKind.aip, open_pdf):
        response.write(chunk)

`open_pdf(document)` opens a document's PDF (a context manager over a binary stream: a local
file, an object-store download); it is read once, in chunks, straight into the zip while its
SHA-256 is computed and its PDF/A claim checked, so memory stays flat whatever the dossier
weighs. The metadata that needs the checksums (the METS files, PREMIS) comes last in the zip.
A DIP joins the documents into one PDF first, in a temporary folder removed at the end.

Layout (inside one folder named by the package's ID, as CSIP wants):

    METS.xml
    metadata/descriptive/EAD.xml                 the dossier (18 TT 05 elements)
    metadata/preservation/PREMIS.xml             AIP only
    representations/rep1/METS.xml
    representations/rep1/metadata/descriptive/EAD_doc_<n>.xml
    representations/rep1/data/<fileCode>.<n>.pdf (a DIP: <fileCode>.pdf, the whole dossier)
    schemas/TT05_2025.xsd
    documentation/README.txt                     what the package holds, in Vietnamese

A document whose bytes are not a whole PDF/A file stops the stream with a PackageError naming
it; `check_documents` finds such documents before anything is sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pikepdf

from ocr.pdfa_check import pdfa_problems
from ocr.pdfa_scan import PdfaScan
from schemas.deliverable_errors import DeliverableErrorCode as Code
from schemas.dossier import DossierDocument, DossierPackageInput, PackageKind
from store.dossiers.dip import OpenPdf, merge_dossier
from store.dossiers.ead import (
    SCHEMA_FILE,
    document_xml,
    dossier_totals,
    dossier_xml,
    tt05_schema,
)
from store.dossiers.errors import PackageError
from store.dossiers.mets import MetsHeader, PackedFile, package_mets, representation_mets
from store.dossiers.naming import (
    derived_id,
    document_file_name,
    dossier_file_name,
    package_id,
)
from store.dossiers.premis import preservation_xml
from store.dossiers.readme import readme_text
from store.dossiers.zipstream import ZipStream

CHUNK = 1 << 20
REP = "representations/rep1"


def package_file_name(package: DossierPackageInput, kind: PackageKind) -> str:
    """e.g. `AIP_hoso_H49.64.33.2001.160.zip`, the package kinds of the circular."""
    prefix = "DIP" if kind == PackageKind.dip else f"{kind.value.upper()}_hoso"
    return f"{prefix}_{package.dossier.file_code}.zip"


def package_stream(
    package: DossierPackageInput,
    kind: PackageKind,
    open_pdf: OpenPdf,
    *,
    created: datetime | None = None,
    chunk_size: int = CHUNK,
) -> Iterator[bytes]:
    """The zip of the package, chunk by chunk. Stop reading at any time: nothing is left."""
    documents = sorted(package.documents, key=lambda d: d.ordinal)
    if not documents:
        raise PackageError(Code.empty_dossier, f"{package.dossier.file_code}: no documents")
    created = (created or datetime.now().astimezone()).replace(microsecond=0)
    pid = package_id()
    header = MetsHeader(pid, package.dossier.title, kind, created, package.archive)
    archive = ZipStream(pid, created)
    with contextlib.ExitStack() as cleanup:
        data: list[tuple[PackedFile, str, int | None]] = []
        if kind == PackageKind.dip:
            folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="sohoa-dip-")))
            merged = merge_dossier(package.dossier, documents, open_pdf, folder)
            path = f"{REP}/data/{dossier_file_name(package.dossier)}"
            with open(merged, "rb") as source:
                yield from _pdf(archive, path, source, pid, created, chunk_size, data, None)
        else:
            for document in documents:
                path = f"{REP}/data/{document_file_name(package.dossier, document)}"
                with _opened(open_pdf, document) as source:
                    yield from _pdf(archive, path, source, pid, created, chunk_size, data,
                                    document.ordinal)  # fmt: skip
        described = []
        for document in documents:
            xml = document_xml(package.dossier, document, kind)
            path = f"{REP}/metadata/descriptive/EAD_doc_{document.ordinal}.xml"
            yield from archive.add_bytes(path, xml)
            described.append(_packed(path, xml, "text/xml", pid, created))
        rep_files = [_relative(f, REP) for f in described], [_relative(f, REP) for f, *_ in data]
        rep_mets = representation_mets(header, *rep_files)
        yield from archive.add_bytes(f"{REP}/METS.xml", rep_mets)
        totals = dossier_totals(package.dossier, documents)
        ead = dossier_xml(package.dossier, totals)
        yield from archive.add_bytes("metadata/descriptive/EAD.xml", ead)
        premis = None
        if kind == PackageKind.aip:
            xml = preservation_xml(pid, data, package.events, package.archive, created)
            yield from archive.add_bytes("metadata/preservation/PREMIS.xml", xml)
            premis = _packed("metadata/preservation/PREMIS.xml", xml, "text/xml", pid, created)
        schema = tt05_schema()
        yield from archive.add_bytes(f"schemas/{SCHEMA_FILE}", schema)
        readme = readme_text(package, kind, totals, created).encode("utf-8")
        yield from archive.add_bytes("documentation/README.txt", readme)
        root = package_mets(
            header,
            _packed("metadata/descriptive/EAD.xml", ead, "text/xml", pid, created),
            premis,
            [_packed("documentation/README.txt", readme, "text/plain", pid, created)],
            [_packed(f"schemas/{SCHEMA_FILE}", schema, "application/xml", pid, created)],
            _packed(f"{REP}/METS.xml", rep_mets, "text/xml", pid, created),
        )
        yield from archive.add_bytes("METS.xml", root)
        yield from archive.close()


def _pdf(
    archive: ZipStream,
    path: str,
    source: object,
    pid: str,
    created: datetime,
    chunk_size: int,
    data: list,
    ordinal: int | None,
) -> Iterator[bytes]:
    digest, scan = hashlib.sha256(), PdfaScan()

    def seen(chunk: bytes) -> None:
        digest.update(chunk)
        scan.feed(chunk)

    try:
        # a reader with read() is all add_stream uses of a file
        yield from archive.add_stream(path, source, chunk_size, seen)  # type: ignore[arg-type]
    except OSError as exc:
        raise PackageError(Code.document_unreadable, f"{_who(ordinal)}: {exc}", ordinal) from exc
    if problems := scan.problems():
        code = Code.document_not_pdfa if scan.part is None and not problems[0].startswith(
            ("empty", "not a PDF", "cut short")) else Code.document_damaged  # fmt: skip
        raise PackageError(code, f"{_who(ordinal)}: {problems[0]}", ordinal)
    file_id = derived_id(pid, path, prefix="ID-")
    packed = PackedFile(path, scan.size, digest.hexdigest().upper(), "application/pdf",
                        created, file_id)  # fmt: skip
    data.append((packed, scan.format_name, ordinal))


@contextlib.contextmanager
def _opened(open_pdf: OpenPdf, document: DossierDocument) -> Iterator[object]:
    try:
        manager = open_pdf(document)
        source = manager.__enter__()
    except OSError as exc:
        raise PackageError(
            Code.document_unreadable, f"{_who(document.ordinal)}: {exc}", document.ordinal
        ) from exc
    try:
        yield source
    except BaseException as exc:
        if not manager.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        manager.__exit__(None, None, None)


def _who(ordinal: int | None) -> str:
    return f"document {ordinal}" if ordinal is not None else "the dossier's PDF"


def _packed(path: str, data: bytes, mimetype: str, pid: str, created: datetime) -> PackedFile:
    digest = hashlib.sha256(data).hexdigest().upper()
    return PackedFile(
        path, len(data), digest, mimetype, created, derived_id(pid, path, prefix="ID-")
    )


def _relative(file: PackedFile, folder: str) -> PackedFile:
    return PackedFile(file.path.removeprefix(folder + "/"), file.size, file.sha256,
                      file.mimetype, file.created, file.id)  # fmt: skip


def write_package(
    out: Path, package: DossierPackageInput, kind: PackageKind, open_pdf: OpenPdf, **options: object
) -> int:
    """Write the package to `out` (through a temporary name: an export that fails or is
    interrupted leaves no file); return its size in bytes."""
    out = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as target:
            # options are package_stream's own keywords, passed through
            for chunk in package_stream(package, kind, open_pdf, **options):  # type: ignore[arg-type]
                target.write(chunk)
                size += len(chunk)
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return size


def check_documents(package: DossierPackageInput, open_pdf: OpenPdf) -> None:
    """Before a package is sent: every document opens, is a whole PDF/A file (the project's
    structural check, ocr.pdfa_check) and has the pages its metadata says. Raises the
    PackageError of the first that does not; reads each file once more."""
    if not package.documents:
        raise PackageError(Code.empty_dossier, f"{package.dossier.file_code}: no documents")
    with tempfile.TemporaryDirectory(prefix="sohoa-check-") as folder:
        for document in sorted(package.documents, key=lambda d: d.ordinal):
            who, ordinal = _who(document.ordinal), document.ordinal
            copy = Path(folder) / "document.pdf"
            with _opened(open_pdf, document) as source, open(copy, "wb") as out:
                # an opened document is a binary reader, whatever its declared type
                while chunk := source.read(CHUNK):  # type: ignore[attr-defined]
                    out.write(chunk)
            try:
                problems = pdfa_problems(copy)
                with pikepdf.open(copy) as pdf:
                    pages = len(pdf.pages)
            except pikepdf.PdfError as exc:
                raise PackageError(Code.document_damaged, f"{who}: {exc}", ordinal) from exc
            if problems:
                raise PackageError(Code.document_not_pdfa, f"{who}: {'; '.join(problems)}", ordinal)
            if pages != document.number_of_page:
                raise PackageError(
                    Code.document_pages_differ,
                    f"{who}: the PDF has {pages} pages, the metadata {document.number_of_page}",
                    ordinal,
                )
