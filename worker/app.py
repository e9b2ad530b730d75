"""The Celery app. `celery -A worker.app worker` or `sohoa worker` starts a worker."""

from __future__ import annotations

import tempfile
from pathlib import Path

from celery import Celery
from celery.signals import worker_init, worker_process_init

from schemas.settings import Settings, get_settings
from worker import send_gate

#: Redis priority levels of the OCR queue (worker/fairness.py)
LEVELS = list(range(10))

app = Celery("sohoa", include=["worker.tasks", "worker.webhooks"])


def ocr_queue(settings: Settings) -> str:
    """OCR work has its own queue, so light tasks (publishing, the reconciler) never wait
    behind a 300-page scan."""
    return f"{settings.task_queue}.ocr"


def light_queue(settings: Settings) -> str:
    return settings.task_queue


def broker_folder(settings: Settings) -> Path | None:
    """The folder of the embedded filesystem broker, or None for a real broker."""
    url = settings.broker_url
    if not url.startswith("filesystem://"):
        return None
    return Path(url.removeprefix("filesystem://") or "var/broker")


def configure(celery: Celery, settings: Settings) -> None:
    """Apply the settings to the Celery app (again, when tests change them)."""
    # Drop pooled connections to a previous broker; Celery keeps the producer pool apart.
    send_gate.reset()
    celery.close()
    celery.amqp._producer_pool = None
    folder = broker_folder(settings)
    transport_options: dict[str, object] = {}
    broker = settings.broker_url
    if folder is not None:
        queue = folder / "queue"
        queue.mkdir(parents=True, exist_ok=True)
        (folder / "processed").mkdir(parents=True, exist_ok=True)
        broker = "filesystem://"
        transport_options = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),  # else kombu writes ./control
            "store_processed": False,
        }
        schedule = folder / "beat-schedule"
    else:
        # A message not acknowledged this long is given to another worker. The reconciler and
        # the document lease make a redelivery harmless; a short timeout only costs work.
        transport_options = {
            "visibility_timeout": max(3600, settings.stuck_after),
            # a dead broker is noticed in seconds, not when the kernel gives up on a socket
            "socket_timeout": 30.0,
            "socket_connect_timeout": 5.0,
            "socket_keepalive": True,
            "health_check_interval": 10,
            "retry_on_timeout": True,
            # every level is its own list, served 0 first (worker/fairness.py)
            "priority_steps": LEVELS,
            "queue_order_strategy": "priority",
        }
        schedule = Path(tempfile.gettempdir()) / "sohoa-beat-schedule"
    celery.conf.update(
        broker_url=broker,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        # A lost broker is re-connected to for as long as it takes: the process never exits
        # on a broker fault (it is also restarted by compose and Kubernetes if it does).
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        # Tasks running when the connection drops are cancelled and redelivered rather than
        # acknowledged on a channel that no longer exists (the lease makes that harmless).
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # A send retries for about a second (a broker restarting, a connection reset); after
        # that the caller leaves the document to the reconciler (it is in the database) and
        # worker/send_gate.py skips sends for a few seconds.
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 3,
            "interval_start": 0.1,
            "interval_step": 0.3,
            "interval_max": 1.0,
        },
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=light_queue(settings),
        task_routes={
            "sohoa.process": {"queue": ocr_queue(settings)},
            "sohoa.extract_range": {"queue": ocr_queue(settings)},
            "sohoa.webhooks.*": {"queue": light_queue(settings)},
        },
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        beat_schedule={
            "reconcile": {"task": "sohoa.reconcile", "schedule": float(settings.reconcile_every)},
            # due webhook deliveries whose message was lost (store/webhooks/outbox.py)
            "webhooks": {
                "task": "sohoa.webhooks.sweep",
                "schedule": float(settings.reconcile_every),
            },
            "housekeeping": {"task": "sohoa.housekeeping", "schedule": 24 * 3600.0},
        },
        beat_schedule_filename=str(schedule),
        timezone="UTC",
    )


configure(app, get_settings())


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    # A forked child must not reuse the parent's database or HTTP connections.
    from store.services import reset_services
    from worker.memory import cap_memory

    reset_services()
    cap_memory(get_settings())


@worker_init.connect
def _wire_up(**_: object) -> None:
    # the worker sends webhook deliveries as soon as their transaction commits (a forked pool
    # process inherits this; a solo worker runs its tasks right here)
    from worker.webhooks import install_dispatcher

    install_dispatcher()
