"""The API in several processes, each with its own listening socket on the same port.

uvicorn's own `--workers` share one listening socket, and whichever process wakes first
accepts every connection waiting: when a client opens its pool of keep-alive connections at
once, one process may get 14 of 16 and work alone while the others idle. With SO_REUSEPORT
each process listens on a socket of its own and the kernel spreads new connections over
them. Where the option does not exist, one process serves.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from typing import Any

import uvicorn

APP = "api.app:app"
#: a process that dies sooner than this after its start is not restarted (a bad setting,
#: a port in use): the server stops instead of looping
MIN_LIFETIME_SECONDS = 10.0


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _serve_one(host: str, port: int, options: dict[str, Any]) -> None:
    """One API process: its own socket, its own event loop."""
    sock = listening_socket(host, port)
    config = uvicorn.Config(APP, host=host, port=port, proxy_headers=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def serve_api(host: str, port: int, processes: int, **options: Any) -> None:
    """Serve the API in `processes` processes (1: in this one) until SIGINT or SIGTERM."""
    if processes <= 1 or not reuse_port_available():
        uvicorn.run(APP, host=host, port=port, proxy_headers=True, **options)
        return
    # the port is taken here first, so that a port in use fails at once and clearly
    listening_socket(host, port).close()
    context = multiprocessing.get_context("spawn")

    def start() -> multiprocessing.process.BaseProcess:
        child = context.Process(target=_serve_one, args=(host, port, options))
        child.start()
        return child

    children = [start() for _ in range(processes)]
    started = {child.pid: time.monotonic() for child in children}
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            time.sleep(0.5)
            for i, child in enumerate(children):
                if child.is_alive() or stopping:
                    continue
                if time.monotonic() - started[child.pid] < MIN_LIFETIME_SECONDS:
                    raise SystemExit(f"an API process stopped at start (exit {child.exitcode})")
                children[i] = start()  # crashed after a while: replace it
                started[children[i].pid] = time.monotonic()
    finally:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)  # uvicorn finishes open requests
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
