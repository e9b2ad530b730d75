"""Webhook subscriptions and their deliveries: an outbox in the metadata database.

A change of a record writes one delivery row per matching subscription in the transaction of
the change (`enqueue_event`, called by `store.records.events.record_changed`): a committed change
always has its deliveries, a rolled back one never has any.

Sending is the worker's job, and the store may not import the worker. So a process that can
send installs a *dispatcher* here when it is wired up (`set_dispatcher`, called by
`worker.webhooks.install_dispatcher` from the API application and the Celery worker); after
the commit, the new delivery ids are handed to it so delivery starts at once. Without a
dispatcher (a script that only uses the store), or when the broker loses the message, the
periodic sweep finds the due rows (`due_deliveries`) and sends them.

The body of an event never carries the record's content (text, subject, number, signer…):
only its id, unit, status, version and times and the API path to fetch it. An event of a
secret record therefore tells a receiver no more than "record X of unit U changed"; reading
it takes a token with records:secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from store.audit.trail import audit
from store.platform.db import after_commit, rowcount
from store.platform.ids import new_id
from store.platform.models import DocumentRow, WebhookDeliveryRow, WebhookRow, utcnow

log = logging.getLogger(__name__)

#: the event a test of a subscription sends (POST /webhooks/{id}/test)
PING = "ping"
#: where a record is read over the API; receivers join it to the base URL they know
RECORD_PATH = "/api/v1/records/{id}"


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its (next) attempt, or in flight
    delivered = "delivered"  # the receiver answered 2xx
    failed = "failed"  # gave up: last attempt spent, 410 Gone, or the subscription is off


Dispatcher = Callable[[list[int]], None]
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> Dispatcher | None:
    """Register what sends new deliveries after a commit (the worker does, at import).
    Returns the previous one, so a caller can put it back."""
    global _dispatcher
    previous, _dispatcher = _dispatcher, dispatcher
    return previous


def dispatch_after_commit(session: Session, delivery_ids: Sequence[int]) -> None:
    """Hand `delivery_ids` to the dispatcher once the transaction has committed.

    A dispatcher that fails (broker down) must not turn a committed change into an error:
    it is logged, and the sweep sends the rows later.
    """
    ids = list(delivery_ids)
    if not ids:
        return

    def run() -> None:
        dispatcher = _dispatcher
        if dispatcher is None:
            return
        try:
            dispatcher(ids)
        except Exception:
            log.exception("could not send webhook deliveries %s; the sweep will", ids[:20])

    after_commit(session, run)


def encode_body(payload: dict[str, Any]) -> str:
    """The JSON text that is stored, signed and sent, byte for byte the same every time."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def record_link(document_id: str) -> str:
    return RECORD_PATH.format(id=document_id)


def event_payload(doc: DocumentRow, event: str, occurred_at: datetime) -> dict[str, Any]:
    """What a receiver learns of a change. Never any content of the record (see the module)."""
    return {
        "event_id": new_id(),
        "event": event,
        "occurred_at": _iso(occurred_at),
        "record_id": doc.id,
        "unit": doc.unit_code,
        "status": doc.status,
        "version": doc.version,
        "updated_at": _iso(doc.updated_at),
        "link": record_link(doc.id),
    }


def subscribed(hook: WebhookRow, event: str, unit: str | None) -> bool:
    """Does the (active) subscription want `event` of a record of `unit`?"""
    if not hook.active or event not in (hook.events or []):
        return False
    return hook.units is None or (unit is not None and unit in hook.units)


