"""Errors in one place: each domain exception the API lets rise has one answer."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.errors import answer, install_error_handlers, respond
from api.uploads import UploadError
from ocr.errors import ExtractionError
from schemas.errors import ErrorCode
from store.accounts.auth import AccountExists, AuthError, NoSuchAccount
from store.planning.plans import PlanError
from store.platform.steps import WriteRefused
from store.platform.storage_errors import ObjectNotFound, StorageUnavailable
from store.records.corrections import StaleVersion
from store.records.listing import InvalidCursor
from store.records.review import NotInReview
from store.webhooks.outbox import ReplayRefused

CASES = [
    (ObjectNotFound("k"), 404, "object_missing"),
    (StorageUnavailable("down"), 503, "storage_unavailable"),
    (OperationalError("SELECT 1", {}, Exception("gone")), 503, "database_unavailable"),
    (WriteRefused("no"), 503, "audit_refused"),
    (StaleVersion("version 3, not 2"), 412, "stale_version"),
    (NotInReview("digitized"), 409, "not_in_review"),
    (ExtractionError(ErrorCode.corrupt_pdf, "bad"), 409, "page_unrenderable"),
    (AuthError("a password has at least 8 characters"), 422, None),
    (AccountExists("user 'an' exists"), 409, "account_exists"),
    (NoSuchAccount("no user 'an'"), 404, "no_such_account"),
    (PlanError("bad year"), 422, None),
    (InvalidCursor("garbled"), 422, None),
    (ReplayRefused("pending"), 409, "replay_refused"),
    (UploadError(415, "not multipart"), 415, "upload_refused"),
    (UploadError(503, "storage down"), 503, "upload_refused"),
]


@pytest.mark.parametrize(("exc", "status", "code"), CASES, ids=lambda v: type(v).__name__)
def test_each_kind_has_one_answer(exc: Exception, status: int, code: str | None) -> None:
    response = respond(exc)
    body = json.loads(bytes(response.body))
    assert response.status_code == status
    assert (response.headers.get("retry-after") == "30") == (status == 503)
    if status == 422:  # the shape FastAPI gives invalid requests
        (problem,) = body["detail"]
        assert problem["loc"] == ["request"] and problem["type"] == "value_error"
        assert str(exc) in problem["msg"]
    else:
        assert body["code"] == code
        assert body["detail"] and body["detail"] == answer(exc).message


def test_a_subclass_gets_its_own_answer_not_its_parents() -> None:
    assert answer(AccountExists("x")).status == 409
    assert answer(NoSuchAccount("x")).status == 404
    assert answer(AuthError("x")).status == 422
    assert str(NoSuchAccount("no user 'x'")) == "no user 'x'"  # not quoted as a KeyError is


def test_a_route_that_lets_a_domain_error_rise_gets_its_answer() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    def down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    @app.get("/stale")
    def stale() -> None:
        raise StaleVersion("If-Match does not match the record's ETag")

    client = TestClient(app, raise_server_exceptions=False)
    down_answer = client.get("/down")
    assert down_answer.status_code == 503 and down_answer.headers["retry-after"] == "30"
    assert down_answer.json()["code"] == "database_unavailable"
    assert "connection refused" not in down_answer.text  # the cause stays in the log
    stale_answer = client.get("/stale")
    assert stale_answer.status_code == 412 and stale_answer.json()["code"] == "stale_version"
