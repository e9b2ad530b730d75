"""Page images and recognised words of a record, for the web pages; accepting a reviewed record.

`GET /records/{id}/pages/{n}.png` renders page n of the searchable PDF (the original when
there is none) at about 110 dpi; `GET /records/{id}/pages/{n}/words` lists the words OCR
found on it with boxes as fractions of the page (0–1), so a page shown at any size can
highlight them. Both follow the visibility rule of every record route: a record the caller
may not see answers exactly like one that does not exist.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi import status as http
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import BaseModel, Field

from api.auth import RecordsReader, require
from api.deps import ServicesDep
from api.downloads import etag_matches
from api.record_access import (
    NOT_FOUND,
    document_to_change,
    record_etag,
    refresh_quietly,
    visible_document,
)
from ocr import parse_hocr
from ocr.sniff import PDF
from ocr.sources import open_source
from schemas.auth import Principal, Scope
from schemas.record import Record, Status
from store import ObjectNotFound, original_key, unit_of_work
from store.platform.models import DocumentRow, PageRow
from store.records.documents import pages_of
from store.records.reads import build_record
from store.records.review import accept_document
from store.services import Services
from worker.pipeline import hocr_key, record_key

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["records"])

#: resolution of a page image: a full A4 page fits a 1366×768 screen's width at a glance
PAGE_DPI = 110
#: a page never renders larger than this many pixels on its long side (maps, posters)
MAX_SIDE = 2200
#: pixel budget of a rendered PDF page before it is scaled down
RENDER_MAX_PIXELS = MAX_SIDE * MAX_SIDE
#: page numbers above this are refused before touching the database
MAX_PAGE_NUMBER = 100_000
#: how long a browser may reuse a page image or its words without asking again
PAGE_MAX_AGE = 600
_HAS_CONTENT = (Status.digitized.value, Status.needs_review.value)

RecordsCorrector = Annotated[Principal, Depends(require(Scope.records_read, Scope.records_write))]
PageNumber = Annotated[int, PathParam(ge=1, le=MAX_PAGE_NUMBER, description="1-based page")]

_NOT_FOUND_DOC: dict[str, Any] = {
    "description": "No such record or page, or not visible to the caller (same answer)"
}
_NOT_READY_DOC: dict[str, Any] = {"description": "The record has no pages to show (yet)"}


# --- shared --------------------------------------------------------------------------------


def _not_found() -> HTTPException:
    return HTTPException(http.HTTP_404_NOT_FOUND, NOT_FOUND)


def _with_pages(doc: DocumentRow) -> None:
    """Only a digitized record (or one waiting for review) has pages to show."""
    if doc.status not in _HAS_CONTENT:
        raise HTTPException(
            http.HTTP_409_CONFLICT,
            f"Tài liệu chưa có trang để xem (trạng thái: {doc.status}). "
            f"The record has no pages to show (status: {doc.status}).",
        )


def _micros(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def _cache_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": f"private, max-age={PAGE_MAX_AGE}"}


# --- rendering -----------------------------------------------------------------------------

#: pdfium is not thread-safe, and FastAPI runs these routes on a thread pool
_RENDER_LOCK = threading.Lock()


#: the most recently rendered page images, bounded by their total size (48 MiB)
_png_cache: LRUCache[str, bytes] = LRUCache(48 * 2**20, getsizeof=len)
_png_cache_lock = threading.Lock()


@contextlib.contextmanager
def _local_copy(svc: Services, key: str) -> Iterator[Path]:
    """A local file of the object: the folder backend's own, or a temporary download."""
    path = svc.objects.local_path(key)
    if path is not None:
        if not path.exists():
            raise ObjectNotFound(key)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sohoa-page-") as tmp:
        local = Path(tmp) / "file"
        svc.objects.download(key, local)
        yield local


def _fit(image: Image.Image, dpi: float) -> Image.Image:
    """Scale to PAGE_DPI (an image source comes at its own resolution), long side capped."""
    scale = min(1.0, PAGE_DPI / dpi) if dpi > 0 else 1.0
    scale = min(scale, MAX_SIDE / max(image.size))
    if scale < 0.999:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def render_page(svc: Services, doc: DocumentRow, number: int) -> bytes:
    """PNG of page `number`: from the searchable PDF, or from the original without one."""
    key, media_type = record_key(doc.id, "searchable.pdf"), PDF
    if not svc.objects.exists(key):
        key, media_type = original_key(doc.sha256), doc.media_type or ""
    max_pixels = RENDER_MAX_PIXELS if media_type == PDF else svc.settings.max_image_pixels
    with _local_copy(svc, key) as path, _RENDER_LOCK:
        source = open_source(
            path,
            media_type,
            max_pages=max(number, doc.page_count or 1, svc.settings.max_pages),
            max_pixels=max_pixels,
        )
        with source:
            if number > source.page_count:
                raise _not_found()
            page = source.render(number, PAGE_DPI)
        image = _fit(page.image, page.dpi)
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=6)
    return out.getvalue()


