"""Prometheus metrics at `/metrics` (text format 0.0.4).

Protected like any other route: Prometheus scrapes with a service token that has the
`reports:read` (or `admin`) scope, given as `authorization: {credentials: <token>}` (or
`bearer_token_file`) in the scrape config. What is exposed, and what it measures:

* `sohoa_documents{state}` - documents per processing state, counted in the database at
  scrape time (every state is present, 0 when empty).
* `sohoa_pages_digitized` - pages of all documents digitized or waiting for review.
* `sohoa_pages_digitized_last_10m`, `sohoa_pages_per_minute` - pages of the documents
  *published* in the last 10 minutes (a 300-page scan counts when it is finished, not page by
  page), and that divided by 10.
* `sohoa_queue_length{queue}` - messages waiting in the OCR queue (`<task_queue>.ocr`) and
  the light queue (`<task_queue>`): Redis `LLEN` (all priority lists), or the message files
  of the filesystem broker. `sohoa_broker_up` is 0 when the broker did not answer (then no
  queue length is reported).
* `sohoa_document_turnaround_seconds` - a histogram, from the database, of the time from
  upload to publication (waiting in the queue + OCR + classification; a retried document
  counts from its first upload) over documents published in the last hour.
* `sohoa_http_request_duration_seconds{method,route,status}` - request durations measured
  by :class:`MetricsMiddleware`, until the last byte of the answer is handed to the server;
  `route` is the route template (`/api/v1/records/{record_id}`), `unmatched` otherwise.
* `process_*` - the CPU, memory and open files of the API process, with one API process only.

With several API processes (`sohoa serve --api-processes N`) a scrape is answered by whichever
process accepts it, so the request durations are kept in prometheus_client's multiprocess mode:
every process writes its own to files in `PROMETHEUS_MULTIPROC_DIR` (made and removed by
`sohoa serve`), and a scrape sums the files of all processes, those that died included (a
count never goes back). The `process_*` figures of one process would say nothing of the
others, and are left out then, as prometheus_client does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Annotated

import redis
from fastapi import APIRouter, Depends, Response
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Caller, forbidden
from api.deps import ServicesDep
from schemas.auth import Principal
from schemas.auth import Scope as AuthScope
from schemas.record import Status
from schemas.settings import Settings
from store import unit_of_work
from store.platform.models import DocumentRow, utcnow
from worker.app import broker_folder, light_queue, ocr_queue

#: the request histogram and the process metrics of this process; the database figures are
#: read per scrape
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
REQUEST_SECONDS = Histogram(
    "sohoa_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
TURNAROUND_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
RECENT = timedelta(minutes=10)
TURNAROUND_WINDOW = timedelta(hours=1)
#: seconds to wait for Redis when reading queue lengths
BROKER_TIMEOUT = 1.0
#: kombu's Redis transport keeps priorities 3, 6, 9 in lists named <queue>\x06\x16<priority>
_REDIS_PRIORITY_SEP = "\x06\x16"
_REDIS_PRIORITIES = (3, 6, 9)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_DONE = (Status.digitized.value, Status.needs_review.value)

router = APIRouter(tags=["health"])


# --- request durations ---------------------------------------------------------------------


class MetricsMiddleware:
    """Times every HTTP request (pure ASGI, so streamed downloads are timed to the end)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router writes the matched route into the scope it was given (this one).
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUEST_SECONDS.labels(
                method if method in _METHODS else "other", route, str(status)
            ).observe(time.perf_counter() - started)


# --- figures from the database and the broker ----------------------------------------------


def document_states(session: Session) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for state, count in session.execute(
        select(DocumentRow.status, func.count()).group_by(DocumentRow.status)
    ):
        counts[state] = int(count)
    return counts


def _published_since(since: object) -> list:
    # updated_at is indexed and never older than digitized_at: it narrows the scan.
    return [
        DocumentRow.status.in_(_DONE),
        DocumentRow.updated_at >= since,
        DocumentRow.digitized_at >= since,
    ]