def enqueue_event(
    session: Session, event: str, document_id: str, *, also_for_unit: str | None = None
) -> list[WebhookDeliveryRow]:
    """Write one pending delivery per subscription that wants this event of this record (of
    its unit, or of `also_for_unit`: the unit it was just moved from), in the caller's
    transaction; they are dispatched after it commits."""
    event = str(event)
    hooks = session.scalars(
        select(WebhookRow).where(WebhookRow.active.is_(True)).order_by(WebhookRow.id)
    ).all()
    if not hooks:
        return []
    doc = session.get(DocumentRow, document_id)
    if doc is None:
        return []
    wanted = [
        h
        for h in hooks
        if subscribed(h, event, doc.unit_code)
        or (also_for_unit is not None and subscribed(h, event, also_for_unit))
    ]
    if not wanted:
        return []
    now = utcnow()
    body = encode_body(event_payload(doc, event, now))  # one event, the same body for all
    rows = [
        WebhookDeliveryRow(
            webhook_id=hook.id,
            event=event,
            document_id=document_id,
            body=body,
            status=DeliveryStatus.pending.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for hook in wanted
    ]
    session.add_all(rows)
    session.flush()
    dispatch_after_commit(session, [r.id for r in rows])
    return rows


def enqueue_ping(session: Session, hook: WebhookRow, actor: str) -> WebhookDeliveryRow:
    """A `ping` delivery to one subscription, to test the receiver and its signature check."""
    now = utcnow()
    body = encode_body(
        {"event_id": new_id(), "event": PING, "occurred_at": _iso(now), "webhook_id": hook.id}
    )
    row = WebhookDeliveryRow(
        webhook_id=hook.id,
        event=PING,
        document_id=None,
        body=body,
        status=DeliveryStatus.pending.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit(session, actor, "webhook.test", detail={"webhook_id": hook.id, "delivery_id": row.id})
    dispatch_after_commit(session, [row.id])
    return row


# --- subscriptions ---------------------------------------------------------------------


def create_webhook(
    session: Session,
    *,
    url: str,
    secret: str,
    events: Sequence[str],
    units: Sequence[str] | None,
    actor: str,
) -> WebhookRow:
    hook = WebhookRow(
        url=url,
        secret=secret,
        events=sorted(set(events)),
        units=None if units is None else sorted(set(units)),
        active=True,
        created_by=actor,
    )
    session.add(hook)
    session.flush()
    audit(session, actor, "webhook.create", detail=_describe(hook))
    return hook


def _describe(hook: WebhookRow) -> dict[str, Any]:
    """What the audit log keeps of a subscription: everything but the secret."""
    return {
        "webhook_id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "units": hook.units,
        "active": hook.active,
    }


def update_webhook(
    session: Session, hook: WebhookRow, changes: dict[str, Any], actor: str
) -> WebhookRow:
    """Change url, events, units or active. Turning a subscription off fails its pending
    deliveries (they can be replayed once it is on again)."""
    before = _describe(hook)
    if "url" in changes:
        hook.url = changes["url"]
    if "events" in changes:
        hook.events = sorted(set(changes["events"]))
    if "units" in changes:
        units = changes["units"]
        hook.units = None if units is None else sorted(set(units))
    if "active" in changes and changes["active"] != hook.active:
        hook.active = bool(changes["active"])
        if not hook.active:
            fail_pending(session, hook.id, "subscription turned off")
    session.flush()
    audit(session, actor, "webhook.update", detail={"before": before, "after": _describe(hook)})
    return hook


def delete_webhook(session: Session, hook: WebhookRow, actor: str) -> None:
    """Delete a subscription and, with it, its deliveries."""
    detail = _describe(hook)
    deliveries = WebhookDeliveryRow.__table__
    assert isinstance(deliveries, Table)  # a class mapped by __tablename__ has a Table
    session.execute(deliveries.delete().where(WebhookDeliveryRow.webhook_id == hook.id))
    session.delete(hook)
    session.flush()
    audit(session, actor, "webhook.delete", detail=detail)


def deactivate(session: Session, webhook_id: int, reason: str) -> None:
    """Turn a subscription off (the receiver answered 410 Gone) and fail what it still had."""
    session.execute(update(WebhookRow).where(WebhookRow.id == webhook_id).values(active=False))
    fail_pending(session, webhook_id, reason)
    detail = {"webhook_id": webhook_id, "reason": reason}
    audit(session, "worker", "webhook.deactivate", detail=detail)


def fail_pending(session: Session, webhook_id: int, reason: str) -> int:
    result = session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.webhook_id == webhook_id,
            WebhookDeliveryRow.status == DeliveryStatus.pending.value,
        )
        .values(status=DeliveryStatus.failed.value, last_error=reason, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


# --- delivering --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery taken for one attempt: what to send, where, signed with what."""

    id: int
    webhook_id: int
    url: str
    secret: str
    event: str
    body: str
    attempt: int


def claim_delivery(
    session: Session, delivery_id: int, *, lease: timedelta, max_attempts: int
) -> ClaimedDelivery | None:
    """Take a due, pending delivery of an active subscription for one attempt, or None.

    A guarded UPDATE counts the attempt and moves `next_attempt_at` past the lease, so a
    second worker (a duplicate message, the sweep) finds it not due and leaves it; if this
    worker dies mid-send, the sweep sends it again once the lease has run out.
    """
    now = utcnow()
    active = select(WebhookRow.id).where(WebhookRow.active.is_(True))
    result = session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.id == delivery_id,
            WebhookDeliveryRow.status == DeliveryStatus.pending.value,
            or_(
                WebhookDeliveryRow.next_attempt_at.is_(None),
                WebhookDeliveryRow.next_attempt_at <= now,
            ),
            WebhookDeliveryRow.attempts < max_attempts,
            WebhookDeliveryRow.webhook_id.in_(active),
        )
        .values(attempts=WebhookDeliveryRow.attempts + 1, next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return None
    row = session.get(WebhookDeliveryRow, delivery_id, populate_existing=True)
    assert row is not None
    hook = session.get(WebhookRow, row.webhook_id)
    assert hook is not None
    return ClaimedDelivery(
        row.id, hook.id, hook.url, hook.secret, row.event, row.body, row.attempts
    )


def _outcome_guard(claimed: ClaimedDelivery) -> Any:
    # Only the attempt that claimed it writes its outcome (not a late one whose lease ran out).
    return (
        WebhookDeliveryRow.id == claimed.id,
        WebhookDeliveryRow.attempts == claimed.attempt,
    )


def record_delivered(session: Session, claimed: ClaimedDelivery, status_code: int) -> bool:
    now = utcnow()
    result = session.execute(
        update(WebhookDeliveryRow)
        .where(*_outcome_guard(claimed))
        .values(
            status=DeliveryStatus.delivered.value,
            last_status_code=status_code,
            last_error=None,
            next_attempt_at=None,
            delivered_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


def record_failed_attempt(
    session: Session,
    claimed: ClaimedDelivery,
    *,
    status_code: int | None,
    error: str,
    retry_in: float | None,
) -> bool:
    """Note a failed attempt: pending again in `retry_in` seconds, or failed when None."""
    values: dict[str, Any] = {"last_status_code": status_code, "last_error": error[:2000]}
    if retry_in is None:
        values.update(status=DeliveryStatus.failed.value, next_attempt_at=None)
    else:
        values.update(
            status=DeliveryStatus.pending.value,
            next_attempt_at=utcnow() + timedelta(seconds=retry_in),
        )
    result = session.execute(
        update(WebhookDeliveryRow)
        .where(*_outcome_guard(claimed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


def due_deliveries(session: Session, *, max_attempts: int, limit: int = 500) -> list[int]:
    """For the sweep: close what can no longer be sent, and list the pending rows now due.

    A row whose last attempt was claimed but never finished (its worker died) is failed;
    pending rows of a subscription turned off are failed too.
    """
    now = utcnow()
    session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.status == DeliveryStatus.pending.value,
            WebhookDeliveryRow.attempts >= max_attempts,
            WebhookDeliveryRow.next_attempt_at <= now,
        )
        .values(
            status=DeliveryStatus.failed.value,
            next_attempt_at=None,
            last_error="gave up: the last attempt never finished",
        )
        .execution_options(synchronize_session=False)
    )
    inactive = select(WebhookRow.id).where(WebhookRow.active.is_(False))
    session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.status == DeliveryStatus.pending.value,
            WebhookDeliveryRow.webhook_id.in_(inactive),
        )
        .values(
            status=DeliveryStatus.failed.value,
            next_attempt_at=None,
            last_error="subscription turned off",
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.pending.value,
                or_(
                    WebhookDeliveryRow.next_attempt_at.is_(None),
                    WebhookDeliveryRow.next_attempt_at <= now,
                ),
            )
            .order_by(WebhookDeliveryRow.id)
            .limit(limit)
        )
    )


# --- what an operator sees and does ------------------------------------------------------


class ReplayRefused(Exception):
    """The delivery cannot be replayed now (still pending, or its subscription is off)."""


def replay_delivery(session: Session, delivery_id: int, actor: str) -> WebhookDeliveryRow | None:
    """Send a failed or delivered delivery again, with the same body and delivery id.

    Its attempts start again from zero (a full round of retries); what it was before — status,
    attempts, last status code and error — is kept in the audit log. None if it does not exist.
    """
    row = session.get(WebhookDeliveryRow, delivery_id, with_for_update=True)
    if row is None:
        return None
    if row.status == DeliveryStatus.pending.value:
        raise ReplayRefused("the delivery is still pending")
    hook = session.get(WebhookRow, row.webhook_id)
    if hook is None or not hook.active:
        raise ReplayRefused("the subscription is turned off")
    audit(
        session,
        actor,
        "webhook.replay",
        document_id=row.document_id,
        detail={
            "webhook_id": row.webhook_id,
            "delivery_id": row.id,
            "before": {
                "status": row.status,
                "attempts": row.attempts,
                "last_status_code": row.last_status_code,
                "last_error": row.last_error,
                "delivered_at": _iso(row.delivered_at),
            },
        },
    )
    row.status = DeliveryStatus.pending.value
    row.attempts = 0
    row.last_status_code = None
    row.last_error = None
    row.delivered_at = None
    row.next_attempt_at = utcnow()
    session.flush()
    dispatch_after_commit(session, [row.id])
    return row


def list_deliveries(
    session: Session,
    webhook_id: int,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[WebhookDeliveryRow]:
    """Deliveries of one subscription, newest first; `before_id` pages on."""
    query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
    if status is not None:
        query = query.where(WebhookDeliveryRow.status == status.value)
    if before_id is not None:
        query = query.where(WebhookDeliveryRow.id < before_id)
    return list(session.scalars(query.order_by(WebhookDeliveryRow.id.desc()).limit(limit)))
