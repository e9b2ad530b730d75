"""Liveness and readiness (open: load balancers and Kubernetes probes carry no token).

`/readyz` answers 503 unless the database, the broker and object storage all answer. The
checks run at once and the answer comes within a second even when a part hangs (a frozen
object store, a database that does not answer); it names the part that failed and the kind of
error, never a URL or a secret.
"""

from __future__ import annotations

import tempfile

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ServicesDep
from api.health_checks import run_checks
from schemas.settings import Settings
from store.services import Services
from worker.app import broker_folder

router = APIRouter(tags=["health"])

#: seconds to wait for Redis in a readiness check
BROKER_TIMEOUT = 0.8
#: seconds within which /readyz answers, whatever hangs
READY_WITHIN = 0.9
OK = "ok"


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


def check_broker(settings: Settings) -> str:
    """`ok`, `error: <kind>`, or `not checked (<scheme>)` for brokers we cannot probe."""
    url = settings.broker_url
    scheme = url.partition("://")[0].lower()
    if scheme in ("redis", "rediss"):
        client = redis.Redis.from_url(
            url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
        )
        try:
            client.ping()
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        finally:
            client.close()
        return OK
    folder = broker_folder(settings)
    if folder is not None:  # the embedded filesystem broker: its queue folder must be writable
        queue = folder / "queue"
        if not queue.is_dir():
            return "error: broker folder missing"
        try:
            # Not named like a message (<n>_<id>.<queue>.msg): workers never pick it up.
            with tempfile.NamedTemporaryFile(dir=queue, prefix=".sohoa-ready-"):
                pass
        except OSError as exc:
            return f"error: {type(exc).__name__}"
        return OK
    return f"not checked ({scheme})"


def check_database(svc: Services) -> str:
    with svc.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return OK


def check_storage(svc: Services) -> str:
    svc.objects.check()
    return OK


@router.get("/readyz")
def readyz(svc: ServicesDep) -> JSONResponse:
    """The database, the broker and object storage answer; all three are asked at once and
    the answer comes within READY_WITHIN seconds, naming the part that did not answer."""
    checks = run_checks(
        {
            "database": lambda: check_database(svc),
            "broker": lambda: check_broker(svc.settings),
            "storage": lambda: check_storage(svc),
        },
        READY_WITHIN,
    )
    ready = not any(v.startswith("error") for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