def queue_lengths(settings: Settings) -> dict[str, int] | None:
    """Messages waiting per queue, or None when the broker did not answer or is not one we
    can read (only Redis and the filesystem broker are)."""
    queues = [ocr_queue(settings), light_queue(settings)]
    scheme = settings.broker_url.partition("://")[0].lower()
    if scheme in ("redis", "rediss"):
        client = redis.Redis.from_url(
            settings.broker_url,
            socket_connect_timeout=BROKER_TIMEOUT,
            socket_timeout=BROKER_TIMEOUT,
        )
        try:
            pipe = client.pipeline(transaction=False)
            for queue in queues:
                pipe.llen(queue)
                for priority in _REDIS_PRIORITIES:
                    pipe.llen(f"{queue}{_REDIS_PRIORITY_SEP}{priority}")
            sizes = [int(n) for n in pipe.execute()]
        except redis.RedisError:
            return None
        finally:
            client.close()
        per = 1 + len(_REDIS_PRIORITIES)
        return {q: sum(sizes[i * per : (i + 1) * per]) for i, q in enumerate(queues)}
    folder = broker_folder(settings)
    if folder is None:
        return None
    try:
        names = os.listdir(folder / "queue")
    except OSError:
        return None
    # Messages are files <ms>_<id>.<queue>.msg (kombu's filesystem transport).
    suffixes = [name.partition(".")[2] for name in names]
    return {q: sum(1 for s in suffixes if s == f"{q}.msg") for q in queues}


def _turnaround(seconds: Iterable[float]) -> HistogramMetricFamily:
    values = list(seconds)
    buckets = [(str(le), sum(1 for v in values if v <= le)) for le in TURNAROUND_BUCKETS]
    buckets.append(("+Inf", len(values)))
    return HistogramMetricFamily(
        "sohoa_document_turnaround_seconds",
        "Seconds from upload to publication (queue wait + OCR + classification) of the "
        "documents published in the last hour, read from the database",
        buckets=buckets,
        sum_value=sum(values),
    )


def snapshot(session: Session, settings: Settings) -> list[Metric]:
    """The figures read at scrape time."""
    now = utcnow()
    states = GaugeMetricFamily(
        "sohoa_documents", "Documents per processing state", labels=["state"]
    )
    for state, count in document_states(session).items():
        states.add_metric([state], count)
    total = session.scalar(
        select(func.coalesce(func.sum(DocumentRow.page_count), 0)).where(
            DocumentRow.status.in_(_DONE)
        )
    )
    recent = session.scalar(
        select(func.coalesce(func.sum(DocumentRow.page_count), 0)).where(
            *_published_since(now - RECENT)
        )
    )
    recent = int(recent or 0)
    rows = session.execute(
        select(DocumentRow.created_at, DocumentRow.digitized_at)
        .where(*_published_since(now - TURNAROUND_WINDOW))
        .limit(100_000)
    ).all()
    metrics: list[Metric] = [
        states,
        GaugeMetricFamily(
            "sohoa_pages_digitized",
            "Pages of the documents digitized or waiting for review",
            value=int(total or 0),
        ),
        GaugeMetricFamily(
            "sohoa_pages_digitized_last_10m",
            "Pages of the documents published in the last 10 minutes",
            value=recent,
        ),
        GaugeMetricFamily(
            "sohoa_pages_per_minute",
            "Pages published per minute, averaged over the last 10 minutes",
            value=recent / (RECENT.total_seconds() / 60),
        ),
        _turnaround(max(0.0, (done - created).total_seconds()) for created, done in rows if done),
    ]
    lengths = queue_lengths(settings)
    metrics.append(
        GaugeMetricFamily(
            "sohoa_broker_up",
            "1 when the broker answered the queue-length query",
            value=0 if lengths is None else 1,
        )
    )
    if lengths is not None:
        queue = GaugeMetricFamily(
            "sohoa_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        for name, length in lengths.items():
            queue.add_metric([name], length)
        metrics.append(queue)
    return metrics


class _Fixed:
    """A collector over metrics already read."""

    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return iter(self._metrics)


def render(svc_settings: Settings, session: Session) -> bytes:
    per_scrape = CollectorRegistry(auto_describe=False)
    # a collector is anything with collect() (prometheus_client's Collector is a protocol)
    per_scrape.register(_Fixed(snapshot(session, svc_settings)))
    return generate_latest(per_scrape) + _of_the_processes()


def _of_the_processes() -> bytes:
    """The request durations of this process or, in multiprocess mode, summed over every API
    process."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return generate_latest(REGISTRY)
    summed = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(summed, path=folder)
    return generate_latest(summed)


# --- the route -----------------------------------------------------------------------------


def metrics_reader(principal: Caller) -> Principal:
    """`reports:read` or `admin`."""
    if principal.has(AuthScope.reports_read) or principal.has(AuthScope.admin):
        return principal
    raise forbidden("missing scope reports:read or admin")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(svc: ServicesDep, principal: Annotated[Principal, Depends(metrics_reader)]) -> Response:
    """Prometheus metrics (needs a token with `reports:read` or `admin`)."""
    with unit_of_work(svc.sessions) as session:
        body = render(svc.settings, session)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
