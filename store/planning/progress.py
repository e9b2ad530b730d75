"""Progress toward the plan, computed from the database every time it is asked for.

A record counts as digitized once it has content: `digitized` or `needs_review` (a record
waiting for a person's check is digital already; the quality figures show how many wait).
Days are Vietnamese calendar days (UTC+7, no daylight saving); working days are Monday to
Friday less Vietnam's public holidays (store/planning/workdays.py). Pace is what was digitized over
the last `window_days` calendar days divided by the working days among them; the projected
date is when the target is reached at that pace.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import Date, String, and_, cast, func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from schemas.plan import (
    DayCount,
    Indicator,
    IndicatorProgress,
    Inventory,
    Measure,
    MonthCount,
    Pace,
    Progress,
    Quality,
    TypeCount,
    UnitProgress,
)
from schemas.record import Status
from schemas.unit import UnitKind
from schemas.vocab import document_types
from store.accounts.units import list_units
from store.planning.plans import current_plan
from store.planning.workdays import add_working_days, working_days_between
from store.platform.models import DocumentRow, DossierRow, PageRow

VIETNAM = timezone(timedelta(hours=7))
DONE = (Status.digitized.value, Status.needs_review.value)
#: worst first: the order of the dashboard's table
SEVERITY = [Pace.late, Pace.at_risk, Pace.on_track, Pace.no_inventory, Pace.met]
#: beyond this many working days (about 20 years) a projection says nothing: there is none
MAX_PROJECTION = 20 * 261


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM).date()


def judge(
    done: int,
    inventory: int | None,
    target: float | None,
    deadline: date | None,
    pace: float,
    as_of: date,
) -> tuple[Pace, date | None]:
    """On track, at risk, late or met — and the projected date at the current pace."""
    if inventory is None or target is None:
        return Pace.no_inventory, None
    needed = math.ceil(target * inventory - 1e-9)
    if done >= needed:
        return Pace.met, None
    projected = None
    days_left = math.ceil((needed - done) / pace - 1e-9) if pace > 0 else None
    if days_left is not None and days_left <= MAX_PROJECTION:
        projected = add_working_days(as_of, days_left)
    if deadline is not None and as_of > deadline:
        return Pace.late, projected
    if projected is None or (deadline is not None and projected > deadline):
        return Pace.at_risk, projected
    return Pace.on_track, projected


@dataclass
class _Counts:
    documents: int = 0
    pages: int = 0
    dossiers: int = 0
    needs_review: int = 0
    failed: int = 0
    confidence_sum: float = 0.0
    confidence_n: int = 0
    window: dict[Measure, int] = field(default_factory=dict)

    def of(self, measure: Measure) -> int:
        return {
            Measure.documents: self.documents,
            Measure.pages: self.pages,
            Measure.dossiers: self.dossiers,
        }[measure]


def _local_day(session: Session) -> ColumnElement[date] | ColumnElement[str]:
    """The Vietnamese calendar day of documents.digitized_at, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Ho_Chi_Minh", DocumentRow.digitized_at), Date)
    # SQLite's date() is text: compared and grouped as a date column is, read back by _as_date
    return cast(func.date(DocumentRow.digitized_at, "+7 hours"), String)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _in_units(units: frozenset[str] | None) -> ColumnElement[bool]:
    """Documents of `units` (None: every document)."""
    if units is None:
        return true()
    return DocumentRow.unit_code.in_(sorted(units))


