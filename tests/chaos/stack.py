"""The production path for the chaos test: a Redis server of its own (so it can be flushed,
killed and restarted without touching anyone else's), moto's S3 server in a process (so it can
be frozen), a PostgreSQL database of its own, and real Celery workers kept running the way
compose and Kubernetes do (an exited worker is started again)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from schemas.settings import Settings
from tests.celery_harness import WorkerProcess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """redis-server without persistence on a free port: a restart comes back empty."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        argv = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        client.close()

    def flushall(self) -> None:
        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def terminate_database_connections(url: str) -> int:
    """pg_terminate_backend on every connection to this test's own database (the server is
    shared: it is never restarted)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        engine.dispose()
    return int(killed or 0)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@dataclass
class Workers:
    """An OCR worker and the single light worker with the reconciler (beat), restarted when
    they exit, as `restart: unless-stopped` and a Deployment do."""

    settings: Settings
    folder: Path
    ocr: WorkerProcess | None = None
    light: WorkerProcess | None = None
    restarts: dict[str, int] = field(default_factory=lambda: {"ocr": 0, "light": 0})

    def start_ocr(self) -> None:
        self.ocr = WorkerProcess(
            self.settings, self.folder / "ocr.log", queues=("ocr",), concurrency=2
        )

    def start_light(self) -> None:
        self.light = WorkerProcess(
            self.settings, self.folder / "light.log", beat=True, queues=("light",),
            concurrency=1,
        )  # fmt: skip

    def start(self) -> None:
        self.start_ocr()
        self.start_light()

    def supervise(self) -> None:
        if self.ocr is not None and self.ocr.proc.poll() is not None:
            self.ocr.stop()
            self.restarts["ocr"] += 1
            self.start_ocr()
        if self.light is not None and self.light.proc.poll() is not None:
            self.light.stop()
            self.restarts["light"] += 1
            self.start_light()

    def kill_ocr_children(self) -> int:
        assert self.ocr is not None
        pids = children(self.ocr.proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        return len(pids)

    def kill_ocr(self) -> None:
        assert self.ocr is not None
        self.ocr.kill()  # the supervisor starts it again

    def stop(self) -> None:
        for proc in (self.ocr, self.light):
            if proc is not None:
                proc.stop()

    def output(self) -> str:
        return "\n".join(p.output() for p in (self.ocr, self.light) if p is not None)
