"""Idempotency keys: a retried upload with the same key returns the batch the first one made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.platform.db import rowcount, unit_of_work
from store.platform.models import (
    IdempotencyRow,
    utcnow,
)

#: a key whose request never finished (its process died) may be taken over after this long
KEY_STALE_AFTER = timedelta(hours=1)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class KeyClaim:
    """The outcome of claiming an Idempotency-Key.

    `claimed`: this request owns the key and goes on. Otherwise `batch_id` is the batch the
    first request made, or None while that request is still running.
    """

    claimed: bool
    batch_id: str | None = None


def claim_idempotency_key(
    sessions: sessionmaker[Session],
    actor: str,
    key: str,
    *,
    stale_after: timedelta = KEY_STALE_AFTER,
) -> KeyClaim:
    """Insert the key row in its own transaction before anything else is done.

    The primary key (actor, key) decides between concurrent requests: whoever inserts first
    owns it; the others see the first one's batch, or that it is still running.
    """
    for _attempt in range(3):
        try:
            with unit_of_work(sessions) as session:
                session.add(IdempotencyRow(actor=actor, key=key, batch_id=None))
            return KeyClaim(claimed=True)
        except IntegrityError:
            pass
        with unit_of_work(sessions) as session:
            row = session.get(IdempotencyRow, (actor, key))
            if row is None:
                continue  # released meanwhile: try to insert again
            if row.batch_id is not None:
                return KeyClaim(claimed=False, batch_id=row.batch_id)
            if row.created_at >= utcnow() - stale_after:
                return KeyClaim(claimed=False)
            # The request that owned it never finished: take it over, once.
            taken = session.execute(
                update(IdempotencyRow)
                .where(
                    IdempotencyRow.actor == actor,
                    IdempotencyRow.key == key,
                    IdempotencyRow.batch_id.is_(None),
                    IdempotencyRow.created_at == row.created_at,
                )
                .values(created_at=utcnow())
            )
            return KeyClaim(claimed=bool(rowcount(taken)))
    return KeyClaim(claimed=False)


def touch_idempotency_key(sessions: sessionmaker[Session], actor: str, key: str) -> None:
    """Show that the request owning the key is still alive (a long upload)."""
    with unit_of_work(sessions) as session:
        session.execute(
            update(IdempotencyRow)
            .where(
                IdempotencyRow.actor == actor,
                IdempotencyRow.key == key,
                IdempotencyRow.batch_id.is_(None),
            )
            .values(created_at=utcnow())
        )


def finish_idempotency_key(session: Session, actor: str, key: str, batch_id: str) -> None:
    """Point the key at the batch its request made: later requests get that batch."""
    session.execute(
        update(IdempotencyRow)
        .where(IdempotencyRow.actor == actor, IdempotencyRow.key == key)
        .values(batch_id=batch_id)
    )


def release_idempotency_key(sessions: sessionmaker[Session], actor: str, key: str) -> None:
    """Forget a key whose request made no batch (refused, or the client went away), so the
    client may send it again."""
    with unit_of_work(sessions) as session:
        session.execute(
            delete(IdempotencyRow).where(
                IdempotencyRow.actor == actor,
                IdempotencyRow.key == key,
                IdempotencyRow.batch_id.is_(None),
            )
        )


def purge_idempotency_keys(session: Session, older_than: timedelta) -> int:
    """Drop keys older than `older_than`; returns how many."""
    result = session.execute(
        delete(IdempotencyRow).where(IdempotencyRow.created_at < utcnow() - older_than)
    )
    return rowcount(result)
