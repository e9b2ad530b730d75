"""The visibility rule of `schemas.auth.Principal.may_see`, as SQL for queries over many
records. Lists, search, counts and exports filter with this, never with their own rule.

The rule has a few shapes (everything; no secret records; some units; some units and no
secret records; nothing): `visibility` gives a caller's shape and values, and
`visibility_clause` the clause of a shape with its values as parameters, made once — a
statement built once per shape is reused for every caller of that shape. `visible_to` is the
same clause with the caller's values in it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, false, true

from schemas.auth import Principal, Scope
from store.platform.models import DocumentRow

#: (sees secret records, limited to some units), or None: sees nothing
VisibilityShape = tuple[bool, bool] | None


def visibility(principal: Principal) -> tuple[VisibilityShape, dict[str, Any]]:
    """The shape of what `principal` may see, and the values of its parameters."""
    if not principal.has(Scope.records_read):
        return None, {}
    if principal.units is None:
        return (principal.may_see_secret, False), {}
    if not principal.units:
        return None, {}
    return (principal.may_see_secret, True), {"visible_units": sorted(principal.units)}


@cache
def visibility_clause(shape: VisibilityShape) -> ColumnElement[bool]:
    """A WHERE clause on `documents` for a shape; units as the parameter `visible_units`."""
    return _clause(shape, bindparam("visible_units", expanding=True))


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `documents` keeping the records `principal` may see."""
    shape, values = visibility(principal)
    units = values.get("visible_units")
    return _clause(shape, None if units is None else bindparam("visible_units", units, unique=True))


def _clause(shape: VisibilityShape, units: BindParameter[Any] | None) -> ColumnElement[bool]:
    if shape is None:
        return false()
    sees_secret, limited = shape
    clauses: list[ColumnElement[bool]] = []
    if not sees_secret:
        clauses.append(DocumentRow.secrecy.is_(None))
    if limited:
        assert units is not None
        clauses.append(DocumentRow.unit_code.in_(units))
    if not clauses:
        return true()
    result = clauses[0]
    for clause in clauses[1:]:
        result = result & clause
    return result
