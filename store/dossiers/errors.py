"""The one exception of the package writer: a code, a message, and the document it is about."""

from __future__ import annotations

from schemas.deliverable_errors import DeliverableErrorCode


class PackageError(Exception):
    """The package cannot be written; `ordinal` names the document at fault, if one is."""

    def __init__(
        self, code: DeliverableErrorCode, message: str, ordinal: int | None = None
    ) -> None:
        super().__init__(code, message, ordinal)
        self.code = DeliverableErrorCode(code)
        self.message = message
        self.ordinal = ordinal

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"
