"""A zip written as a stream of byte chunks, never held whole and never seeked.

The standard library's zipfile writes to any object with `write`; when that object cannot
tell or seek, it puts each entry's sizes and CRC after its data (a data descriptor), which
every unzip reads. Here the object keeps what was written since the last `take()`, so the
caller hands the zip on chunk by chunk: memory holds one chunk, whatever the package weighs.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import BinaryIO


class _Pending:
    """The write end: collects bytes until they are taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class ZipStream:
    """Entries go in with `add_bytes` or `add_stream`; each yields the zip's bytes so far."""

    def __init__(self, folder: str, when: datetime) -> None:
        self._pending = _Pending()
        # a write-only sink with tell(): what zipfile needs of a stream it writes
        self._zip = zipfile.ZipFile(self._pending, "w")  # type: ignore[call-overload]
        self._folder = folder.strip("/")
        self._when = when.timetuple()[:6]

    def _info(self, path: str, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self._folder}/{path}", date_time=self._when)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add_bytes(self, path: str, data: bytes) -> Iterator[bytes]:
        """A small entry (XML, text), compressed."""
        self._zip.writestr(self._info(path, True), data)
        yield self._pending.take()

    def add_stream(
        self, path: str, source: BinaryIO, chunk_size: int, seen: Callable[[bytes], None]
    ) -> Iterator[bytes]:
        """A large entry read from `source` chunk by chunk and stored as it is (a PDF is
        compressed already); `seen` gets each chunk (to hash it, to check it)."""
        with self._zip.open(self._info(path, False), "w", force_zip64=True) as entry:
            while chunk := source.read(chunk_size):
                seen(chunk)
                entry.write(chunk)
                yield self._pending.take()
        yield self._pending.take()

    def close(self) -> Iterator[bytes]:
        """The central directory: the end of the zip."""
        self._zip.close()
        yield self._pending.take()
