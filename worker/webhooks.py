"""Webhook deliveries: signing, sending, retrying, and the sweep that backs up the broker.

Every request is a POST of the stored JSON body with these headers:

- `X-Sohoa-Event`: `record.digitized`, `record.updated`, `record.failed` or `ping`
- `X-Sohoa-Delivery`: the delivery id; a retry or a replay sends the same id (dedupe on it)
- `X-Sohoa-Timestamp`: Unix seconds when this attempt was sent
- `X-Sohoa-Signature`: `sha256=` + hex HMAC-SHA256, keyed by the subscription's secret, over
  `<timestamp>.<body>` (the timestamp header, a dot, then the raw body bytes)

The timestamp is signed but kept out of the body, so the stored body is sent byte for byte
the same on every attempt while each attempt carries a fresh, unforgeable time: a receiver
rejects a request whose timestamp is too old (`verify_signature`, five minutes by default)
and so cannot be fed a captured request again later.

Answers: 2xx delivered; 410 Gone turns the subscription off; anything else (other 4xx, 5xx,
3xx — redirects are not followed —, a timeout, a refused connection) is retried with
exponential backoff and jitter up to `settings.webhook_max_attempts`, then failed. A short
wait is a delayed Celery message; a long one is picked up by the sweep when due.

Sent with urllib3 (already a runtime dependency through the S3 client; httpx is a test
dependency only).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
)

from store import unit_of_work
from store.services import services
from store.webhooks.outbox import (
    ClaimedDelivery,
    claim_delivery,
    deactivate,
    due_deliveries,
    record_delivered,
    record_failed_attempt,
    set_dispatcher,
)
from worker.app import app
from worker.retries import backoff_seconds
from worker.webhook_targets import allowed_networks, refusal

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Sohoa-Event"
DELIVERY_HEADER = "X-Sohoa-Delivery"
TIMESTAMP_HEADER = "X-Sohoa-Timestamp"
SIGNATURE_HEADER = "X-Sohoa-Signature"
USER_AGENT = "sohoa-webhooks/1"
#: seconds a receiver should accept between the signed timestamp and its own clock
DEFAULT_TOLERANCE = 300
#: first retry after about this many seconds, doubling each time, never more than the cap
BACKOFF_BASE = 10.0
BACKOFF_CAP = 3600.0
#: a retry due sooner than this gets its own delayed message; a later one is left to the sweep
#: (workers hold delayed messages in memory, and a receiver down for hours would pile them up)
SCHEDULE_WITHIN = 300.0
#: bytes of a receiver's answer read (and dropped) before the connection is released
ANSWER_KEPT = 300


# --- signing (both sides) ------------------------------------------------------------------


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature_header: str | None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches the raw body and the timestamp, and the
    timestamp is within `tolerance` seconds of now. Compared in constant time."""
    if not timestamp or not signature_header or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header.strip())


