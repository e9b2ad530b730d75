"""A dossier of the database as the input of its package: the catalogue's fields, its
documents by số thứ tự with the fields read off them (as corrected), and what happened to
them (uploaded, read, classified, corrected).

Only a dossier whose every document is digitized and out of review is packaged: a package is
what the archive keeps, and a document still waiting for a person's check is not that yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.deliverable_errors import DeliverableErrorCode as Code
from schemas.dossier import (
    Agent,
    AgentKind,
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierPackageInput,
    EventKind,
)
from schemas.record import Status
from schemas.tt05 import AccessMode, ConfidenceLevel, Language
from store.audit.trail import CORRECT
from store.dossiers.dip import OpenPdf
from store.dossiers.errors import PackageError
from store.platform.models import AuditRow, DocumentRow, DossierRow, UnitRow
from store.platform.objects import record_key

#: the TT 05 type code of a document of no listed type (Khác)
OTHER_TYPE = "32"
SOFTWARE = Agent(name="sohoa", kind=AgentKind.software, identifier="sohoa 0.1.0")


class NoSuchDossier(LookupError):
    """No dossier under that code, or not one the caller may see."""


def package_input(
    session: Session, file_code: str, *, units: frozenset[str] | None, archive: Agent
) -> tuple[DossierPackageInput, dict[int, str]]:
    """The package input of the dossier and, per số thứ tự, the record id of its document.

    NoSuchDossier when it is not there for the caller; PackageError `empty_dossier` or
    `dossier_not_ready` when it cannot be packaged yet."""
    row = session.scalar(select(DossierRow).where(DossierRow.file_code == file_code))
    if row is None or (units is not None and row.unit_code not in units):
        raise NoSuchDossier(file_code)
    dossier = Dossier.model_validate(row.data)
    docs = session.scalars(
        select(DocumentRow)
        .where(DocumentRow.dossier == file_code)
        .order_by(DocumentRow.dossier_ordinal, DocumentRow.created_at)
    ).all()
    if not docs:
        raise PackageError(Code.empty_dossier, f"{file_code}: no documents")
    waiting = [d for d in docs if d.status != Status.digitized.value]
    if waiting:
        shown = ", ".join(f"{d.filename} ({d.status})" for d in waiting[:5])
        more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
        raise PackageError(Code.dossier_not_ready, f"{file_code}: {shown}{more}")
    ordinals = _ordinals(docs)
    documents = [_document(d, ordinals[d.id]) for d in docs]
    events = _events(session, docs, ordinals, archive)
    package = DossierPackageInput(
        dossier=dossier, documents=documents, events=events, archive=archive
    )
    return package, {ordinals[d.id]: d.id for d in docs}


def pdf_opener(open_object: Callable[[str], Any], ids: dict[int, str]) -> OpenPdf:
    """How the package reads each document's PDF: the record's searchable PDF/A in storage."""

    @contextlib.contextmanager
    def opened(document: DossierDocument) -> Iterator[BinaryIO]:
        with open_object(record_key(ids[document.ordinal], "searchable.pdf")) as stream:
            yield stream

    return opened


def _ordinals(docs: Sequence[DocumentRow]) -> dict[str, int]:
    """Each document's số thứ tự: its own, the ones without one after the last."""
    out: dict[str, int] = {}
    last = max((d.dossier_ordinal or 0 for d in docs), default=0)
    for doc in docs:
        if doc.dossier_ordinal is None or doc.dossier_ordinal in out.values():
            last += 1
            out[doc.id] = last
        else:
            out[doc.id] = doc.dossier_ordinal
    return out


def _fit(value: object, length: int) -> str | None:
    """A field as the package takes it: text within its TT 05 length, else left out."""
    text = str(value).strip() if value is not None else ""
    return text[:length] if text else None


def _document(doc: DocumentRow, ordinal: int) -> DossierDocument:
    info: dict[str, Any] = doc.document or {}
    archive: dict[str, Any] = doc.archive or {}
    signed = any(
        s.get("intact") and s.get("coverage") == "whole_file" for s in doc.signatures or []
    )
    number = _fit(info.get("code_number"), 100)
    mode = archive.get("mode") or AccessMode.public.value
    return DossierDocument(
        ordinal=ordinal,
        type_code=info.get("archive_type_code") or OTHER_TYPE,
        code_number=number if number and len(number) <= 11 else None,  # never cut short
        code_notation=_fit(info.get("code_notation"), 30),
        issued_date=doc.issued_on,
        organ_name=_fit(info.get("issuer"), 200),
        subject=_fit(info.get("subject"), 500),
        languages=[Language(archive.get("language") or Language.vietnamese.value)],
        number_of_page=max(1, min(doc.page_count or 1, 9999)),
        mode=AccessMode(mode),
        # born-electronic: the file carries an intact signature over the whole of it
        confidence_level=ConfidenceLevel.born_electronic if signed else ConfidenceLevel.digitized,
        process=False if signed else None,
    )


def _aware(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _events(
    session: Session, docs: Sequence[DocumentRow], ordinals: dict[str, int], archive: Agent
) -> list[DossierEvent]:
    events: list[DossierEvent] = []
    for doc in docs:
        n = ordinals[doc.id]
        events.append(
            DossierEvent(
                kind=EventKind.digitization,
                at=_aware(doc.created_at),
                agent=archive,
                ordinal=n,
                detail=doc.filename[:2000],
            )
        )
        done = _aware(doc.digitized_at or doc.updated_at)
        events.append(DossierEvent(kind=EventKind.ocr, at=done, agent=SOFTWARE, ordinal=n))
        events.append(
            DossierEvent(kind=EventKind.classification, at=done, agent=SOFTWARE, ordinal=n)
        )  # fmt: skip
        signed_at = (doc.archive or {}).get("signed_at")
        if signed_at:  # the digitizing body's signature on the copy
            by = Agent(name=(doc.archive or {}).get("signed_by") or archive.name,
                       kind=AgentKind.organization)  # fmt: skip
            events.append(
                DossierEvent(kind=EventKind.signing, at=_aware(datetime.fromisoformat(signed_at)),
                             agent=by, ordinal=n)
            )  # fmt: skip
    by_id = {d.id: ordinals[d.id] for d in docs}
    corrections = session.scalars(
        select(AuditRow)
        .where(AuditRow.action == CORRECT, AuditRow.document_id.in_(list(by_id)))
        .order_by(AuditRow.id)
    )
    for line in corrections:
        changes = (line.detail or {}).get("changes") or {}
        detail = "; ".join(f"{k}: {_change(v)}" for k, v in sorted(changes.items()))
        who = line.actor.split(":", 1)[-1]
        events.append(
            DossierEvent(
                kind=EventKind.correction, at=_aware(line.at), ordinal=by_id[str(line.document_id)],
                agent=Agent(name=who, kind=AgentKind.person, identifier=line.actor[:200]),
                detail=detail[:2000] or None,
            )
        )  # fmt: skip
    return events


def _change(value: object) -> str:
    if isinstance(value, dict) and {"old", "new"} <= set(value):
        return f"{value['old']!r} → {value['new']!r}"
    return repr(value)


def digitizing_body(session: Session, file_code: str, name: str | None) -> Agent:
    """Who hands the dossier over: the configured signing body's name, else the dossier's
    unit, else the archive in general."""
    if name:
        return Agent(name=name, kind=AgentKind.organization)

    unit = session.scalar(
        select(UnitRow.name)
        .join(DossierRow, DossierRow.unit_code == UnitRow.code)
        .where(DossierRow.file_code == file_code)
    )
    return Agent(name=unit or "Lưu trữ", kind=AgentKind.organization)
