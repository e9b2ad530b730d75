"""Range parsing, entity-tag comparison, conditional headers and Content-Disposition."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from starlette.requests import Request

from api.downloads import (
    ByteRange,
    Unsatisfiable,
    ascii_filename,
    content_disposition,
    etag_list,
    etag_matches,
    http_date,
    if_range_allows,
    not_modified,
    parse_range,
)

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=500-", ByteRange(500, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),  # a suffix longer than the file: all of it
        ("bytes=990-5000", ByteRange(990, 999)),  # cut at the end
        ("bytes=999-999", ByteRange(999, 999)),
        ("Bytes = 10 - 20", ByteRange(10, 20)),  # unit is case-insensitive, spaces allowed
        ("bytes=0-" + "9" * 40, ByteRange(0, 999)),
    ],
)
def test_satisfiable_ranges(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=5-1",  # last before first: an invalid range-spec, ignored
        "bytes=0-1,5-6",  # several ranges: the whole file
        "bytes=-5-10",
        "bytes=1.5-2",
        "items=0-10",
        "bytes 0-10",
        "bytes=0-10\r\nX: y",
        "bytes=" + "1" * 300 + "-",  # absurdly long
        "bytes=０-１",  # fullwidth digits
    ],
)
def test_ignored_ranges(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=" + "9" * 30 + "-"]
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, SIZE)


def test_empty_file() -> None:
    assert parse_range("bytes=-10", 0) is None  # nothing to cut: the (empty) whole
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=0-", 0)


def test_content_range() -> None:
    assert ByteRange(0, 99).content_range(SIZE) == "bytes 0-99/1000"
    assert ByteRange(0, 99).length == 100


def test_etag_lists_and_comparison() -> None:
    assert etag_list('"a", W/"b" ,"c"') == [(False, '"a"'), (True, '"b"'), (False, '"c"')]
    assert etag_list("*") is None
    assert etag_list("garbage") == []
    assert etag_list('"a", garbage, "b"') == [(False, '"a"')]
    assert etag_matches('"x", "a"', '"a"', weak=False)
    assert etag_matches('W/"a"', '"a"', weak=True)
    assert not etag_matches('W/"a"', '"a"', weak=False)  # If-Match: strong comparison
    assert not etag_matches('"a"', 'W/"a"', weak=False)
    assert etag_matches("*", '"anything"', weak=False)
    assert not etag_matches(None, '"a"', weak=True)
    assert not etag_matches('"ab"', '"a"', weak=True)


def _request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


MODIFIED = datetime(2025, 7, 1, 8, 30, 15, 123456, tzinfo=UTC)


def test_conditional_get() -> None:
    assert not not_modified(_request(), '"a"', MODIFIED)
    assert not_modified(_request(if_none_match='"a"'), '"a"', MODIFIED)
    # If-None-Match wins over If-Modified-Since.
    late = http_date(MODIFIED.replace(year=2030))
    assert not not_modified(_request(if_none_match='"b"', if_modified_since=late), '"a"', MODIFIED)
    assert not_modified(_request(if_modified_since=http_date(MODIFIED)), '"a"', MODIFIED)
    early = http_date(MODIFIED.replace(year=2020))
    assert not not_modified(_request(if_modified_since=early), '"a"', MODIFIED)
    assert not not_modified(_request(if_modified_since="yesterday"), '"a"', MODIFIED)
    assert not not_modified(_request(if_modified_since=late), '"a"', None)


def test_if_range() -> None:
    assert if_range_allows(_request(), '"a"', MODIFIED)
    assert if_range_allows(_request(if_range='"a"'), '"a"', MODIFIED)
    assert not if_range_allows(_request(if_range='"b"'), '"a"', MODIFIED)
    assert not if_range_allows(_request(if_range='W/"a"'), '"a"', MODIFIED)
    assert if_range_allows(_request(if_range=http_date(MODIFIED)), '"a"', MODIFIED)
    assert not if_range_allows(
        _request(if_range=http_date(MODIFIED.replace(year=2020))), '"a"', MODIFIED
    )
    assert not if_range_allows(_request(if_range="not a date"), '"a"', MODIFIED)


def test_http_date() -> None:
    assert http_date(MODIFIED) == "Tue, 01 Jul 2025 08:30:15 GMT"


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("Công văn số 12.pdf", "Cong van so 12.pdf"),
        ("Đề án Đô thị.tif", "De an Do thi.tif"),
        ("QUYẾT ĐỊNH 86/QĐ-UBND.pdf", "QUYET DINH 86_QD-UBND.pdf"),
        ("文件.pdf", "pdf"),
        ("...", "download"),
        ("", "download"),
        ('a"b;c.pdf', "a_b_c.pdf"),
    ],
)
def test_ascii_filename(name: str, fallback: str) -> None:
    assert ascii_filename(name) == fallback


def test_content_disposition_vietnamese() -> None:
    value = content_disposition("Kế hoạch 251 (bản gốc).pdf")
    assert value.startswith('attachment; filename="Ke hoach 251 (ban goc).pdf"; ')
    encoded = value.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "Kế hoạch 251 (bản gốc).pdf"
    assert " " not in encoded and "(" not in encoded
    value.encode("ascii")


def test_content_disposition_plain_and_hostile() -> None:
    assert content_disposition("cv.pdf", inline=True) == 'inline; filename="cv.pdf"'
    hostile = content_disposition('x"\r\nSet-Cookie: a=b\\..\\/etc/passwd\x00.pdf')
    assert "\r" not in hostile and "\n" not in hostile and "\x00" not in hostile
    fallback = hostile.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in fallback and "\\" not in fallback and '"' not in fallback
    assert unquote(hostile.split("filename*=UTF-8''", 1)[1]).count("/") == 0
    assert content_disposition("\x00\x01") == 'attachment; filename="download"'
    long = content_disposition("á" * 5000 + ".pdf")
    assert len(long) < 2000
