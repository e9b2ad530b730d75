"""Serving stored files over HTTP: validators (ETag, Last-Modified), conditional requests,
single byte ranges, and bounded-memory streaming from either storage backend.

The rules follow RFC 9110: a `Range` the server cannot parse, in another unit, or asking for
several ranges is ignored (the whole file, 200); a well-formed range that does not overlap
the file is 416 with `Content-Range: bytes */size`; `If-None-Match` (weak comparison) wins
over `If-Modified-Since`; `If-Range` must match the strong ETag (or the exact Last-Modified
date) for the range to be honoured.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from store import ObjectStore

#: bytes per chunk sent to the client: memory per download stays at about this much
STREAM_CHUNK = 256 * 1024
#: a Range header longer than this is ignored (no real client sends one)
MAX_RANGE_HEADER = 200

_RANGE = re.compile(r"[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*", re.IGNORECASE)
_ETAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


# --- byte ranges ---------------------------------------------------------------------------


class Unsatisfiable(Exception):
    """A well-formed range that does not overlap the file (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """inclusive, as in `Content-Range`"""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range `header` asks of a file of `size` bytes.

    None means "send the whole file": no header, a malformed or over-long one, another unit,
    several ranges, or a range covering nothing of an empty file. Raises Unsatisfiable for
    a well-formed range starting at or past the end (or a zero-length suffix).
    """
    if not header or len(header) > MAX_RANGE_HEADER:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:  # bad syntax, another unit, or several ranges
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # bytes=-n: the last n bytes
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable
        if size == 0:
            return None
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else None
    if end is not None and end < start:  # invalid range-spec: ignore the header
        return None
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, size - 1 if end is None or end >= size else end)


# --- validators and conditions -------------------------------------------------------------


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def etag_list(header: str | None) -> list[tuple[bool, str]] | None:
    """The entity tags of an If-Match / If-None-Match header as (weak, tag); None for `*`.

    A malformed header yields the tags read before the error (possibly none).
    """
    if header is None:
        return []
    if header.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    pos = 0
    while pos < len(header):
        match = _ETAG.match(header, pos)
        if match is None:
            break
        tags.append((match.group(1) is not None, match.group(2)))
        pos = match.end()
    return tags


def etag_matches(header: str | None, etag: str, *, weak: bool) -> bool:
    """Whether `header` (If-Match/If-None-Match) names `etag`; `weak` chooses the comparison.

    Strong comparison (If-Match, If-Range): neither tag may be weak.
    """
    if header is None:
        return False
    tags = etag_list(header)
    if tags is None:
        return True
    mine_weak = etag.startswith("W/")
    mine = etag.removeprefix("W/")
    return any(tag == mine and (weak or not (w or mine_weak)) for w, tag in tags)


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """True when a GET should be answered 304 (If-None-Match, else If-Modified-Since)."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        return etag_matches(inm, etag, weak=True)
    ims = request.headers.get("if-modified-since")
    if ims is not None and last_modified is not None:
        since = _parse_http_date(ims)
        return since is not None and last_modified.replace(microsecond=0) <= since
    return False


def if_range_allows(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """Whether a Range may be honoured given If-Range (absent: yes)."""
    value = request.headers.get("if-range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return etag_matches(value, etag, weak=False)
    when = _parse_http_date(value)
    return (
        when is not None
        and last_modified is not None
        and last_modified.replace(microsecond=0) == when
    )


def not_modified_response(etag: str, last_modified: datetime | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": PRIVATE}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    return Response(status_code=304, headers=headers)


#: records are access-controlled: no shared cache may keep them; clients revalidate
PRIVATE = "private, no-cache"


# --- file names ----------------------------------------------------------------------------

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._()+\- ]+")


def ascii_filename(name: str, default: str = "download") -> str:
    """An ASCII stand-in for `name`: diacritics dropped (đ → d), anything odd → `_`."""
    name = name.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    plain = _UNSAFE_ASCII.sub("_", plain).strip(" ._")
    return plain[:150] or default


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>` (RFC 6266/5987).

    Control characters, quotes, backslashes and path separators never reach the header.
    """
    kind = "inline" if inline else "attachment"
    clean = "".join(c for c in filename if unicodedata.category(c)[0] != "C")
    clean = clean.replace("/", "_").replace("\\", "_").replace('"', "'").strip()[:200]
    clean = unicodedata.normalize("NFC", clean) or "download"
    fallback = ascii_filename(clean)
    encoded = quote(clean, safe="!#$&+-.^_`|~")
    if encoded == fallback:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


# --- streaming -----------------------------------------------------------------------------


def iter_stream(stream: BinaryIO, length: int) -> Iterator[bytes]:
    """Yield up to `length` bytes of `stream` in chunks; closes it at the end (or when the
    client goes away and the iterator is dropped)."""
    try:
        left = length
        while left > 0:
            chunk = stream.read(min(STREAM_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        stream.close()


@dataclass(frozen=True)
class StoredFile:
    """One object to send, with what the client sees of it."""

    key: str
    media_type: str
    etag: str
    last_modified: datetime | None
    disposition: str | None = None


def serve_object(request: Request, objects: ObjectStore, file: StoredFile) -> Response:
    """Answer a GET for `file`: 304, 206 (one range), 416 or 200, streamed in chunks.

    Raises store.ObjectNotFound when the object is missing (the caller decides the status).
    """
    if not_modified(request, file.etag, file.last_modified):
        return not_modified_response(file.etag, file.last_modified)
    size = objects.size(file.key)
    headers = {
        "ETag": file.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": PRIVATE,
        "X-Content-Type-Options": "nosniff",
    }
    if file.last_modified is not None:
        headers["Last-Modified"] = http_date(file.last_modified)
    if file.disposition:
        headers["Content-Disposition"] = file.disposition
    wanted: ByteRange | None = None
    if if_range_allows(request, file.etag, file.last_modified):
        try:
            wanted = parse_range(request.headers.get("range"), size)
        except Unsatisfiable:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status_code=416, headers=headers)
    if wanted is None:
        stream = objects.open(file.key)
        headers["Content-Length"] = str(size)
        return StreamingResponse(
            iter_stream(stream, size), status_code=200, media_type=file.media_type, headers=headers
        )
    stream = objects.open_range(file.key, wanted.start, wanted.length)
    headers["Content-Range"] = wanted.content_range(size)
    headers["Content-Length"] = str(wanted.length)
    return StreamingResponse(
        iter_stream(stream, wanted.length),
        status_code=206,
        media_type=file.media_type,
        headers=headers,
    )
