"""The dossier for a reader: one PDF of all its documents in order, a bookmark per document.

qpdf (through pikepdf's Job) joins the files, reading each lazily, so memory does not grow
with the dossier (pikepdf's own page copy would load every page's images at once). The
documents' signature fields are flattened into their pages: the stamps stay visible, while
signatures that no longer cover their bytes are not left to show as broken; the signed
originals are in the AIP. The result keeps PDF/A-2b's shape (ocr.pdfa).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

import pikepdf

from ocr.pdfa import make_pdfa
from schemas.deliverable_errors import DeliverableErrorCode
from schemas.dossier import Dossier, DossierDocument
from schemas.tt05 import type_names
from store.dossiers.errors import PackageError

OpenPdf = Callable[[DossierDocument], AbstractContextManager[BinaryIO]]


def bookmark(document: DossierDocument) -> str:
    """`3. Kế hoạch 251/KH-UBND ngày 29/05/2023: <trích yếu>`, what a reader looks for."""
    parts = [f"{document.ordinal}.", type_names().get(document.type_code, "")]
    number = "/".join(p for p in (document.code_number, document.code_notation) if p)
    if number:
        parts.append(number)
    if document.issued_date:
        parts.append(f"ngày {document.issued_date:%d/%m/%Y}")
    title = " ".join(p for p in parts if p)
    return f"{title}: {document.subject}" if document.subject else title


def merge_dossier(
    dossier: Dossier, documents: list[DossierDocument], open_pdf: OpenPdf, folder: Path
) -> Path:
    """Write the dossier's one PDF in `folder` (a temporary folder the caller removes)."""
    parts, counts = [], []
    for document in documents:
        part = folder / f"{document.ordinal:07d}.pdf"
        with open_pdf(document) as source, open(part, "wb") as copy:
            shutil.copyfileobj(source, copy, 1 << 20)
        try:
            with pikepdf.open(part) as pdf:
                counts.append(len(pdf.pages))
        except pikepdf.PdfError as exc:
            raise PackageError(
                DeliverableErrorCode.document_damaged,
                f"document {document.ordinal}: {exc}",
                document.ordinal,
            ) from exc
        parts.append(part)
    joined = folder / "joined.pdf"
    job = pikepdf.Job(["qpdf", str(parts[0]), "--pages", *map(str, parts), "--", str(joined)])
    job.run()
    if job.exit_code not in (0, 3):  # 3: warnings (qpdf repaired something), still written
        raise RuntimeError(f"qpdf could not join the documents (exit code {job.exit_code})")
    out = folder / "dossier.pdf"
    with pikepdf.open(joined) as pdf:
        pdf.flatten_annotations("all")
        if "/AcroForm" in pdf.Root:
            del pdf.Root["/AcroForm"]
        with pdf.open_outline() as outline:
            outline.root.clear()
            first = 0
            for document, count in zip(documents, counts, strict=True):
                outline.root.append(pikepdf.OutlineItem(bookmark(document), first))
                first += count
        pdf.Root.PageMode = pikepdf.Name.UseOutlines
        pdf.docinfo["/Title"] = f"{dossier.file_code} — {dossier.title}"
        make_pdfa(pdf)
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out
