"""Errors in one place: every domain exception the API lets through becomes its answer here.

A route does its work and lets the domain's exceptions rise; `answer` says, for each kind,
the HTTP status, a stable code, the message people read (Vietnamese first, then English) and,
for what is worth retrying, `Retry-After`. The same exception gets the same answer from every
route. A route catches an exception itself only where the answer depends on the route (an
hOCR file that is missing means "no words", not 404).

Shapes of the body:
- 422: the list of problems FastAPI gives for invalid requests (`{"detail": [{"loc", "msg",
  "type"}]}`), whether the problem is found by validation, by a route
  (`HTTPException(422, "message")`) or by the domain, so clients parse one format and the
  OpenAPI document tells the truth about it;
- any other status: `{"detail": message, "code": code}`.

A read whose audit line the database refuses (`WriteRefused`) is not answered: 503, to be
retried, rather than a record handed out with no trace of who read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import singledispatch

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.uploads import UploadError
from ocr.errors import ExtractionError
from store.accounts.auth import AccountExists, AuthError, NoSuchAccount
from store.dossiers.placement import BadPlacement, NoSuchDossierHere, OrdinalTaken
from store.planning.plans import PlanError
from store.platform.steps import WriteRefused
from store.platform.storage_errors import ObjectNotFound, StorageUnavailable
from store.records.corrections import StaleVersion
from store.records.listing import InvalidCursor
from store.records.review import NotInReview
from store.webhooks.outbox import ReplayRefused

log = logging.getLogger(__name__)

#: seconds a client is asked to wait before retrying what is down for now
RETRY_AFTER = 30

#: what a client is told when a read could not be audited
AUDIT_REFUSED = (
    "Không ghi được nhật ký truy cập; hãy thử lại sau. "
    "The read could not be written to the audit log; retry later."
)


@dataclass(frozen=True)
class Answer:
    """What the client is told about one error."""

    status: int
    code: str
    message: str
    retry_after: int | None = None


@singledispatch
def answer(exc: Exception) -> Answer:
    """The answer to a domain exception; registered below for each kind the API lets rise."""
    raise TypeError(f"no answer for {type(exc).__name__}")  # only registered kinds reach here


@answer.register
def _(exc: ObjectNotFound) -> Answer:
    return Answer(
        404,
        "object_missing",
        "Không tìm thấy tệp trong kho lưu trữ. The file is missing from object storage.",
    )


@answer.register
def _(exc: StorageUnavailable) -> Answer:
    return Answer(
        503,
        "storage_unavailable",
        "Kho lưu trữ tạm thời không truy cập được. Object storage is unavailable; retry later.",
        RETRY_AFTER,
    )


@answer.register
def _(exc: OperationalError) -> Answer:
    log.warning("database unavailable: %s", exc.orig if exc.orig is not None else exc)
    return Answer(
        503,
        "database_unavailable",
        "Cơ sở dữ liệu tạm thời không truy cập được. The database is unavailable; retry later.",
        RETRY_AFTER,
    )


@answer.register
def _(exc: WriteRefused) -> Answer:
    log.error("audit line of a read refused: %s", exc)
    return Answer(503, "audit_refused", AUDIT_REFUSED, RETRY_AFTER)


@answer.register
def _(exc: StaleVersion) -> Answer:
    return Answer(
        412,
        "stale_version",
        "Tài liệu đã bị sửa bởi người khác; hãy tải lại. "
        f"The record changed since you read it; GET it again ({exc}).",
    )


@answer.register
def _(exc: NotInReview) -> Answer:
    return Answer(
        409,
        "not_in_review",
        f"Tài liệu không chờ kiểm tra (trạng thái: {exc.status}). "
        f"The record does not wait for review (status: {exc.status}).",
    )


@answer.register
def _(exc: ExtractionError) -> Answer:
    log.warning("a stored file cannot be rendered: %s", exc)
    return Answer(
        409, "page_unrenderable", "Không hiển thị được trang này. The page cannot be rendered."
    )


@answer.register
def _(exc: AuthError) -> Answer:
    return Answer(422, "account_invalid", f"Thông tin tài khoản không hợp lệ: {exc}")


@answer.register
def _(exc: AccountExists) -> Answer:
    return Answer(409, "account_exists", f"Tài khoản đã có. The account exists: {exc}")


@answer.register
def _(exc: NoSuchAccount) -> Answer:
    return Answer(404, "no_such_account", f"Không có tài khoản này. {exc}")


@answer.register
def _(exc: PlanError) -> Answer:
    return Answer(422, "plan_invalid", f"Kế hoạch không hợp lệ: {exc}")


@answer.register
def _(exc: InvalidCursor) -> Answer:
    return Answer(422, "invalid_cursor", f"Con trỏ phân trang không hợp lệ: {exc}")


@answer.register
def _(exc: ReplayRefused) -> Answer:
    return Answer(409, "replay_refused", f"Không gửi lại được. {exc}")


@answer.register
def _(exc: UploadError) -> Answer:
    retry = RETRY_AFTER if exc.status == 503 else None
    return Answer(exc.status, "upload_refused", exc.detail, retry)


@answer.register
def _(exc: NoSuchDossierHere) -> Answer:
    return Answer(404, "no_such_dossier", f"Không có hồ sơ này. No such dossier: {exc.file_code}")


@answer.register
def _(exc: OrdinalTaken) -> Answer:
    return Answer(
        409,
        "ordinal_taken",
        f"Số thứ tự {exc.ordinal} đã có tài liệu khác trong hồ sơ {exc.file_code}. {exc}",
    )


@answer.register
def _(exc: BadPlacement) -> Answer:
    return Answer(422, "placement_invalid", f"Không xếp được tài liệu vào hồ sơ: {exc}")


def respond(exc: Exception) -> JSONResponse:
    """The response for `exc`, a kind `answer` knows."""
    said = answer(exc)
    headers = {"Retry-After": str(said.retry_after)} if said.retry_after is not None else None
    if said.status == 422:
        body: object = {
            "detail": [{"loc": ["request"], "msg": said.message, "type": "value_error"}]
        }
    else:
        body = {"detail": said.message, "code": said.code}
    return JSONResponse(body, status_code=said.status, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    return respond(exc)


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
    for kind in answer.registry:
        if kind is not object:
            application.add_exception_handler(kind, _domain_error)
