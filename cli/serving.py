"""The API in one or several processes: uvicorn's own worker processes on one shared socket.

The port is bound here first, so a port in use fails at once. With several processes,
uvicorn's supervisor starts them on that socket (each accepts its connections itself),
replaces one that dies, and stops them all on SIGINT or SIGTERM. Around it:

* an API process whose parent is gone (killed outright, so it could not stop them) stops
  too, finishing the requests it has: see `api_process`;
* the request metrics of all processes are summed at every scrape, whichever process answers
  it: prometheus_client's multiprocess mode, in a temporary folder made here and removed at
  the end (`api/metrics.py`).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

#: the application factory each API process calls
APP = "cli.serving:api_process"
#: seconds the requests still running at a stop may take before they are cut
GRACEFUL_STOP_SECONDS = 30
#: where prometheus_client keeps the metrics of every process (its own variable)
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def api_process() -> Any:
    """The application, in an API process; with a parent (uvicorn's supervisor), the process
    stops when that parent ends."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_stop_with, args=(parent,), name="parent", daemon=True).start()
    from api.app import app

    return app


def _stop_with(parent: Any) -> None:
    parent.join()  # returns when the parent has ended (its end of a pipe is closed)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own stop: open requests are finished


def serve_api(host: str, port: int, processes: int, *, access_log: bool = True) -> None:
    """Serve the API in `processes` processes (1: in this one) until SIGINT or SIGTERM."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=processes,
        access_log=access_log,
        # the application believes forwarded headers itself, from SOHOA_TRUSTED_PROXIES only
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
    )
    try:
        sock = config.bind_socket()  # logs the reason (the port is in use, say)
    except SystemExit:
        raise SystemExit(f"sohoa: cannot listen on {host}:{port}") from None
    if processes <= 1:
        server = uvicorn.Server(config)
        # uvicorn raises SIGTERM again once it has stopped: the caller's cleanup must run
        previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
        try:
            server.run(sockets=[sock])
        finally:
            signal.signal(signal.SIGTERM, previous)
            sock.close()
        if not server.started:
            raise SystemExit(STARTUP_FAILURE)
        return
    shown = f"[{host}]" if ":" in host else host
    print(f"sohoa: the API on http://{shown}:{port}, {processes} processes", file=sys.stderr)
    metrics = tempfile.mkdtemp(prefix="sohoa-metrics-")
    os.environ[METRICS_DIR] = metrics  # inherited by the processes started from now on
    supervisor = Multiprocess(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        del os.environ[METRICS_DIR]
        sock.close()
        shutil.rmtree(metrics, ignore_errors=True)
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        raise SystemExit("sohoa: an API process could not start; see the log above")
