"""The plan in force and the units' inventories (the denominators of progress)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.plan import Inventory, Plan
from store.accounts.units import unit_exists
from store.audit.trail import audit
from store.platform.models import InventoryRow, PlanRow, utcnow

#: a plan file is a few kilobytes; anything much larger is not one
MAX_PLAN_BYTES = 1024 * 1024


class PlanError(ValueError):
    """The plan file cannot be used; the message says where and why."""


def parse_plan(text: str) -> Plan:
    """A validated plan from the YAML text of a plan file."""
    if len(text.encode("utf-8")) > MAX_PLAN_BYTES:
        raise PlanError("the plan file is larger than 1 MiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PlanError("a plan file is a mapping (number, issued_on, indicators, …)")
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "plan"
        raise PlanError(f"{where}: {first['msg']} ({len(exc.errors())} problem(s))") from None


def read_plan_file(path: Path) -> Plan:
    if path.stat().st_size > MAX_PLAN_BYTES:
        raise PlanError("the plan file is larger than 1 MiB")
    return parse_plan(path.read_text(encoding="utf-8"))


def load_plan(session: Session, plan: Plan, *, actor: str) -> PlanRow:
    """Put `plan` in force and write the inventory it carries (unknown units are refused)."""
    for entry in plan.inventory:
        if not unit_exists(session, entry.unit):
            raise PlanError(f"inventory: unknown unit {entry.unit!r}")
    row = PlanRow(number=plan.number, data=plan.model_dump(mode="json"), loaded_by=actor)
    session.add(row)
    for entry in plan.inventory:
        set_inventory(session, entry, actor=actor)
    session.flush()
    audit(session, actor, "plan.load", detail={"plan_id": row.id, "number": plan.number})
    return row


def current_plan(session: Session) -> Plan | None:
    """The plan in force (the newest loaded), with the inventory as it is now."""
    row = session.scalars(select(PlanRow).order_by(PlanRow.id.desc()).limit(1)).first()
    if row is None:
        return None
    plan = Plan.model_validate(row.data)
    return plan.model_copy(update={"inventory": list(inventories(session))})


def set_inventory(session: Session, entry: Inventory, *, actor: str) -> InventoryRow:
    """Write a unit's inventory estimate; the audit log keeps the previous one."""
    if not unit_exists(session, entry.unit):
        raise PlanError(f"unknown unit {entry.unit!r}")
    row = session.get(InventoryRow, entry.unit)
    before = None
    if row is None:
        row = InventoryRow(unit_code=entry.unit)
        session.add(row)
    else:
        before = {"dossiers": row.dossiers, "documents": row.documents, "pages": row.pages}
    row.dossiers, row.documents, row.pages = entry.dossiers, entry.documents, entry.pages
    row.note = entry.note
    row.updated_by = actor
    row.updated_at = utcnow()
    after = {"dossiers": entry.dossiers, "documents": entry.documents, "pages": entry.pages}
    if before != after:
        audit(
            session,
            actor,
            "inventory.set",
            detail={"unit": entry.unit, "old": before, "new": after},
        )
    return row


def inventories(session: Session) -> Sequence[Inventory]:
    rows = session.scalars(select(InventoryRow).order_by(InventoryRow.unit_code)).all()
    return [
        Inventory(
            unit=r.unit_code, dossiers=r.dossiers, documents=r.documents, pages=r.pages, note=r.note
        )
        for r in rows
    ]