def signed_headers(
    secret: str, event: str, delivery_id: int, body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after `attempts` failed ones: exponential with jitter
    (between half and all of base·2^(attempts-1), capped), so receivers coming back from an
    outage are not hit by every sender at once. Never shorter than the previous delay."""
    return backoff_seconds(attempts, base=BACKOFF_BASE, cap=BACKOFF_CAP, rng=rng)


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """How one attempt went: the status code (None without an answer) and what went wrong."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST once: no retries here and no redirects followed; at most `timeout` seconds to
    connect and to wait for the answer."""
    try:
        with urllib3.PoolManager(
            retries=False, timeout=urllib3.Timeout(connect=timeout, read=timeout, total=timeout)
        ) as http:
            response = http.request(
                "POST", url, body=body, headers=headers, redirect=False, preload_content=False
            )
            try:  # a little of the answer is read so the connection can be reused
                response.read(ANSWER_KEPT, decode_content=False)
            except HTTPError:
                pass
            finally:
                response.release_conn()
    except (ReadTimeoutError, ConnectTimeoutError) as exc:
        if isinstance(exc, NewConnectionError):
            return Answer(None, f"connection failed: {exc}")
        return Answer(None, f"timeout: no answer within {timeout:g} s")
    except (HTTPError, OSError, ValueError) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}")
    status = response.status
    if 200 <= status < 300:
        return Answer(status, None)
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: redirect not followed")
    # the answer's body is never shown: a receiver inside the network could be made to tell
    return Answer(status, f"HTTP {status}")


def attempt(claimed: ClaimedDelivery, timeout: float) -> Answer:
    why = refusal(claimed.url, allowed_networks(services().settings.webhook_allowed_networks))
    if why is not None:  # resolved again: the name may point inside the network by now
        return Answer(None, f"refused: {why}")
    body = claimed.body.encode("utf-8")
    headers = signed_headers(claimed.secret, claimed.event, claimed.id, body, int(time.time()))
    return post(claimed.url, body, headers, timeout)


# --- tasks ---------------------------------------------------------------------------------


def send_deliveries(delivery_ids: list[int]) -> None:
    """The dispatcher the store calls after a commit: one task per new delivery."""
    for delivery_id in delivery_ids:
        deliver.apply_async(args=[delivery_id])


@app.task(name="sohoa.webhooks.deliver", acks_late=True, reject_on_worker_lost=True)
def deliver(delivery_id: int) -> str:
    """One attempt at one delivery, then its outcome recorded and, if needed, the next
    attempt scheduled. A duplicate message finds the delivery claimed or done and stops."""
    svc = services()
    settings = svc.settings
    timeout = float(settings.webhook_timeout)
    lease = timedelta(seconds=2 * timeout + 60)  # past any attempt still running
    with unit_of_work(svc.sessions) as session:
        claimed = claim_delivery(
            session, delivery_id, lease=lease, max_attempts=settings.webhook_max_attempts
        )
    if claimed is None:
        return "skipped"
    answer = attempt(claimed, timeout)
    retry_in: float | None = None
    with unit_of_work(svc.sessions) as session:
        if answer.delivered:
            assert answer.status_code is not None
            record_delivered(session, claimed, answer.status_code)
            return "delivered"
        if answer.gone:
            record_failed_attempt(
                session, claimed, status_code=410, error=answer.error or "HTTP 410", retry_in=None
            )
            deactivate(session, claimed.webhook_id, "the receiver answered 410 Gone")
            log.warning("webhook %s answered 410 Gone: turned off", claimed.webhook_id)
            return "gone"
        if claimed.attempt < settings.webhook_max_attempts:
            retry_in = retry_delay(claimed.attempt)
        record_failed_attempt(
            session,
            claimed,
            status_code=answer.status_code,
            error=answer.error or "unknown error",
            retry_in=retry_in,
        )
    if retry_in is None:
        log.warning("webhook delivery %s failed for good: %s", claimed.id, answer.error)
        return "failed"
    if retry_in <= SCHEDULE_WITHIN:
        try:
            deliver.apply_async(args=[claimed.id], countdown=retry_in)
        except Exception:  # the sweep sends it when it is due
            log.exception("could not schedule the retry of webhook delivery %s", claimed.id)
    return "retry"


@app.task(name="sohoa.webhooks.sweep")
def sweep() -> dict[str, Any]:
    """Send the pending deliveries that are due: the backstop for a message the broker lost
    or a retry whose message never came."""
    svc = services()
    with unit_of_work(svc.sessions) as session:
        due = due_deliveries(session, max_attempts=svc.settings.webhook_max_attempts)
    for delivery_id in due:
        try:
            deliver.apply_async(args=[delivery_id])
        except Exception:
            log.exception("could not send webhook delivery %s to the broker", delivery_id)
            break
    return {"sent": due}


# Registered at import: the worker imports this module (Celery `include`), the API imports it
# through its webhook routes. Anything else leaves the rows to the sweep.
def install_dispatcher() -> None:
    """Start deliveries as soon as their transaction commits, from this process.

    Called where a process is wired up (the API application, a Celery worker); a process
    that does not call it leaves new deliveries to the sweep.
    """
    set_dispatcher(send_deliveries)
