"""What a dossier holds, document by document in the order of their số thứ tự, as the dossier
page shows it: ordinal, arcDocCode, TT 05 type, number, date, subject, status, pages.

A document marked MẬT or above is listed to a caller who may read secrets only: the others
learn how many such documents there are, nothing of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.record import Status
from schemas.vocab import document_types
from store.platform.models import DocumentRow

#: the states in which a document still needs someone: a person's check, or a file to redo
NEEDS_ATTENTION = (Status.needs_review.value, Status.failed.value)


@dataclass(frozen=True)
class DossierEntry:
    record_id: str
    ordinal: int | None
    arc_doc_code: str | None
    type_code: str | None  # TT 05/2025 typeName (01–32)
    type_name: str | None
    number: str | None
    issued_on: date | None
    subject: str | None
    status: str
    pages: int | None
    filename: str


@dataclass
class DossierContents:
    entries: list[DossierEntry] = field(default_factory=list)
    #: documents not listed to this caller (secret)
    hidden: int = 0

    @property
    def waiting(self) -> list[DossierEntry]:
        """What still needs someone: review, or a failed file."""
        return [e for e in self.entries if e.status in NEEDS_ATTENTION]

    @property
    def ordinals(self) -> Sequence[int]:
        return [e.ordinal for e in self.entries if e.ordinal is not None]


def _entry(doc: DocumentRow, file_code: str) -> DossierEntry:
    info: dict[str, Any] = doc.document or {}
    kind = document_types().get(info.get("type") or doc.doc_type or "")
    ordinal = doc.dossier_ordinal
    return DossierEntry(
        record_id=doc.id,
        ordinal=ordinal,
        arc_doc_code=f"{file_code}.{ordinal:07d}" if ordinal is not None else None,
        type_code=info.get("archive_type_code") or (kind.archive_code if kind else None),
        type_name=kind.name if kind else None,
        number=info.get("number"),
        issued_on=doc.issued_on,
        subject=info.get("subject"),
        status=doc.status,
        pages=doc.page_count,
        filename=doc.filename,
    )


def dossier_contents(session: Session, file_code: str, *, secrets: bool) -> DossierContents:
    """The documents of `file_code` by ordinal (those without one last, by arrival); with
    `secrets` False, the secret ones are counted, not listed."""
    docs = session.scalars(
        select(DocumentRow)
        .where(DocumentRow.dossier == file_code)
        .order_by(
            DocumentRow.dossier_ordinal.is_(None),
            DocumentRow.dossier_ordinal,
            DocumentRow.created_at,
        )
    ).all()
    contents = DossierContents()
    for doc in docs:
        secrecy = doc.secrecy or (doc.document or {}).get("secrecy")
        if secrecy and not secrets:
            contents.hidden += 1
        else:
            contents.entries.append(_entry(doc, file_code))
    return contents
