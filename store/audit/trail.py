"""The audit log's one writer: who did what, to which record or batch, in the caller's
transaction. A module of its own so that any domain may audit without importing the others."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from store.platform.models import AuditRow

#: a person's correction of a record's fields (its detail holds old and new values)
CORRECT = "document.correct"


def audit(
    session: Session,
    actor: str,
    action: str,
    *,
    document_id: str | None = None,
    batch_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditRow(
            actor=actor, action=action, document_id=document_id, batch_id=batch_id, detail=detail
        )
    )
