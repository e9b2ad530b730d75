"""The catalogue of dossiers in the database: loaded from a mục lục, listed, and each with
what its documents say (how many, pages, first and last dates).

A re-import of the same catalogue updates the dossiers it names instead of adding them again;
a dossier's unit never changes silently (a code that belongs to another unit is refused).
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.dossier import Dossier
from schemas.record import Status
from store.audit.trail import audit
from store.dossiers.catalog import Catalog, RowProblem
from store.platform.models import DocumentRow, DossierRow, utcnow

#: documents that count in a dossier's totals: what was digitized (in review or not)
_COUNTED = (Status.digitized.value, Status.needs_review.value)


class DossierSummary(BaseModel):
    """A dossier of the catalogue and what its documents say so far."""

    file_code: str
    unit: str | None
    title: str
    fields: Dossier = Field(description="The TT 05/2025 fields as the catalogue gives them")
    documents: int = Field(description="Records in the dossier, whatever their state")
    digitized: int = Field(description="Of them, digitized (in review or not)")
    pages: int = Field(description="Pages of the digitized documents")
    needs_review: int = Field(default=0, description="Of them, waiting for a person's check")
    start_date: date | None = Field(description="The first document's date, else the catalogue's")
    end_date: date | None = Field(description="The last document's date, else the catalogue's")


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def load_catalog(session: Session, catalog: Catalog, *, unit: str | None, actor: str) -> LoadResult:
    """Store every good row of `catalog` (created or updated by its code) under `unit`; rows
    that cannot be stored join the catalogue's own problems. Audited once."""
    result = LoadResult(problems=list(catalog.problems))
    codes = [d.file_code for _, d in catalog.dossiers]
    existing = {
        row.file_code: row
        for row in session.scalars(select(DossierRow).where(DossierRow.file_code.in_(codes)))
    }
    now = utcnow()
    for line, dossier in catalog.dossiers:
        data = dossier.model_dump(mode="json")
        row = existing.get(dossier.file_code)
        if row is None:
            session.add(
                DossierRow(
                    file_code=dossier.file_code, unit_code=unit, title=dossier.title, data=data,
                    created_at=now, updated_at=now, updated_by=actor,
                )
            )  # fmt: skip
            result.created.append(dossier.file_code)
        elif unit is not None and row.unit_code not in (None, unit):
            result.problems.append(
                RowProblem(line, dossier.file_code, f"the dossier belongs to unit {row.unit_code}")
            )
        elif row.data == data and (unit is None or row.unit_code == unit):
            result.unchanged.append(dossier.file_code)
        else:
            row.data, row.title, row.updated_at, row.updated_by = data, dossier.title, now, actor
            row.unit_code = unit or row.unit_code
            result.updated.append(dossier.file_code)
    result.problems.sort(key=lambda p: p.line)
    counts: dict[str, Sized]
    counts = {"created": result.created, "updated": result.updated,
              "unchanged": result.unchanged, "problems": result.problems}  # fmt: skip
    detail = {"unit": unit, **{name: len(items) for name, items in counts.items()}}
    audit(session, actor, "dossiers.load", detail=detail)
    return result


_Totals = tuple[int, int, int, date | None, date | None, int]
_NONE: _Totals = (0, 0, 0, None, None, 0)


def _totals(session: Session, codes: Sequence[str]) -> dict[str, _Totals]:
    """Per code: (documents, digitized, pages, first date, last date, needing review)."""
    counted = DocumentRow.status.in_(_COUNTED)
    review = DocumentRow.status == Status.needs_review.value
    rows = session.execute(
        select(
            DocumentRow.dossier,
            func.count(),
            func.count().filter(counted),
            func.coalesce(func.sum(DocumentRow.page_count).filter(counted), 0),
            func.min(DocumentRow.issued_on).filter(counted),
            func.max(DocumentRow.issued_on).filter(counted),
            func.count().filter(review),
        )
        .where(DocumentRow.dossier.in_(codes))
        .group_by(DocumentRow.dossier)
    ).all()
    totals: dict[str, _Totals] = {}
    for code, n, d, p, lo, hi, r in rows:
        assert code is not None  # one of codes
        # COALESCE(SUM(..), 0) is never NULL; SQLAlchemy's coalesce() typing keeps the None
        totals[code] = (int(n), int(d), int(p), lo, hi, int(r))  # type: ignore[arg-type]
    return totals


def _summary(row: DossierRow, totals: _Totals) -> DossierSummary:
    fields = Dossier.model_validate(row.data)
    documents, digitized, pages, first, last, review = totals
    return DossierSummary(
        file_code=row.file_code,
        unit=row.unit_code,
        title=row.title,
        fields=fields,
        documents=documents,
        digitized=digitized,
        pages=pages,
        needs_review=review,
        start_date=first or fields.start_date,
        end_date=last or fields.end_date,
    )


def list_dossiers(
    session: Session,
    *,
    units: frozenset[str] | None,
    unit: str | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[DossierSummary]:
    """Dossiers of the caller's `units` (None: all), by code, `limit` after the code `after`."""
    query = select(DossierRow).order_by(DossierRow.file_code).limit(limit)
    if units is not None:
        query = query.where(DossierRow.unit_code.in_(sorted(units)))
    if unit is not None:
        query = query.where(DossierRow.unit_code == unit)
    if after is not None:
        query = query.where(DossierRow.file_code > after)
    rows = session.scalars(query).all()
    totals = _totals(session, [r.file_code for r in rows])
    return [_summary(r, totals.get(r.file_code, _NONE)) for r in rows]


def get_dossier(
    session: Session, file_code: str, *, units: frozenset[str] | None
) -> DossierSummary | None:
    """The dossier under `file_code`, None when there is none or the caller may not see it."""
    row = session.scalar(select(DossierRow).where(DossierRow.file_code == file_code))
    if row is None or (units is not None and row.unit_code not in units):
        return None
    totals = _totals(session, [file_code]).get(file_code, _NONE)
    return _summary(row, totals)


def place_in_dossier(session: Session, file_code: str, wanted: int | None) -> int:
    """The ordinal a new document of `file_code` gets: `wanted` (from its TT 05 file name)
    when no document of the dossier has it yet, else the next after the last."""
    if wanted is not None:
        taken = session.scalar(
            select(func.count())
            .select_from(DocumentRow)
            .where(DocumentRow.dossier == file_code, DocumentRow.dossier_ordinal == wanted)
        )
        if not taken:
            return wanted
    last = session.scalar(
        select(func.max(DocumentRow.dossier_ordinal)).where(DocumentRow.dossier == file_code)
    )
    return (last or 0) + 1


def dossier_codes(session: Session) -> set[str]:
    """Every dossier code of the catalogue (to tell a TT 05 file name from any other)."""
    return set(session.scalars(select(DossierRow.file_code)))
