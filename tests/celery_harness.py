"""A real Celery worker in a subprocess, on real Redis, for the pipeline tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from schemas.record import FINAL_STATES, Status
from schemas.settings import Settings
from store import unit_of_work
from store.platform.models import DocumentRow
from store.services import Services
from worker.app import light_queue, ocr_queue

REPO = Path(__file__).resolve().parents[1]


def settings_env(settings: Settings) -> dict[str, str]:
    env = {
        "SOHOA_DATABASE_URL": settings.database_url,
        "SOHOA_BROKER_URL": settings.broker_url,
        "SOHOA_STORAGE_URL": settings.storage_url,
        "SOHOA_TASK_QUEUE": settings.task_queue,
        "SOHOA_STUCK_AFTER": str(settings.stuck_after),
        "SOHOA_RECONCILE_EVERY": str(settings.reconcile_every),
        "SOHOA_LEASE_SECONDS": str(settings.lease_seconds),
        "SOHOA_LOST_AFTER": str(settings.lost_after),
        "SOHOA_PAGES_PER_TASK": str(settings.pages_per_task),
        "SOHOA_OCR_LANG": settings.ocr_lang,
        "SOHOA_WEBHOOK_ALLOWED_NETWORKS": settings.webhook_allowed_networks,
    }
    for name in ("s3_access_key", "s3_secret_key", "s3_region"):
        value = getattr(settings, name)
        if value:
            env[f"SOHOA_{name.upper()}"] = value
    return env


class WorkerProcess:
    """`celery worker` (with the reconciler when `beat`) in its own process group."""

    def __init__(
        self,
        settings: Settings,
        log: Path,
        *,
        beat: bool = False,
        queues: tuple[str, ...] = ("ocr", "light"),
        concurrency: int = 2,
    ) -> None:
        env = {**os.environ, **settings_env(settings), "PYTHONUNBUFFERED": "1"}
        names = {"ocr": ocr_queue(settings), "light": light_queue(settings)}
        argv = [
            sys.executable, "-m", "celery", "-A", "worker.app", "worker",
            f"--concurrency={concurrency}", "--loglevel=info",
            f"--queues={','.join(names[q] for q in queues)}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@localhost",
        ]  # fmt: skip
        if beat:
            argv += ["--beat", f"--schedule={log.with_suffix('.beat')}"]
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the whole worker, children included: nothing gets to clean up."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log_file.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._log_file.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def statuses(svc: Services, ids: list[str]) -> dict[str, Status]:
    with unit_of_work(svc.sessions) as session:
        rows = session.execute(
            select(DocumentRow.id, DocumentRow.status).where(DocumentRow.id.in_(ids))
        ).all()
    return {row.id: Status(row.status) for row in rows}


def all_final(svc: Services, ids: list[str]) -> bool:
    found = statuses(svc, ids)
    return len(found) == len(ids) and all(s in FINAL_STATES for s in found.values())
