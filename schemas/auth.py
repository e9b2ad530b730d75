"""Who is asking, and what they may do: roles of people, scopes of service tokens, and the one
rule that decides whether a record is visible to someone.

A person has a role; a role is a fixed set of scopes. A service token carries the scopes it
was created with. Either may be limited to some units: a ward's staff see only their ward.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    staff = "staff"  # văn thư, lưu trữ: upload and correct, for their units
    supervisor = "supervisor"  # lãnh đạo: read everything, reports
    admin = "admin"  # users, units, plan, webhooks


class Scope(StrEnum):
    records_read = "records:read"
    records_write = "records:write"
    #: see records marked MẬT and above, and their text
    records_secret = "records:secret"
    batches_read = "batches:read"
    batches_write = "batches:write"
    reports_read = "reports:read"
    admin = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.staff: frozenset(
        {Scope.records_read, Scope.records_write, Scope.batches_read, Scope.batches_write}
    ),
    Role.supervisor: frozenset(
        {Scope.records_read, Scope.records_secret, Scope.batches_read, Scope.reports_read}
    ),
    Role.admin: frozenset(Scope),
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.staff: ("Văn thư, lưu trữ", "Archive staff"),
    Role.supervisor: ("Lãnh đạo, giám sát", "Supervisor"),
    Role.admin: ("Quản trị", "Administrator"),
}


class Principal(BaseModel):
    """An authenticated caller: a person (web session or their own token) or a service."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["user", "token"]
    #: user name, or the token's name
    name: str
    role: Role | None = None
    scopes: frozenset[Scope]
    #: units this caller is limited to; None means every unit (and records with no unit)
    units: frozenset[str] | None = None
    #: set when authenticated by a web session cookie: unsafe requests must echo it
    csrf_token: str | None = Field(default=None, repr=False)

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.kind}:{self.name}"

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def may_see_secret(self) -> bool:
        return Scope.records_secret in self.scopes

    def may_use_unit(self, unit: str | None) -> bool:
        """May act on records of `unit` (None: a record not yet assigned to a unit)."""
        if self.units is None:
            return True
        return unit is not None and unit in self.units

    def may_see(self, unit: str | None, secrecy: str | None) -> bool:
        """The visibility rule for one record. Everything that lists, searches or serves
        records applies this same rule (in SQL where it filters many)."""
        if not self.has(Scope.records_read):
            return False
        if secrecy and not self.may_see_secret:
            return False
        return self.may_use_unit(unit)


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Scopes from their names; raises ValueError naming the unknown one."""
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value.strip()))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValueError(f"unknown scope {value!r} (known: {known})") from None
    return frozenset(scopes)


class UserOut(BaseModel):
    username: str
    full_name: str | None = None
    role: Role
    units: list[str] = Field(default_factory=list)
    active: bool = True
    created_at: datetime | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it")
    scopes: list[Scope]
    units: list[str] | None = None
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked: bool = False
