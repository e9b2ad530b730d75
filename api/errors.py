"""One shape for every 422: the list of problems FastAPI gives for invalid requests.

A route that finds a problem itself (an unknown unit, a password too short) raises
`HTTPException(422, "message")`; the handler turns the message into the same list, so
clients parse one format and the OpenAPI document tells the truth about it.

A read whose audit line the database refuses (`store.platform.steps.WriteRefused`) is not answered:
503, to be retried, rather than a record handed out with no trace of who read it.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from store.platform.steps import WriteRefused

log = logging.getLogger(__name__)

#: what a client is told when a read could not be audited
AUDIT_REFUSED = (
    "Không ghi được nhật ký truy cập; hãy thử lại sau. "
    "The read could not be written to the audit log; retry later."
)


async def _http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 422 and isinstance(exc.detail, str):
        return JSONResponse(
            {"detail": [{"loc": ["request"], "msg": exc.detail, "type": "value_error"}]},
            status_code=422,
            headers=exc.headers,
        )
    # FastAPI's handler is declared to return a Response; it makes a JSONResponse
    return await http_exception_handler(request, exc)  # type: ignore[return-value]


async def _write_refused(request: Request, exc: WriteRefused) -> JSONResponse:
    log.error("audit line of a read refused (%s %s): %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": AUDIT_REFUSED}, status_code=503, headers={"Retry-After": "30"})


def install_error_handlers(application: FastAPI) -> None:
    # Starlette types handlers for any exception; each of these takes its own kind only
    application.add_exception_handler(StarletteHTTPException, _http_exception)  # type: ignore[arg-type]
    application.add_exception_handler(WriteRefused, _write_refused)  # type: ignore[arg-type]  # as above