def _gather(
    session: Session, window_start: datetime, units: frozenset[str] | None
) -> dict[str | None, _Counts]:
    counts: dict[str | None, _Counts] = defaultdict(_Counts)
    done = and_(DocumentRow.status.in_(DONE), _in_units(units))
    for unit, docs, pages, dossiers in session.execute(
        select(
            DocumentRow.unit_code,
            func.count(),
            func.coalesce(func.sum(DocumentRow.page_count), 0),
            func.count(func.distinct(DocumentRow.dossier)),
        )
        .where(done)
        .group_by(DocumentRow.unit_code)
    ):
        c = counts[unit]
        # COALESCE(SUM(..), 0) is never NULL; SQLAlchemy's coalesce() typing keeps the None
        c.documents, c.pages, c.dossiers = int(docs), int(pages), int(dossiers)  # type: ignore[arg-type]
    for unit, docs, pages, dossiers in session.execute(
        select(
            DocumentRow.unit_code,
            func.count(),
            func.coalesce(func.sum(DocumentRow.page_count), 0),
            func.count(func.distinct(DocumentRow.dossier)),
        )
        .where(done, DocumentRow.digitized_at >= window_start)
        .group_by(DocumentRow.unit_code)
    ):
        counts[unit].window = {
            Measure.documents: int(docs),
            Measure.pages: int(pages),  # type: ignore[arg-type]  # COALESCE(SUM(..), 0): not NULL
            Measure.dossiers: int(dossiers),
        }
    for unit, status, n in session.execute(
        select(DocumentRow.unit_code, DocumentRow.status, func.count())
        .where(
            DocumentRow.status.in_([Status.needs_review.value, Status.failed.value]),
            _in_units(units),
        )
        .group_by(DocumentRow.unit_code, DocumentRow.status)
    ):
        if status == Status.failed.value:
            counts[unit].failed = int(n)
        else:
            counts[unit].needs_review = int(n)
    for unit, total, n in session.execute(
        select(DocumentRow.unit_code, func.sum(PageRow.confidence), func.count(PageRow.confidence))
        .join(PageRow, PageRow.document_id == DocumentRow.id)
        .where(done, PageRow.method == "ocr", PageRow.confidence.is_not(None))
        .group_by(DocumentRow.unit_code)
    ):
        counts[unit].confidence_sum, counts[unit].confidence_n = float(total or 0), int(n)
    return counts


def _dossier_counts(
    session: Session, units: frozenset[str] | None
) -> dict[str | None, tuple[int, int]]:
    """Per unit: (dossiers of its catalogue, those fully digitized). A dossier is fully
    digitized when it has documents and every one has content."""
    docs = (
        select(
            DocumentRow.dossier.label("code"),
            func.count().label("n"),
            func.count().filter(DocumentRow.status.in_(DONE)).label("done"),
        )
        .where(DocumentRow.dossier.is_not(None))
        .group_by(DocumentRow.dossier)
        .subquery()
    )
    complete = and_(docs.c.n > 0, docs.c.n == docs.c.done)
    query = (
        select(DossierRow.unit_code, func.count(), func.count().filter(complete))
        .select_from(DossierRow)
        .outerjoin(docs, docs.c.code == DossierRow.file_code)
        .group_by(DossierRow.unit_code)
    )
    if units is not None:
        query = query.where(DossierRow.unit_code.in_(sorted(units)))
    return {unit: (int(total), int(done)) for unit, total, done in session.execute(query)}


def _quality(c: _Counts) -> Quality:
    return Quality(
        documents=c.documents,
        needs_review=c.needs_review,
        failed=c.failed,
        review_share=round(c.needs_review / c.documents, 4) if c.documents else None,
        mean_ocr_confidence=(
            round(c.confidence_sum / c.confidence_n, 4) if c.confidence_n else None
        ),
    )


def _indicator_for(kind: UnitKind, indicators: Iterable[Indicator]) -> Indicator | None:
    return next((i for i in indicators if kind in i.unit_kinds), None)


def _ratio(done: int, inventory: int | None) -> float | None:
    return round(done / inventory, 4) if inventory else None


