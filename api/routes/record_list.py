"""The record list and full-text search: `GET /api/v1/records`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from api.auth import RecordsReader
from api.deps import ServicesDep
from schemas.listing import RecordList
from schemas.record import Status
from schemas.vocab import document_types
from store.records.listing import (
    MAX_LIMIT,
    RecordFilters,
    list_page_json,
    search_page_json,
)
from store.search.query import MAX_QUERY_CHARS

router = APIRouter(prefix="/api/v1", tags=["records"])

#: values one filter may be given at most
MAX_VALUES = 50


@router.get("/records", response_model=RecordList)
async def list_records_route(
    svc: ServicesDep,
    principal: RecordsReader,
    unit: Annotated[list[str] | None, Query(description="Unit code; repeat for several")] = None,
    dossier: Annotated[
        list[str] | None,
        Query(max_length=100, description="Dossier code (mã hồ sơ); repeat for several"),
    ] = None,
    doc_type: Annotated[
        list[str] | None, Query(alias="type", description="Document type code, e.g. ke_hoach")
    ] = None,
    status: Annotated[list[Status] | None, Query(description="State; repeat for several")] = None,
    issued_from: Annotated[date | None, Query(description="Issued on or after")] = None,
    issued_to: Annotated[date | None, Query(description="Issued on or before")] = None,
    updated_since: Annotated[
        datetime | None,
        Query(description="Changed at or after this instant (ISO 8601; UTC when no offset)"),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_CHARS,
            description="Words to find in the text and metadata, diacritics and case ignored; "
            '"quoted words" form a phrase',
        ),
    ] = None,
    order: Annotated[
        Literal["asc", "desc"],
        Query(description="Without q: by last change, oldest (asc) or newest (desc) first"),
    ] = "asc",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="`next_cursor` of the previous page")
    ] = None,
) -> Response:
    """Records the caller may see, a page at a time; their metadata, not their text.

    **Paging.** Pass `next_cursor` back as `cursor`, with the same filters, until it is null.
    Without `q` the order is the last change, `(updated_at, id)`, and the cursor is a keyset
    position, so records added or changed meanwhile are never skipped: they come later, with
    their new `updated_at` (a changed record you already saw comes again, with its new
    `version`).

    **Sync.** Page with `updated_since` = the largest `updated_at` you received last time
    (inclusive) minus a minute, to be safe against transactions committing while you read;
    records are recognised by `id` and `version`.

    **Search.** With `q`, every word must be found in the text or the metadata (number,
    type, subject, issuer, signer, file name, dossier), ignoring diacritics and case
    (`quyet dinh` finds `Quyết định`). `"quoted words"`, and words joined by punctuation
    like `kh-ubnd`, must be consecutive. The newest matches are ranked together in blocks of
    100: records with the query's words in exactly the diacritics typed first, then records
    where the words are in the metadata, then the newest. Each item has up to three
    `snippets` with the page number and the words found in `<mark>`. A `q` longer than
    500 characters is refused; beyond 16 words the rest is ignored; a `q` with no letter or
    digit finds nothing. Only digitized and needs_review records can be found by `q`.
    """
    for name, values in (
        ("unit", unit), ("dossier", dossier), ("type", doc_type), ("status", status),
    ):  # fmt: skip
        if values and len(values) > MAX_VALUES:
            raise HTTPException(422, f"Quá nhiều giá trị cho {name} (tối đa {MAX_VALUES})")
    unknown = sorted(set(doc_type or ()) - set(document_types()))
    if unknown:
        raise HTTPException(422, f"Loại văn bản không tồn tại: {', '.join(unknown)}")
    if issued_from and issued_to and issued_from > issued_to:
        raise HTTPException(422, "issued_from phải trước hoặc bằng issued_to")
    if updated_since is not None:
        if updated_since.tzinfo is None:
            updated_since = updated_since.replace(tzinfo=UTC)
        try:  # 0001-01-01T00:00:00+14:00 is a valid ISO date-time with no UTC equivalent
            updated_since = updated_since.astimezone(UTC)
        except OverflowError:
            raise HTTPException(
                422, "updated_since nằm ngoài khoảng thời gian hợp lệ (out of range)"
            ) from None
    filters = RecordFilters(
        units=tuple(unit or ()),
        dossiers=tuple(dossier or ()),
        types=tuple(doc_type or ()),
        statuses=tuple(status or ()),
        issued_from=issued_from,
        issued_to=issued_to,
        updated_since=updated_since,
    )
    if q and q.strip():  # (blank: the list)
        body = await search_page_json(
            svc.async_search, principal, filters, q, limit=limit, cursor=cursor
        )
    else:  # an invalid cursor: InvalidCursor, answered 422 (api/errors.py)
        body = await list_page_json(
            svc.async_reads, principal, filters, order=order, limit=limit, cursor=cursor
        )
    # validated against RecordList already (which the OpenAPI document declares): FastAPI
    # need not validate and serialize it again
    return Response(body, media_type="application/json")
