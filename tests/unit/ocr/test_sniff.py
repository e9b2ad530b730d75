"""The real type comes from the bytes, never the name."""

from __future__ import annotations

import pytest

from ocr import ExtractionError, sniff
from schemas import ErrorCode


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\x00\x00junk before %PDF-1.4\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"II+\x00\x08\x00\x00\x00", "image/tiff"),  # BigTIFF
    ],
)
def test_known_types(head: bytes, expected: str) -> None:
    assert sniff(head) == expected


@pytest.mark.parametrize(
    ("head", "hint"),
    [
        (b"PK\x03\x04\x14\x00", "ZIP or Office"),
        (b"GIF89a", "GIF"),
        (b"hello, world", "first bytes"),
    ],
)
def test_unsupported_types_are_named(head: bytes, hint: str) -> None:
    with pytest.raises(ExtractionError) as err:
        sniff(head)
    assert err.value.code is ErrorCode.unsupported_type
    assert hint in err.value.message


def test_empty_file() -> None:
    with pytest.raises(ExtractionError) as err:
        sniff(b"")
    assert err.value.code is ErrorCode.empty_file


def test_extraction_error_survives_pickling() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(ExtractionError(ErrorCode.corrupt_pdf, "broken")))
    assert (error.code, error.message) == (ErrorCode.corrupt_pdf, "broken")
