"""The API in several processes, connections handed to them in turn.

A Python process serves on one core, so the API runs a process per core. How connections are
spread over them decides the latency under load, since clients (a reverse proxy, other
services) keep their connections open and send request after request on them:

* uvicorn's own `--workers` share one listening socket, and whichever process wakes first
  accepts every connection waiting: a client opening its pool of 16 at once may give one
  process 14 of them while the others idle;
* with SO_REUSEPORT each process listens on a socket of its own and the kernel picks one by a
  hash of the addresses: 16 connections were measured split 10/6 and 5/11 between two
  processes, and the busier one, on its single core, answered twice as slowly as the other,
  which had time to spare.

So here the parent process accepts, and hands each connection (its file descriptor, over a
Unix socket) to the API processes in turn: N connections split as evenly as N allows. The
parent does nothing else with a connection; the process it was given to serves it as uvicorn
serves its own. An API process that dies is replaced; connections are handed to the others
meanwhile. An API process whose parent is gone stops. Where file descriptors cannot be passed
(not a Unix system), one process serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

import uvicorn

APP = "api.app:app"
#: a process that dies sooner than this after its start is not restarted (a bad setting,
#: a port in use): the server stops instead of looping
MIN_LIFETIME_SECONDS = 10.0

log = logging.getLogger(__name__)


def hand_off_available() -> bool:
    return hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


class HandedServer(uvicorn.Server):
    """uvicorn serving the connections it is handed over `hand_off` instead of listening."""

    def __init__(self, config: uvicorn.Config, hand_off: socket.socket) -> None:
        super().__init__(config)
        self._hand_off = hand_off

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the application's start, and no listener
        hand_off = self._hand_off
        hand_off.setblocking(False)
        asyncio.get_running_loop().add_reader(hand_off.fileno(), self._receive)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with contextlib.suppress(ValueError, OSError):  # (closed already)
            asyncio.get_running_loop().remove_reader(self._hand_off.fileno())
        await super().shutdown(sockets)

    def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self._hand_off, 16, 16)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:  # the parent is gone: stop, finishing open requests
                loop.remove_reader(self._hand_off.fileno())
                self.should_exit = True
                return
            for fd in fds:
                conn = socket.socket(fileno=fd)
                conn.setblocking(False)
                task = loop.create_task(loop.connect_accepted_socket(self._protocol, conn))
                task.add_done_callback(_log_failure)

    def _protocol(self) -> asyncio.Protocol:
        """A connection's protocol, made as uvicorn makes it for the connections it accepts."""
        # uvicorn's protocol classes take these keywords; its type says only "a class"
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a handed connection could not be served: %s", task.exception())


def _serve_one(hand_off: socket.socket, options: dict[str, Any]) -> None:
    """One API process: its own event loop, serving what it is handed."""
    # the application believes forwarded headers itself, from SOHOA_TRUSTED_PROXIES only
    config = uvicorn.Config(APP, proxy_headers=False, **options)
    HandedServer(config, hand_off).run()


class _Process:
    """An API process and the parent's end of the socket its connections are handed over."""

    def __init__(self, context: Any, options: dict[str, Any]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = context.Process(target=_serve_one, args=(theirs, options))
        self.process.start()
        theirs.close()
        ours.setblocking(False)
        self.socket = ours
        self.started = time.monotonic()

    def hand(self, conn: socket.socket) -> bool:
        """Hand `conn` over; False when this process takes nothing now (dead, or backed up)."""
        try:
            socket.send_fds(self.socket, [b"c"], [conn.fileno()])
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process.is_alive() and self.process.pid is not None:
            os.kill(self.process.pid, signal.SIGTERM)  # uvicorn finishes open requests

    def close(self) -> None:
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.socket.close()


def serve_api(host: str, port: int, processes: int, **options: Any) -> None:
    """Serve the API in `processes` processes (1: in this one) until SIGINT or SIGTERM."""
    if processes <= 1 or not hand_off_available():
        uvicorn.run(APP, host=host, port=port, proxy_headers=False, **options)
        return
    listener = listening_socket(host, port)  # here first: a port in use fails at once
    listener.setblocking(False)
    shown = f"[{host}]" if ":" in host else host
    print(f"sohoa: the API on http://{shown}:{port}, {processes} processes", file=sys.stderr)
    context = multiprocessing.get_context("spawn")
    children = [_Process(context, options) for _ in range(processes)]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    turn = 0
    try:
        while not stopping:
            if selector.select(timeout=0.5):
                turn = _hand_waiting(listener, children, turn)
            for i, child in enumerate(children):
                if child.process.is_alive() or stopping:
                    continue
                if time.monotonic() - child.started < MIN_LIFETIME_SECONDS:
                    code = child.process.exitcode
                    raise SystemExit(f"an API process stopped at start (exit {code})")
                child.close()
                children[i] = _Process(context, options)  # died after a while: replace it
    finally:
        selector.close()
        listener.close()
        for child in children:
            child.stop()
        for child in children:
            child.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _hand_waiting(listener: socket.socket, children: list[_Process], turn: int) -> int:
    """Accept every waiting connection and hand each to the next process in turn that takes
    it; the turn to start from next time."""
    while True:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return turn
        except OSError as exc:  # out of file descriptors, say: the connection waits
            log.warning("accepting a connection failed: %s", exc)
            return turn
        with conn:
            for _ in range(len(children)):
                child = children[turn % len(children)]
                turn += 1
                if child.hand(conn):
                    break
            else:
                log.warning("no API process took a connection; it is closed")
