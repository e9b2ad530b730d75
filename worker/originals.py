"""A local file of a stored original, for the libraries that need a path (pdfium, Tesseract)."""

from __future__ import annotations

import tempfile
from contextlib import suppress
from pathlib import Path

from store import ObjectStore, original_key

_CACHE = Path(tempfile.gettempdir()) / "sohoa-originals"


def local_original(objects: ObjectStore, sha256: str) -> Path:
    """The folder backend's own file, or a cached download shared by the tasks of this machine."""
    key = original_key(sha256)
    path = objects.local_path(key)
    if path is not None:
        return path
    cached = _CACHE / sha256
    if not cached.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        objects.download(key, cached)  # atomic: a racing task never sees half a file
    return cached


def forget_original(objects: ObjectStore, sha256: str) -> None:
    """Drop the cached download once the document is done (the folder backend's file stays)."""
    if objects.local_path(original_key(sha256)) is None:
        with suppress(FileNotFoundError):
            (_CACHE / sha256).unlink()
