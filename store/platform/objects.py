"""Object storage: where originals and published records live.

Two backends share one interface: a local folder (the embedded default, ``file://var/objects``)
and S3/MinIO through the minio SDK (production, ``s3://minio:9000/sohoa``). Everything here
streams in bounded chunks: a scan of hundreds of megabytes never sits in memory.

Errors callers act on:

* :class:`ObjectNotFound` - the key does not exist; permanent.
* :class:`StorageUnavailable` - the store cannot be reached or refused for now (connection
  errors, timeouts, 5xx, throttling, a full disk); transient, callers retry.
* :class:`FileTooLarge` - :meth:`ObjectStore.store_original` input above ``max_size``.
* :class:`ObjectStoreError` - anything else (bad credentials, a key that conflicts with an
  existing one); retrying will not help.

Invalid keys raise :class:`ValueError`: they are programming errors, not storage failures.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, urlsplit

from store.platform.files import (
    CHUNK_SIZE,
    TEMP_PREFIX,
    BoundedReader,
    Discard,
    check_range,
    copy_atomically,
    spool,
)
from store.platform.storage_errors import (
    FileTooLarge,
    ObjectNotFound,
    ObjectStoreError,
    StorageUnavailable,
)

__all__ = [
    "CHUNK_SIZE",
    "FileTooLarge",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreError",
    "StorageUnavailable",
    "StoredOriginal",
    "open_object_store",
    "original_key",
    "validate_key",
]

_MAX_KEY_BYTES = 1024  # the S3 limit; the folder backend keeps the same rule
_BAD_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class StoredOriginal:
    key: str
    """``originals/<sha[:2]>/<sha>``"""
    sha256: str
    size: int
    created: bool
    """False when the same bytes were already stored: content is stored once."""


def original_key(sha256: str) -> str:
    """The key of an original file: ``originals/<sha[:2]>/<sha>`` (lower-case hex)."""
    if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
        raise ValueError(f"not a lower-case hex SHA-256 digest: {sha256!r}")
    return f"originals/{sha256[:2]}/{sha256}"


def record_key(document_id: str, name: str) -> str:
    """The key of one of a record's objects: ``records/<id>/<name>`` (record.json, …)."""
    return f"records/{document_id}/{name}"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise ValueError.

    A key is a relative, ``/``-separated path: no leading or trailing ``/``, no empty or ``.``
    segments, no ``..`` anywhere, no backslashes, NUL or control characters, at most 1024
    bytes. Both backends apply the same rule, so a key valid on one is valid on the other.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("an object key must be a non-empty string")
    _check_chars(key, "object key")
    if any(part in ("", ".") for part in key.split("/")):
        raise ValueError(f"object key has an empty or '.' segment: {key!r}")
    if len(key.encode("utf-8")) > _MAX_KEY_BYTES:
        raise ValueError(f"object key is longer than {_MAX_KEY_BYTES} bytes")
    return key


def validate_prefix(prefix: str) -> str:
    """Like :func:`validate_key`, but ``""`` and a trailing ``/`` or partial segment are fine."""
    if not isinstance(prefix, str):
        raise ValueError("a key prefix must be a string")
    if not prefix:
        return prefix
    _check_chars(prefix, "key prefix")
    *dirs, last = prefix.split("/")
    if any(part in ("", ".") for part in dirs) or last == ".":
        raise ValueError(f"key prefix has an empty or '.' segment: {prefix!r}")
    return prefix


def _check_chars(value: str, what: str) -> None:
    if _BAD_KEY_CHARS.search(value):
        raise ValueError(f"{what} contains a backslash, NUL or control character: {value!r}")
    if value.startswith("/"):
        raise ValueError(f"{what} must be relative, not absolute: {value!r}")
    if ".." in value:
        raise ValueError(f"{what} must not contain '..': {value!r}")


