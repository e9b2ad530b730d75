"""Where a document sits in the catalogue: moving it to another dossier, changing its số thứ
tự, taking it out of any dossier — audited (who, when, from → to) in the same transaction.

Ordinals are unique within a dossier: they make the document's arcDocCode and the name of its
file in a package (`<mã hồ sơ>.<n>.pdf`), identifiers the archive may already hold. A wanted
ordinal that another document of the dossier has is refused (`OrdinalTaken`), never made room
for by renumbering the others behind the caller's back; to swap two documents, move one to a
free ordinal first. Without a wanted ordinal, a document moved into a dossier goes after its
last one, and one that stays in its dossier keeps its ordinal.

The caller (the API) has checked that it may see the document; `units` says which dossiers it
may use: a dossier it may not see is answered like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.audit.trail import audit
from store.platform.db import lock_row
from store.platform.models import DocumentRow, DossierRow, utcnow

#: the audit action of a move (its detail: from and to, dossier and ordinal)
PLACE = "document.place"
#: arcDocCode writes the ordinal in 7 digits
MAX_ORDINAL = 9_999_999


class PlacementError(Exception):
    """A placement that cannot be made; nothing was changed."""


class NoSuchDossierHere(PlacementError):
    """No dossier under that code, or not one of the caller's units (the same answer)."""

    def __init__(self, file_code: str) -> None:
        super().__init__(f"no such dossier: {file_code}")
        self.file_code = file_code


class OrdinalTaken(PlacementError):
    """Another document of the dossier has that ordinal."""

    def __init__(self, file_code: str, ordinal: int, holder: str) -> None:
        super().__init__(f"ordinal {ordinal} of dossier {file_code} is taken by record {holder}")
        self.file_code, self.ordinal, self.holder = file_code, ordinal, holder


class BadPlacement(PlacementError):
    """The placement makes no sense: an ordinal out of range, an ordinal without a dossier, a
    document of one unit in another unit's dossier."""


@dataclass(frozen=True)
class Placement:
    record_id: str
    dossier: str | None
    ordinal: int | None
    previous_dossier: str | None
    previous_ordinal: int | None

    @property
    def changed(self) -> bool:
        return (self.dossier, self.ordinal) != (self.previous_dossier, self.previous_ordinal)

    @property
    def arc_doc_code(self) -> str | None:
        """The document's arcDocCode where it now sits (fileCode + 7-digit ordinal)."""
        if self.dossier is None or self.ordinal is None:
            return None
        return f"{self.dossier}.{self.ordinal:07d}"


def _target(session: Session, file_code: str, units: frozenset[str] | None) -> DossierRow:
    """The dossier, locked until the transaction ends: two moves into the same dossier take
    their turns, so both cannot take the same free ordinal."""
    lock_row(session, DossierRow.file_code, file_code, DossierRow.updated_at)
    row = session.scalar(select(DossierRow).where(DossierRow.file_code == file_code))
    if row is None or (units is not None and row.unit_code not in units):
        raise NoSuchDossierHere(file_code)
    return row


def place_document(
    session: Session,
    doc: DocumentRow,
    dossier: str | None,
    ordinal: int | None,
    *,
    actor: str,
    units: frozenset[str] | None,
) -> Placement:
    """Put `doc` at `ordinal` of `dossier` (None: out of any dossier), audited. Raises a
    PlacementError and changes nothing when it cannot."""
    before = (doc.dossier, doc.dossier_ordinal)
    if ordinal is not None and not 1 <= ordinal <= MAX_ORDINAL:
        raise BadPlacement(f"the ordinal must be from 1 to {MAX_ORDINAL}, not {ordinal}")
    if dossier is None:
        if ordinal is not None:
            raise BadPlacement("an ordinal needs a dossier")
        wanted: int | None = None
    else:
        row = _target(session, dossier, units)
        if row.unit_code is not None and doc.unit_code not in (None, row.unit_code):
            raise BadPlacement(
                f"the record belongs to unit {doc.unit_code}, the dossier to {row.unit_code}"
            )
        if ordinal is None:
            wanted = doc.dossier_ordinal if doc.dossier == dossier else None
        else:
            wanted = ordinal
        if wanted is None:
            last = session.scalar(
                select(func.max(DocumentRow.dossier_ordinal)).where(
                    DocumentRow.dossier == dossier, DocumentRow.id != doc.id
                )
            )
            wanted = (last or 0) + 1
            if wanted > MAX_ORDINAL:
                raise BadPlacement(f"dossier {dossier} has no ordinal left after {last}")
        holder = session.scalar(
            select(DocumentRow.id).where(
                DocumentRow.dossier == dossier,
                DocumentRow.dossier_ordinal == wanted,
                DocumentRow.id != doc.id,
            )
        )
        if holder is not None:
            raise OrdinalTaken(dossier, wanted, holder)
    result = Placement(doc.id, dossier, wanted, *before)
    if not result.changed:
        return result
    doc.dossier, doc.dossier_ordinal = dossier, wanted
    doc.version += 1
    doc.updated_at = utcnow()
    audit(
        session, actor, PLACE, document_id=doc.id, batch_id=doc.batch_id,
        detail={"from": {"dossier": before[0], "ordinal": before[1]},
                "to": {"dossier": dossier, "ordinal": wanted}},
    )  # fmt: skip
    return result
