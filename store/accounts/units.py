"""Units (fonds) in the database: the shipped defaults, or an operator's own CSV."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.unit import Unit, UnitKind
from schemas.vocab import default_units
from store.platform.models import UnitRow


def load_units(session: Session, units: list[Unit] | tuple[Unit, ...]) -> int:
    """Insert or update units (parents first); returns how many were written."""
    by_code = {u.code: u for u in units}
    for unit in units:
        if unit.parent and unit.parent not in by_code and session.get(UnitRow, unit.parent) is None:
            raise ValueError(f"unit {unit.code!r}: unknown parent {unit.parent!r}")
    ordered = sorted(units, key=lambda u: _depth(u, by_code))
    for unit in ordered:
        row = session.get(UnitRow, unit.code) or UnitRow(code=unit.code)
        row.name = unit.name
        row.kind = unit.kind.value
        row.parent_code = unit.parent
        row.valid_from = unit.valid_from
        row.valid_to = unit.valid_to
        session.add(row)
        session.flush()
    return len(units)


def _depth(unit: Unit, by_code: dict[str, Unit]) -> int:
    depth, seen = 0, {unit.code}
    while unit.parent and unit.parent in by_code:
        unit = by_code[unit.parent]
        if unit.code in seen:
            raise ValueError(f"units form a cycle at {unit.code!r}")
        seen.add(unit.code)
        depth += 1
    return depth


def ensure_default_units(session: Session) -> None:
    """Load the shipped units into an empty units table; an operator's units are left alone."""
    if session.scalar(select(UnitRow.code).limit(1)) is None:
        load_units(session, default_units())


def unit_exists(session: Session, code: str) -> bool:
    return session.get(UnitRow, code) is not None


def list_units(session: Session) -> list[Unit]:
    rows = session.scalars(select(UnitRow).order_by(UnitRow.code)).all()
    return [
        Unit(
            code=r.code,
            name=r.name,
            kind=UnitKind(r.kind),
            parent=r.parent_code,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
        )
        for r in rows
    ]
