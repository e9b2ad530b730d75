"""Object storage, the metadata database, and queries over them."""

from store.platform.db import after_commit, make_engine, make_session_factory, reading, unit_of_work
from store.platform.objects import (
    FileTooLarge,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    StorageUnavailable,
    StoredOriginal,
    open_object_store,
    original_key,
    record_key,
)

__all__ = [
    "FileTooLarge",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreError",
    "StorageUnavailable",
    "StoredOriginal",
    "after_commit",
    "make_engine",
    "make_session_factory",
    "open_object_store",
    "original_key",
    "reading",
    "record_key",
    "unit_of_work",
]
