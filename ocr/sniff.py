"""The real type of a file, from its first bytes; the name and the client's word are ignored."""

from __future__ import annotations

from ocr.errors import ExtractionError
from schemas.errors import ErrorCode

PDF = "application/pdf"
TIFF = "image/tiff"
JPEG = "image/jpeg"
PNG = "image/png"

SUPPORTED = (PDF, TIFF, JPEG, PNG)
SNIFF_BYTES = 1024


def sniff(head: bytes) -> str:
    """Media type of a file from at least its first SNIFF_BYTES bytes.

    Raises ExtractionError(empty_file | unsupported_type).
    """
    if not head:
        raise ExtractionError(ErrorCode.empty_file, "the file has no bytes")
    kind = sniff_or_none(head)
    if kind is None:
        raise ExtractionError(
            ErrorCode.unsupported_type, f"not a PDF, TIFF, JPEG or PNG ({_describe(head)})"
        )
    return kind


def sniff_or_none(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return TIFF
    # PDF readers accept the header anywhere in the first KiB (some scanners prepend junk)
    if b"%PDF-" in head[:SNIFF_BYTES]:
        return PDF
    return None


def _describe(head: bytes) -> str:
    known = {
        b"PK\x03\x04": "a ZIP or Office document",
        b"\xd0\xcf\x11\xe0": "an old Office document",
        b"GIF8": "a GIF image",
        b"BM": "a BMP image",
        b"RIFF": "a RIFF file (WebP, WAV, AVI)",
        b"{\\rtf": "an RTF document",
    }
    for magic, what in known.items():
        if head.startswith(magic):
            return what
    return "first bytes " + head[:8].hex(" ")
