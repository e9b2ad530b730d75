"""One shape for every 422: the list of problems FastAPI gives for invalid requests.

A route that finds a problem itself (an unknown unit, a password too short) raises
`HTTPException(422, "message")`; the handler turns the message into the same list, so
clients parse one format and the OpenAPI document tells the truth about it.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


async def _http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 422 and isinstance(exc.detail, str):
        return JSONResponse(
            {"detail": [{"loc": ["request"], "msg": exc.detail, "type": "value_error"}]},
            status_code=422,
            headers=exc.headers,
        )
    # FastAPI's handler is declared to return a Response; it makes a JSONResponse
    return await http_exception_handler(request, exc)  # type: ignore[return-value]


def install_error_handlers(application: FastAPI) -> None:
    # Starlette types handlers for any exception; this one takes its own kind only
    application.add_exception_handler(StarletteHTTPException, _http_exception)  # type: ignore[arg-type]
