"""The daily housekeeping task forgets idempotency keys no client retries with any more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from store import unit_of_work
from store.platform.models import IdempotencyRow, utcnow
from store.services import Services, set_services
from worker.tasks import IDEMPOTENCY_KEEP, housekeeping


def test_old_idempotency_keys_are_forgotten_recent_ones_kept(svc: Services) -> None:
    now = utcnow()
    with unit_of_work(svc.sessions) as session:
        for key, age in (
            ("old", IDEMPOTENCY_KEEP + timedelta(hours=1)),
            ("new", timedelta(hours=1)),
        ):
            session.add(IdempotencyRow(actor="token:a", key=key, created_at=now - age))
    set_services(svc)
    try:
        result = housekeeping.apply().get()
    finally:
        set_services(None)
    assert result == {"idempotency_keys_purged": 1}
    with unit_of_work(svc.sessions) as session:
        assert session.scalars(select(IdempotencyRow.key)).all() == ["new"]
