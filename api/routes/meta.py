"""What a client needs to know about the service itself: the units, the record's JSON Schema."""

from __future__ import annotations

import hashlib
from functools import cache

from fastapi import APIRouter, Request, Response

from api.auth import Caller
from api.deps import SessionDep
from api.downloads import etag_matches
from schemas.jsonschema import SCHEMA_PATH
from schemas.unit import Unit
from store.accounts.units import list_units

router = APIRouter(prefix="/api/v1", tags=["meta"])

SCHEMA_MEDIA_TYPE = "application/schema+json"


@cache
def _schema_bytes() -> tuple[bytes, str]:
    """The committed schema (a test keeps it equal to the models) and its ETag."""
    data = SCHEMA_PATH.read_bytes()
    return data, f'"{hashlib.sha256(data).hexdigest()[:32]}"'


@router.get("/units", response_model=list[Unit])
def get_units(session: SessionDep, principal: Caller) -> list[Unit]:
    """The units (fonds) records belong to: code, name, kind, parent, validity."""
    return list_units(session)


@router.get(
    "/schemas/record.json",
    response_class=Response,
    responses={
        200: {"content": {SCHEMA_MEDIA_TYPE: {}}, "description": "JSON Schema (2020-12)"},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
def get_record_schema(request: Request, principal: Caller) -> Response:
    """The JSON Schema of the record, generated from the models in schemas/."""
    data, etag = _schema_bytes()
    headers = {"ETag": etag, "Cache-Control": "private, max-age=3600"}
    if etag_matches(request.headers.get("if-none-match"), etag, weak=True):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=SCHEMA_MEDIA_TYPE, headers=headers)
