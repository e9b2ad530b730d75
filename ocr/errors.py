"""The one exception of ocr/: a file that cannot be digitized, with a stable code."""

from __future__ import annotations

from schemas.errors import ErrorCode


class ExtractionError(Exception):
    """Permanent: retrying the same bytes gives the same result."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(code, message)  # both in args, so it survives pickling to a parent
        self.code = ErrorCode(code)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"
