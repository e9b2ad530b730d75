"""What a PDF claims, read as its bytes stream past: no seeking, no second read.

A package streams each document into its zip once, so the check has to ride along: the file
starts as a PDF, ends with `%%EOF` (a copy cut short does not), and its XMP, which PDF/A
keeps uncompressed, identifies PDF/A (`pdfaid:part`). It does not open the PDF's structure;
ocr.pdfa_check does that where a file can be opened.
"""

from __future__ import annotations

import re

#: `pdfaid:part="2"` (an attribute) or `<pdfaid:part …>2</pdfaid:part>` (an element)
_CLAIM = re.compile(rb"pdfaid:(part|conformance)(?:\s*=\s*[\"']|(?:\s[^<>]*)?>)\s*([0-9A-Za-z])")
_KEEP = 64  # bytes carried over between chunks, longer than a claim


class PdfaScan:
    """Feed it the bytes of one PDF in order; then ask `problems()`."""

    def __init__(self) -> None:
        self.size = 0
        self._head = b""
        self._tail = b""
        self.part: str | None = None
        self.conformance: str | None = None

    def feed(self, chunk: bytes) -> None:
        if len(self._head) < 8:
            self._head = (self._head + chunk)[:8]
        window = self._tail + chunk
        if b"pdfaid:" in window:
            for name, value in _CLAIM.findall(window):
                if name == b"part":
                    self.part = value.decode()
                else:
                    self.conformance = value.decode().upper()
        self._tail = window[-max(_KEEP, 1024) :]
        self.size += len(chunk)

    def problems(self) -> list[str]:
        """Why the bytes seen are not a whole PDF/A file; empty when they look like one."""
        if self.size == 0:
            return ["empty file"]
        if not re.match(rb"%PDF-[12]\.[0-9]", self._head):
            return ["not a PDF (no %PDF- header)"]
        if b"%%EOF" not in self._tail:
            return ["cut short (no %%EOF at the end)"]
        if self.part is None:
            return ["no PDF/A identification in its XMP metadata"]
        return []

    @property
    def format_name(self) -> str:
        """e.g. PDF/A-2b, from the file's own claim."""
        return f"PDF/A-{self.part}{(self.conformance or '').lower()}"
