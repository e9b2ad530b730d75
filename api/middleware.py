"""What every request goes through before a route: the client's real address, and a body
that must keep arriving.

Both read the settings of the services in use at each request (tests and the embedded
defaults change them without rebuilding the application).
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from store.services import services

Scope = dict[str, Any]
Message = dict[str, Any]


class TrustedProxies:
    """X-Forwarded-For and -Proto believed only from `SOHOA_TRUSTED_PROXIES`.

    uvicorn's own middleware does the reading: the client is the right-most hop that is not
    a trusted proxy, so an address a client writes into the header itself is never taken
    (it is left of the proxy's own entry). The servers run with uvicorn's proxy headers off,
    so its `FORWARDED_ALLOW_IPS` (and its `*`) plays no part.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._by_setting: dict[str, ProxyHeadersMiddleware] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        trusted = services().settings.trusted_proxies
        reader = self._by_setting.get(trusted)
        if reader is None:
            reader = self._by_setting[trusted] = ProxyHeadersMiddleware(self.app, trusted)
        # uvicorn types the ASGI callables with its own TypedDicts; these are the same
        await reader(scope, receive, send)  # type: ignore[arg-type]


class BodyTimedOut(Exception):
    """The request body stopped arriving, or arrives too slowly to be an honest client."""


class BodyTimeout:
    """A request body that pauses longer than `body_idle_timeout`, or averages less than
    `body_min_rate` bytes a second once it has taken longer than that, is cut off: 408 and
    the connection closed. uvicorn bounds the wait for a request's headers, not for its
    body; without this, a client trickling a byte now and then holds a connection and an
    upload's temporary file for ever.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = services().settings
        idle, min_rate = settings.body_idle_timeout, settings.body_min_rate
        started = time.monotonic()
        received = 0
        more = True
        answered = False

        async def timed_receive() -> Message:
            nonlocal received, more
            if not more:  # the body is in: what follows is a disconnect, however late
                message: Message = await receive()
                return message
            wait: float = idle
            if min_rate:
                behind_at = idle + received / min_rate  # when the average falls too low
                wait = min(wait, behind_at - (time.monotonic() - started))
            if wait <= 0:
                raise BodyTimedOut("the request body arrives too slowly")
            with anyio.move_on_after(wait) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise BodyTimedOut(f"no part of the request body for {wait:.0f} s")
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                more = bool(message.get("more_body", False))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except Exception as exc:
            if not _caused_by_timeout(exc) or answered:
                raise
            await _request_timeout(send)


def _caused_by_timeout(exc: BaseException) -> bool:
    if isinstance(exc, BodyTimedOut):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_caused_by_timeout(e) for e in exc.exceptions)
    return _caused_by_timeout(exc.__cause__) if exc.__cause__ is not None else False


async def _request_timeout(send: Any) -> None:
    body = json.dumps(
        {
            "detail": "Gửi nội dung yêu cầu quá chậm hoặc bị ngừng. "
            "The request body stalled or arrived too slowly."
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