def compute_progress(
    session: Session,
    *,
    as_of: date | None = None,
    window_days: int = 28,
    units: frozenset[str] | None = None,
) -> Progress:
    """Progress per unit, per indicator, per type, per month and per day; with `units`, of
    those units only (a caller limited to them sees nothing of the others)."""
    as_of = as_of or today_in_vietnam()
    window_first = as_of - timedelta(days=window_days - 1)
    window_start = datetime.combine(window_first, time(), VIETNAM).astimezone(UTC)
    working_days = working_days_between(window_first - timedelta(days=1), as_of)
    plan = current_plan(session)
    indicators = plan.indicators if plan else []
    inventory: dict[str, Inventory] = {
        i.unit: i for i in (plan.inventory if plan else []) if units is None or i.unit in units
    }
    counts = _gather(session, window_start, units)
    dossier_counts = _dossier_counts(session, units)

    def pace(c: _Counts, measure: Measure) -> float:
        return round(c.window.get(measure, 0) / working_days, 3) if working_days else 0.0

    rows: list[UnitProgress] = []
    for unit in list_units(session):
        if units is not None and unit.code not in units:
            continue
        c = counts.get(unit.code, _Counts())
        indicator = _indicator_for(unit.kind, indicators)
        measure = indicator.measure if indicator else Measure.documents
        inv = inventory.get(unit.code)
        denominator = inv.of(measure) if inv else None
        per_day = pace(c, measure)
        if denominator == 0:
            status, projected = Pace.met, None
        else:
            status, projected = judge(
                c.of(measure),
                denominator,
                indicator.target if indicator else None,
                indicator.deadline if indicator else None,
                per_day,
                as_of,
            )
        rows.append(
            UnitProgress(
                unit=unit.code,
                name=unit.name,
                kind=unit.kind,
                indicator=indicator.code if indicator else None,
                measure=measure,
                target=indicator.target if indicator else None,
                deadline=indicator.deadline if indicator else None,
                inventory=denominator,
                digitized=c.of(measure),
                share=_ratio(c.of(measure), denominator),
                digitized_documents=c.documents,
                digitized_pages=c.pages,
                digitized_dossiers=c.dossiers,
                dossiers_total=dossier_counts.get(unit.code, (0, 0))[0],
                dossiers_complete=dossier_counts.get(unit.code, (0, 0))[1],
                pages_per_working_day=pace(c, Measure.pages),
                per_working_day=per_day,
                projected_on=projected,
                status=status,
                quality=_quality(c),
            )
        )
    rows.sort(key=lambda u: (SEVERITY.index(u.status), u.share or 0.0, u.unit))

    indicator_rows = [_indicator_progress(i, rows, as_of) for i in indicators]
    total = _Counts()
    for key, c in counts.items():
        if key is None:
            continue
        total.documents += c.documents
        total.pages += c.pages
        total.dossiers += c.dossiers
        total.needs_review += c.needs_review
        total.failed += c.failed
        total.confidence_sum += c.confidence_sum
        total.confidence_n += c.confidence_n
        for m, v in c.window.items():
            total.window[m] = total.window.get(m, 0) + v
    documents_inventory = [u for u in inventory.values() if u.documents is not None]
    total_inventory = sum(u.documents or 0 for u in documents_inventory) or None
    worst = min((r.status for r in indicator_rows), key=SEVERITY.index, default=Pace.no_inventory)
    totals = UnitProgress(
        unit="*",
        name=plan.issuer if plan else "Toàn bộ",
        kind=UnitKind.district,
        indicator=None,
        measure=Measure.documents,
        target=None,
        deadline=max((i.deadline for i in indicators), default=None),
        inventory=total_inventory,
        digitized=sum(u.digitized_documents for u in rows),
        share=_ratio(sum(u.digitized_documents for u in rows), total_inventory),
        digitized_documents=sum(u.digitized_documents for u in rows),
        digitized_pages=sum(u.digitized_pages for u in rows),
        digitized_dossiers=sum(u.digitized_dossiers for u in rows),
        dossiers_total=sum(u.dossiers_total for u in rows),
        dossiers_complete=sum(u.dossiers_complete for u in rows),
        pages_per_working_day=round(sum(u.pages_per_working_day for u in rows), 3),
        per_working_day=pace(total, Measure.documents),
        projected_on=max((r.projected_on for r in indicator_rows if r.projected_on), default=None),
        status=worst,
        quality=_quality(total),
    )
    by_day = _by_day(session, units)
    return Progress(
        as_of=as_of,
        window_days=window_days,
        plan=plan,
        indicators=indicator_rows,
        units=rows,
        by_type=_by_type(session, units),
        by_month=_by_month(by_day),
        by_day=by_day,
        totals=totals,
        quality=_quality(_sum_all(counts)),
    )


