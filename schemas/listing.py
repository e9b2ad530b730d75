"""The record list of `GET /api/v1/records`: metadata of each record, never its full text."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.record import DocumentInfo, RecordError, Status


class Snippet(BaseModel):
    page: int = Field(ge=1, description="Page the piece of text is from")
    text: str = Field(
        description="HTML: the page's text escaped, the words found in <mark>…</mark>"
    )


class RecordListItem(BaseModel):
    id: str
    status: Status
    unit: str | None = None
    batch_id: str | None = None
    dossier: str | None = None
    filename: str
    media_type: str | None = None
    size: int
    pages: int | None = Field(default=None, description="Page count; null while unknown")
    document: DocumentInfo
    error: RecordError | None = None
    version: int = Field(description="Increases with every change of the record")
    created_at: datetime
    updated_at: datetime
    digitized_at: datetime | None = None
    snippets: list[Snippet] | None = Field(
        default=None,
        description="With `q`: where the words are in the text, best first (at most 3); "
        "null without `q`",
    )


class RecordList(BaseModel):
    items: list[RecordListItem]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page"
    )
