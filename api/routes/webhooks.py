"""Webhook subscriptions of other services, and their deliveries (admin only).

A subscription's secret is returned once, in the answer that creates it, and never again.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Admin
from api.deps import ServicesDep
from store import unit_of_work
from store.accounts.units import unit_exists
from store.platform.models import WebhookDeliveryRow, WebhookRow
from store.records.events import RecordEvent
from store.services import Services
from store.webhooks.outbox import (
    DeliveryStatus,
    create_webhook,
    delete_webhook,
    enqueue_ping,
    list_deliveries,
    replay_delivery,
    update_webhook,
)
from worker.webhook_targets import allowed_networks, refusal

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

URL_MAX = 2000  # the column's length
SECRET_MIN = 16


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host, no credentials, no fragment, no blanks."""
    if len(value) > URL_MAX:
        raise ValueError(f"URL longer than {URL_MAX} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("URL contains spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("only http:// and https:// URLs are allowed")
    try:
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"bad URL: {exc}") from None
    if not host:
        raise ValueError("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("no credentials in the URL: receivers check the signature instead")
    if parts.fragment or value.endswith("#"):
        raise ValueError("URL has a fragment")
    return value


WebhookUrl = Annotated[str, Field(min_length=1, max_length=URL_MAX), AfterValidator(check_url)]
Events = Annotated[list[RecordEvent], Field(min_length=1, max_length=len(RecordEvent))]
Units = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)]


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(description="Where events are POSTed (http or https)")
    events: Events = Field(description="Events it wants")
    units: Units | None = Field(
        default=None, max_length=500, description="Only records of these units; null: all"
    )
    secret: str | None = Field(
        default=None,
        min_length=SECRET_MIN,
        max_length=200,
        description="HMAC key; one is generated when absent. Shown only in this answer",
    )


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    events: Events | None = None
    units: Units | None = Field(default=None, max_length=500)
    active: bool | None = None


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    units: list[str] | None = Field(description="Only records of these units; null: all")
    active: bool
    created_by: str | None
    created_at: datetime


class CreatedWebhook(WebhookOut):
    secret: str = Field(description="The signing key: shown only in this answer")


class DeliveryOut(BaseModel):
    id: int = Field(description="Sent as X-Sohoa-Delivery")
    webhook_id: int
    event: str
    record_id: str | None
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The body that is signed and sent")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


def _out(hook: WebhookRow) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        units=None if hook.units is None else list(hook.units),
        active=hook.active,
        created_by=hook.created_by,
        created_at=hook.created_at,
    )


def _delivery_out(row: WebhookDeliveryRow) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        webhook_id=row.webhook_id,
        event=row.event,
        record_id=row.document_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        payload=json.loads(row.body),
    )


def _check_units(session: Session, units: list[str] | None) -> None:
    unknown = sorted({u for u in units or [] if not unit_exists(session, u)})
    if unknown:
        raise HTTPException(422, f"unknown units: {', '.join(unknown)}")


def _hook(session: Session, webhook_id: int) -> WebhookRow:
    hook = session.get(WebhookRow, webhook_id)
    if hook is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such webhook")
    return hook


WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _check_target(svc: Services, url: str) -> None:
    """Receivers inside the service's network only where the operator allows them."""
    why = refusal(url, allowed_networks(svc.settings.webhook_allowed_networks))
    if why is not None:
        raise HTTPException(422, f"Địa chỉ nhận không được phép: {why}")


@router.post("/webhooks", response_model=CreatedWebhook, status_code=status.HTTP_201_CREATED)
def post_webhook(body: NewWebhook, principal: Admin, svc: ServicesDep) -> CreatedWebhook:
    """Subscribe a service. The answer holds the secret, shown this once."""
    secret = body.secret or secrets.token_urlsafe(32)
    _check_target(svc, body.url)
    with unit_of_work(svc.sessions) as session:
        _check_units(session, body.units)
        hook = create_webhook(
            session,
            url=body.url,
            secret=secret,
            events=[e.value for e in body.events],
            units=body.units,
            actor=principal.actor,
        )
        return CreatedWebhook(**_out(hook).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[WebhookOut])
def get_webhooks(_: Admin, svc: ServicesDep) -> list[WebhookOut]:
    with unit_of_work(svc.sessions) as session:
        return [_out(h) for h in session.scalars(select(WebhookRow).order_by(WebhookRow.id))]


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: WebhookId, _: Admin, svc: ServicesDep) -> WebhookOut:
    with unit_of_work(svc.sessions) as session:
        return _out(_hook(session, webhook_id))


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut)
def patch_webhook(
    webhook_id: WebhookId, body: WebhookChange, principal: Admin, svc: ServicesDep
) -> WebhookOut:
    """Change url, events, units (null: every unit) or active. Turning it off fails its
    pending deliveries; they can be replayed once it is on again."""
    changes = body.model_dump(exclude_unset=True)
    for name in ("url", "events", "active"):
        if name in changes and changes[name] is None:
            raise HTTPException(422, f"{name} cannot be null")
    if "events" in changes:
        changes["events"] = [RecordEvent(e).value for e in changes["events"]]
    if changes.get("url"):
        _check_target(svc, changes["url"])
    with unit_of_work(svc.sessions) as session:
        hook = _hook(session, webhook_id)
        _check_units(session, changes.get("units"))
        return _out(update_webhook(session, hook, changes, principal.actor))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_webhook(webhook_id: WebhookId, principal: Admin, svc: ServicesDep) -> Response:
    """Delete a subscription with its deliveries (the audit log keeps that it existed)."""
    with unit_of_work(svc.sessions) as session:
        delete_webhook(session, _hook(session, webhook_id), principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
def get_deliveries(
    webhook_id: WebhookId,
    _: Admin,
    svc: ServicesDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,12}$")] = None,
) -> DeliveryPage:
    """Deliveries of a subscription, newest first (e.g. `?status=failed` to replay)."""
    with unit_of_work(svc.sessions) as session:
        _hook(session, webhook_id)
        rows = list_deliveries(
            session,
            webhook_id,
            status=status_,
            limit=limit + 1,
            before_id=int(cursor) if cursor else None,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return DeliveryPage(
            items=[_delivery_out(r) for r in rows],
            next_cursor=str(rows[-1].id) if more else None,
        )


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"description": "Still pending, or its subscription is off"}},
)
def replay(delivery_id: WebhookId, principal: Admin, svc: ServicesDep) -> DeliveryOut:
    """Send a failed or delivered delivery again: same body, same delivery id, a fresh round
    of attempts. Its previous state is kept in the audit log."""
    with unit_of_work(svc.sessions) as session:
        row = replay_delivery(session, delivery_id, principal.actor)  # or ReplayRefused: 409
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
        return _delivery_out(row)


@router.post(
    "/webhooks/{webhook_id}/test",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"description": "The subscription is off"}},
)
def test_webhook(webhook_id: WebhookId, principal: Admin, svc: ServicesDep) -> DeliveryOut:
    """Send a signed `ping` event to the subscription; follow it in its deliveries."""
    with unit_of_work(svc.sessions) as session:
        hook = _hook(session, webhook_id)
        if not hook.active:
            raise HTTPException(status.HTTP_409_CONFLICT, "the webhook is turned off")
        out = _delivery_out(enqueue_ping(session, hook, principal.actor))
    return out