class ObjectStore(ABC):
    """Keys are ``/``-separated relative paths (see :func:`validate_key`).

    Implementations are safe to share between threads. Subclasses implement
    :meth:`_put_stream` and the abstract readers; ``put_bytes``, ``put_file``,
    ``store_original``, ``get_bytes`` and ``download`` are built on them.
    """

    url: str
    """Where the store is, for logs and error messages; never contains a secret."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    # writing

    @abstractmethod
    def _put_stream(
        self, key: str, stream: BinaryIO, length: int, content_type: str | None
    ) -> None:
        """Store exactly ``length`` bytes read from ``stream`` under a validated ``key``."""

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        validate_key(key)
        self._put_stream(key, io.BytesIO(data), len(data), content_type)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Upload a local file, streaming it (never read whole into memory)."""
        validate_key(key)
        with Path(path).open("rb") as f:
            self._put_stream(key, f, os.fstat(f.fileno()).st_size, content_type)

    def measure_original(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredOriginal:
        """Hash and count an uploaded file without storing it (a file refused at the door
        costs no storage); FileTooLarge past `max_size` as when storing."""
        sha, size = spool(stream, Discard(), max_size)
        return StoredOriginal(key=original_key(sha), sha256=sha, size=size, created=False)

    def store_original(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredOriginal:
        """Store an uploaded file under its SHA-256, once.

        The input is spooled to a temporary file while it is hashed (memory stays at one chunk),
        then uploaded to :func:`original_key` unless that key already exists. Two processes
        storing the same new bytes at the same moment may both upload them; the result is the
        same object either way.
        """
        with tempfile.TemporaryFile(prefix=TEMP_PREFIX) as tmp:
            sha, size = spool(stream, tmp, max_size)
            key = original_key(sha)
            if self.exists(key):
                return StoredOriginal(key=key, sha256=sha, size=size, created=False)
            tmp.seek(0)
            self._put_stream(key, tmp, size, "application/octet-stream")
        return StoredOriginal(key=key, sha256=sha, size=size, created=True)

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    # reading

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; ObjectNotFound when missing."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A streaming reader: ``with store.open(key) as f: f.read(n)``.

        ObjectNotFound is raised by the call itself, before any ``with``.
        """

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        """A streaming reader of ``length`` bytes from offset ``start`` (HTTP Range requests).

        The reader ends after ``length`` bytes, or earlier at the end of the object (a range
        starting at or past the end yields nothing). ObjectNotFound is raised by the call.
        This fallback skips ``start`` bytes by reading them; backends override it with a seek
        (folder) or a ranged GET (S3).
        """
        start, length = check_range(start, length)
        f = self.open(key)
        try:
            while start and (skipped := len(f.read(min(start, CHUNK_SIZE)))):
                start -= skipped
        except BaseException:
            f.close()
            raise
        return BoundedReader.wrap(f, length)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def download(self, key: str, path: Path) -> None:
        """Stream ``key`` into the local file ``path``, atomically (temp file + rename).

        On failure ``path`` is left as it was and no temporary file remains.
        """
        path = Path(path)
        with self.open(key) as f:
            copy_atomically(f, path)

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """The object's own file when the store is a local folder (no copy), else None."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix), sorted."""

    @abstractmethod
    def presigned_url(
        self,
        key: str,
        expires: timedelta = timedelta(minutes=10),
        *,
        disposition: str | None = None,
    ) -> str | None:
        """A time-limited URL anyone can GET the object from, or None if the store has none.
        With `disposition`, the download is answered with that `Content-Disposition` (the
        file name people see), signed into the URL."""

    @abstractmethod
    def check(self) -> None:
        """Readiness: raise StorageUnavailable unless the store is reachable and writable."""


# --- opening a store from a URL -----------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def open_object_store(
    url: str,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    secure: bool = False,
    region: str | None = None,
) -> ObjectStore:
    """Open the store a ``SOHOA_STORAGE_URL`` names. Opening does no I/O.

    * ``file://var/objects`` - a folder relative to the current directory (everything after
      ``file://`` is the path); ``file:///srv/objects`` - an absolute folder.
    * ``s3://host:port/bucket`` - S3/MinIO; credentials come from the arguments, never the
      URL. The query may set ``secure=true|false`` (HTTPS; overrides ``secure``) and
      ``region=...`` (overrides ``region``).
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(
            f"storage URL must look like file://FOLDER or s3://HOST:PORT/BUCKET, got {url!r}"
        )
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "file":
        return _open_folder(url, rest)
    if scheme == "s3":
        return _open_s3(
            url, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
    raise ValueError(
        f"unsupported storage URL scheme {scheme!r} in {url!r}: use file://FOLDER "
        "or s3://HOST:PORT/BUCKET"
    )


def _open_folder(url: str, rest: str) -> ObjectStore:
    from store.platform.folder_store import LocalObjectStore

    if "?" in rest or "#" in rest:
        raise ValueError(f"a file:// storage URL takes no query or fragment: {url!r}")
    if not rest:
        raise ValueError(f"a file:// storage URL needs a folder, e.g. file://var/objects: {url!r}")
    if "\x00" in rest:
        raise ValueError("the storage folder must not contain NUL")
    return LocalObjectStore(Path(rest))


def _open_s3(
    url: str,
    *,
    access_key: str | None,
    secret_key: str | None,
    secure: bool,
    region: str | None,
) -> ObjectStore:
    from store.platform.s3_store import S3ObjectStore

    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "do not put credentials in the storage URL (it ends up in logs); "
            "pass the access and secret keys separately"
        )
    if not parts.hostname:
        raise ValueError(f"an s3:// storage URL needs a host, e.g. s3://minio:9000/sohoa: {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in storage URL {url!r}") from exc
    if parts.fragment:
        raise ValueError(f"an s3:// storage URL takes no fragment: {url!r}")
    bucket = parts.path.strip("/")
    if not bucket:
        raise ValueError(
            f"an s3:// storage URL needs a bucket, e.g. s3://minio:9000/sohoa: {url!r}"
        )
    if "/" in bucket or not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise ValueError(
            f"bad bucket name {bucket!r} in {url!r}: 3-63 lower-case letters, digits, '.' or '-'"
        )
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "secure":
            if value.lower() in _TRUE:
                secure = True
            elif value.lower() in _FALSE:
                secure = False
            else:
                raise ValueError(f"secure= must be true or false in {url!r}")
        elif name == "region":
            region = value or None
        else:
            raise ValueError(f"unknown option {name!r} in storage URL {url!r}")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    endpoint = f"{host}:{port}" if port is not None else host
    return S3ObjectStore(
        endpoint,
        bucket,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
    )
