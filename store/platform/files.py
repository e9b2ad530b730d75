"""Streaming local files: atomic writes, hashing while spooling, bounded reads of a range."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from store.platform.storage_errors import FileTooLarge, ObjectStoreError

#: Read/write granularity for streaming copies and hashing.
CHUNK_SIZE = 1024 * 1024

#: Name prefix of the temporary files written next to their destination before the atomic
#: rename. The folder backend hides such files from listings and refuses keys that use it.
TEMP_PREFIX = ".sohoa-tmp-"


def create_temp_file(directory: Path) -> tuple[int, Path]:
    """Create a fresh temporary file in ``directory``; returns (fd, path).

    Opened with mode 0o666 minus the umask, like an ordinary file, so that the file keeps
    sensible permissions once renamed into place (``mkstemp`` would make it 0600).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        path = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def copy_atomically(source: BinaryIO, dest: Path, *, length: int | None = None) -> int:
    """Copy ``source`` to ``dest`` through a temp file in the same directory; returns bytes.

    The temp file is fsynced and renamed over ``dest`` (``os.replace``), so readers see the
    old file or the complete new one, never a part. On any error the temp file is removed and
    ``dest`` is untouched. The parent directory is created when missing. With ``length``, a
    source that yields a different number of bytes is an error (the file changed under us).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_file(dest.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_SIZE):
                out.write(chunk)
                size += len(chunk)
            if length is not None and size != length:
                raise ObjectStoreError(f"expected {length} bytes from the source, got {size}")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(dest.parent)
    return size


class Discard(io.RawIOBase):
    """A sink: bytes only hashed and counted."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)


class Sink(Protocol):
    """Where :func:`spool` copies to: a file, or a :class:`Discard`."""

    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> object: ...


def spool(stream: BinaryIO, out: Sink, max_size: int | None) -> tuple[str, int]:
    """Copy ``stream`` into ``out`` in 1 MiB chunks while hashing; returns (sha256, size).

    Raises FileTooLarge as soon as more than ``max_size`` bytes were read, so at most one chunk
    past the limit is ever read.
    """
    if max_size is not None and max_size < 0:
        raise ValueError("max_size must not be negative")
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_SIZE):
        size += len(chunk)
        if max_size is not None and size > max_size:
            raise FileTooLarge(
                f"the file is larger than the limit of {max_size} bytes", max_size=max_size
            )
        digest.update(chunk)
        out.write(chunk)
    out.flush()
    return digest.hexdigest(), size


# --- ranged reads -------------------------------------------------------------------------


def check_range(start: int, length: int) -> tuple[int, int]:
    """Validate the arguments of :meth:`ObjectStore.open_range`."""
    if not isinstance(start, int) or not isinstance(length, int) or start < 0 or length < 0:
        raise ValueError(f"a byte range needs start >= 0 and length >= 0, got {start}, {length}")
    return start, length


class BoundedReader(io.RawIOBase):
    """At most ``length`` bytes of an underlying stream, which it closes when closed."""

    def __init__(self, inner: BinaryIO, length: int) -> None:
        self._inner = inner
        self._left = length

    @classmethod
    def wrap(cls, inner: BinaryIO, length: int) -> BinaryIO:
        reader = io.BufferedReader(cls(inner, length), buffer_size=CHUNK_SIZE)
        return cast(BinaryIO, reader)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        data = self._inner.read(len(view))
        n = len(data)
        view[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


# --- the interface ------------------------------------------------------------------------