@router.get(
    "/records/{record_id}/pages/{n}.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The page as an image (~110 dpi)"},
        304: {"description": "Not modified (If-None-Match)"},
        404: _NOT_FOUND_DOC,
        409: _NOT_READY_DOC,
        503: {"description": "Object storage unavailable; retry later"},
    },
)
def get_page_image(
    record_id: str, n: PageNumber, request: Request, svc: ServicesDep, principal: RecordsReader
) -> Response:
    """Page `n` as a PNG of about 110 dpi (at most 2200 pixels on its long side)."""
    with unit_of_work(svc.sessions) as session:
        doc = visible_document(session, principal, record_id)
        _with_pages(doc)
        if doc.page_count is not None and n > doc.page_count:
            raise _not_found()
        session.expunge(doc)
    etag = f'"{doc.id}-p{n}-{_micros(doc.digitized_at)}"'
    headers = _cache_headers(etag)
    if etag_matches(request.headers.get("if-none-match"), etag, weak=True):
        return Response(status_code=http.HTTP_304_NOT_MODIFIED, headers=headers)
    with _png_cache_lock:
        data = _png_cache.get(etag)
    if data is None:
        data = render_page(svc, doc, n)  # storage and rendering errors: api/errors.py
        if len(data) <= _png_cache.maxsize // 4:  # one huge page must not empty the cache
            with _png_cache_lock:
                _png_cache[etag] = data
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(data, media_type="image/png", headers=headers)


# --- words ---------------------------------------------------------------------------------


class PageWord(BaseModel):
    text: str
    bbox: tuple[float, float, float, float] = Field(
        description="x0, y0, x1, y1 as fractions (0–1) of the page's width and height, "
        "from the top left corner"
    )
    confidence: float | None = Field(default=None, description="OCR confidence 0–1")
    line: int = Field(description="Index of the line the word is on, in reading order")


def page_words(hocr: bytes | str) -> list[PageWord]:
    """The words of a page's hOCR with their boxes normalized to the page size."""
    page = parse_hocr(hocr)
    width, height = float(page.width), float(page.height)

    def clamp(value: float) -> float:
        return round(min(1.0, max(0.0, value)), 5)

    words = []
    for index, line in enumerate(page.lines):
        for word in line.words:
            text = word.text.strip()
            if not text:
                continue
            x0, y0, x1, y1 = word.bbox
            words.append(
                PageWord(
                    text=text,
                    bbox=(clamp(x0 / width), clamp(y0 / height), clamp(x1 / width),
                          clamp(y1 / height)),
                    confidence=word.confidence,
                    line=index,
                )
            )  # fmt: skip
    return words


@router.get(
    "/records/{record_id}/pages/{n}/words",
    response_model=list[PageWord],
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        404: _NOT_FOUND_DOC,
        409: _NOT_READY_DOC,
    },
)
def get_page_words(
    record_id: str, n: PageNumber, request: Request, svc: ServicesDep, principal: RecordsReader
) -> Response:
    """The words OCR recognised on page `n`, with boxes as fractions of the page.

    A page whose text came from the PDF's own text layer was not OCR'd: an empty list.
    """
    with unit_of_work(svc.sessions) as session:
        doc = visible_document(session, principal, record_id)
        _with_pages(doc)
        page = session.get(PageRow, (doc.id, n))
        if page is None:
            raise _not_found()
        has_hocr, digitized_at = page.has_hocr, doc.digitized_at
    etag = f'"{record_id}-w{n}-{_micros(digitized_at)}"'
    headers = _cache_headers(etag)
    if etag_matches(request.headers.get("if-none-match"), etag, weak=True):
        return Response(status_code=http.HTTP_304_NOT_MODIFIED, headers=headers)
    words: list[PageWord] = []
    if has_hocr:
        try:
            words = page_words(svc.objects.get_bytes(hocr_key(record_id, n)))
        except ObjectNotFound:
            log.warning("hOCR of page %s of %s is missing", n, record_id)
        except ValueError as exc:
            log.warning("hOCR of page %s of %s cannot be read: %s", n, record_id, exc)
    return JSONResponse([w.model_dump(mode="json") for w in words], headers=headers)


# --- review --------------------------------------------------------------------------------


@router.post(
    "/records/{record_id}/accept",
    response_model=Record,
    responses={
        404: {"description": "No such record, or not visible to the caller (same answer)"},
        409: {"description": "The record does not wait for review"},
        412: {"description": "If-Match does not match the record's current ETag"},
    },
)
def accept_record(
    record_id: str, request: Request, svc: ServicesDep, principal: RecordsCorrector
) -> Response:
    """A reviewer checked the record and found it right as read: needs_review → digitized.

    Audited (`document.accept`), versioned (the ETag changes) and announced as
    `record.updated`. Send `If-Match` with the ETag you reviewed: a record changed since
    answers 412. To change fields, PATCH the record instead (that also ends the review).
    """
    with unit_of_work(svc.sessions) as session:
        doc = document_to_change(session, principal, record_id, request.headers.get("if-match"))
        if not principal.may_use_unit(doc.unit_code):
            raise _not_found()
        doc = accept_document(
            session, record_id, actor=principal.actor, expected_version=doc.version
        )
        record = build_record(doc, list(pages_of(session, record_id)))
        etag = record_etag(doc)
    refresh_quietly(svc, record_id)
    return JSONResponse(
        record.model_dump(mode="json"),
        headers={"ETag": etag, "Cache-Control": "private, no-cache"},
    )
