"""What object storage raises; see `store.platform.objects` for what callers do with each."""

from __future__ import annotations


class ObjectStoreError(Exception):
    """Base of every object storage error."""


class ObjectNotFound(ObjectStoreError):
    """The key does not exist (permanent)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class StorageUnavailable(ObjectStoreError):
    """The store cannot serve the request right now (transient: retry later)."""


class FileTooLarge(ObjectStoreError):
    """The input of :meth:`ObjectStore.store_original` is larger than ``max_size``."""

    def __init__(self, message: str, *, max_size: int | None = None) -> None:
        super().__init__(message)
        self.max_size = max_size
