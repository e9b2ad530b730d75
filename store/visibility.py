"""The visibility rule of `schemas.auth.Principal.may_see`, as SQL for queries over many
records. Lists, search, counts and exports filter with this, never with their own rule."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from schemas.auth import Principal, Scope
from store.models import DocumentRow


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `documents` keeping the records `principal` may see."""
    if not principal.has(Scope.records_read):
        return false()
    clauses: list[ColumnElement[bool]] = []
    if not principal.may_see_secret:
        clauses.append(DocumentRow.secrecy.is_(None))
    if principal.units is not None:
        if not principal.units:
            return false()
        clauses.append(DocumentRow.unit_code.in_(sorted(principal.units)))
    if not clauses:
        return true()
    result = clauses[0]
    for clause in clauses[1:]:
        result = result & clause
    return result