def _sum_all(counts: dict[str | None, _Counts]) -> _Counts:
    total = _Counts()
    for c in counts.values():
        total.documents += c.documents
        total.needs_review += c.needs_review
        total.failed += c.failed
        total.confidence_sum += c.confidence_sum
        total.confidence_n += c.confidence_n
    return total


def _indicator_progress(
    indicator: Indicator, units: list[UnitProgress], as_of: date
) -> IndicatorProgress:
    mine = [u for u in units if u.kind in indicator.unit_kinds]
    counted = [u for u in mine if u.inventory is not None]
    inventory = sum(u.inventory or 0 for u in counted)
    done = sum(u.digitized for u in counted)
    pace = sum(u.per_working_day for u in counted)
    if not counted:
        status, projected = Pace.no_inventory, None
    elif inventory == 0:
        status, projected = Pace.met, None
    else:
        status, projected = judge(
            done, inventory, indicator.target, indicator.deadline, pace, as_of
        )
    return IndicatorProgress(
        code=indicator.code,
        name=indicator.name,
        measure=indicator.measure,
        unit_kinds=indicator.unit_kinds,
        target=indicator.target,
        deadline=indicator.deadline,
        units=len(mine),
        units_with_inventory=len(counted),
        inventory=inventory,
        digitized=done,
        share=_ratio(done, inventory),
        units_met=sum(u.status == Pace.met for u in mine),
        units_at_risk=sum(u.status == Pace.at_risk for u in mine),
        units_late=sum(u.status == Pace.late for u in mine),
        projected_on=projected,
        status=status,
    )


def _by_type(session: Session, units: frozenset[str] | None) -> list[TypeCount]:
    labels = {code: t.name for code, t in document_types().items()}
    rows = session.execute(
        select(
            DocumentRow.doc_type,
            func.count(),
            func.coalesce(func.sum(DocumentRow.page_count), 0),
        )
        .where(DocumentRow.status.in_(DONE), _in_units(units))
        .group_by(DocumentRow.doc_type)
    ).all()
    result = [
        TypeCount(
            type=code or "khac",
            label=labels.get(code or "khac", code or "Khác"),
            documents=int(n),
            pages=int(p),  # type: ignore[arg-type]  # COALESCE(SUM(..), 0): never NULL
        )
        for code, n, p in rows
    ]
    merged: dict[str, TypeCount] = {}
    for row in result:  # no type read yet and "khac" are one line
        if row.type in merged:
            merged[row.type].documents += row.documents
            merged[row.type].pages += row.pages
        else:
            merged[row.type] = row
    return sorted(merged.values(), key=lambda t: (-t.documents, t.type))


def _by_day(session: Session, units: frozenset[str] | None) -> list[DayCount]:
    day = _local_day(session).label("day")
    rows = session.execute(
        select(day, func.count(), func.coalesce(func.sum(DocumentRow.page_count), 0))
        .where(
            DocumentRow.status.in_(DONE), DocumentRow.digitized_at.is_not(None), _in_units(units)
        )
        .group_by(day)
        .order_by(day)
    ).all()
    # COALESCE(SUM(..), 0) is never NULL; SQLAlchemy's coalesce() typing keeps the None
    return [DayCount(day=_as_date(d), documents=int(n), pages=int(p)) for d, n, p in rows]  # type: ignore[arg-type]


def _by_month(days: list[DayCount]) -> list[MonthCount]:
    months: dict[str, MonthCount] = {}
    for d in days:
        key = f"{d.day.year:04d}-{d.day.month:02d}"
        month = months.setdefault(key, MonthCount(month=key, documents=0, pages=0))
        month.documents += d.documents
        month.pages += d.pages
    return list(months.values())
