"""The S3 object store (MinIO in production), through the minio SDK.

minio-py retries and times out according to the urllib3 ``PoolManager`` it is given; its own
default waits 5 minutes per connect and read, so an unreachable server would hang callers for
many minutes. We give it short connect timeouts and a few quick retries instead.

Error mapping (callers only see :mod:`store.platform.objects` errors):

* ``NoSuchKey`` / ``NoSuchBucket`` on reads → ObjectNotFound
* connection refused/reset, timeouts, truncated bodies (urllib3 errors), HTTP 5xx, 429,
  ``SlowDown`` and similar → StorageUnavailable
* anything else (``AccessDenied``, bad signature, …) → ObjectStoreError
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.helpers import DictType

from store.platform.files import CHUNK_SIZE, check_range
from store.platform.objects import (
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    StorageUnavailable,
    validate_key,
    validate_prefix,
)

#: Multipart part size. minio's put_object still holds the previous part while it reads the
#: next one, so an upload peaks at two parts (measured: 2 x 16 MiB = 34 MB for a 50 MB file
#: with 16 MiB parts); 8 MiB keeps that near 17 MB. Files up to 80 GB (10,000 parts).
PART_SIZE = 8 * 1024 * 1024

CONNECT_TIMEOUT = 5.0
#: a frozen server fails a request in this long (x2 with the read retry), not a minute
READ_TIMEOUT = 10.0

_MISSING = frozenset({"NoSuchKey", "NoSuchBucket"})
# S3 error codes worth retrying even when the HTTP status is not 5xx.
_TRANSIENT = frozenset(
    {
        "SlowDown",
        "RequestTimeout",
        "ServiceUnavailable",
        "InternalError",
        "OperationAborted",
        "XMinioServerNotInitialized",
        "XMinioStorageFull",
    }
)
_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


def make_http_client() -> urllib3.PoolManager:
    """The urllib3 pool minio uses: short connect timeout, few quick retries.

    A closed port fails in about a second; a black-holed host in about 15 s (3 connects x 5 s).
    Idempotent requests (GET, HEAD, PUT, DELETE) are retried on 500/502/503/504; when retries
    run out urllib3 raises MaxRetryError, which becomes StorageUnavailable.
    """
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=3,
            connect=2,
            read=1,
            status=3,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            # A Retry-After of minutes would stall the caller; callers have their own backoff.
            respect_retry_after_header=False,
        ),
    )


def _status_of(exc: MinioException) -> int:
    if isinstance(exc, S3Error):
        response = getattr(exc, "response", None)
        return int(getattr(response, "status", 0) or 0)
    if isinstance(exc, ServerError):
        return exc.status_code
    if isinstance(exc, InvalidResponseError):  # a non-XML error body, e.g. from a proxy
        return int(getattr(exc, "_code", 0) or 0)
    return 0


def _translate(exc: Exception, what: str, key: str | None) -> ObjectStoreError:
    """Map a minio/urllib3 error to ours (see the module docstring)."""
    if isinstance(exc, _NETWORK_ERRORS):
        return StorageUnavailable(f"{what}: cannot reach the object store: {exc}")
    code = exc.code if isinstance(exc, S3Error) else None
    status = _status_of(exc) if isinstance(exc, MinioException) else 0
    if code in _MISSING:
        return ObjectNotFound(f"{what}: not found ({code})", key=key)
    if code in _TRANSIENT or status >= 500 or status == 429:
        return StorageUnavailable(f"{what}: the object store is unavailable: {exc}")
    return ObjectStoreError(f"{what}: {exc}")


class _ResponseReader(io.RawIOBase):
    """A raw stream over a urllib3 response that reports read failures as ours."""

    def __init__(self, response: Any, what: str) -> None:
        self._response = response
        self._what = what
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            n = int(self._response.readinto(buffer))
        except _NETWORK_ERRORS as exc:
            raise _translate(exc, self._what, None) from exc
        if not n:
            self._eof = True
        return n

    def close(self) -> None:
        if not self.closed:
            # A fully read response can go back to the pool; a half-read one must be dropped.
            if not self._eof:
                self._response.close()
            self._response.release_conn()
        super().close()


class S3ObjectStore(ObjectStore):
    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = False,
        region: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.url = f"s3://{endpoint}/{bucket}" + ("?secure=true" if secure else "")
        self._options: dict[str, Any] = {
            "access_key": access_key or None,
            "secret_key": secret_key,
            "secure": secure,
            "region": region,
        }
        self._lock = threading.Lock()
        self._bucket_ready = False
        # Built now (no I/O) so that a bad endpoint or key pair fails at open time.
        self._minio = self._new_client()
        self._client_pid = os.getpid()

    def _new_client(self) -> Minio:
        return Minio(self.endpoint, http_client=make_http_client(), **self._options)

    @property
    def _client(self) -> Minio:
        # One client per process: pooled connections must not be shared across fork()
        # (Celery's prefork workers), so a child builds its own.
        pid = os.getpid()
        if self._client_pid != pid:
            with self._lock:
                if self._client_pid != pid:
                    self._minio = self._new_client()
                    self._client_pid = pid
                    self._bucket_ready = False
        return self._minio

    @contextlib.contextmanager
    def _errors(self, what: str, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except (MinioException, *_NETWORK_ERRORS) as exc:
            raise _translate(exc, f"{what} in {self.url}", key) from exc

    def _ensure_bucket(self) -> None:
        """Create the bucket on first write when missing; another process may race us."""
        if self._bucket_ready and self._client_pid == os.getpid():
            return
        client = self._client
        with self._lock, self._errors(f"creating bucket {self.bucket!r}"):
            if self._bucket_ready:
                return
            try:
                exists = client.bucket_exists(self.bucket)
            except S3Error as exc:
                # A policy may allow object writes but not HeadBucket; then the bucket exists.
                if exc.code != "AccessDenied":
                    raise
                exists = True
            if not exists:
                try:
                    client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._bucket_ready = True

    # writing

    def _put_stream(
        self, key: str, stream: BinaryIO, length: int, content_type: str | None
    ) -> None:
        self._ensure_bucket()
        try:
            with self._errors(f"storing {key!r}", key):
                self._client.put_object(
                    self.bucket,
                    key,
                    stream,
                    length,
                    content_type=content_type or "application/octet-stream",
                    part_size=PART_SIZE,
                    # Parallel part uploads would hold even more parts in memory at once.
                    num_parallel_uploads=1,
                )
        except ObjectNotFound as exc:
            # The bucket vanished after we checked: make the next attempt recreate it.
            self._bucket_ready = False
            raise StorageUnavailable(f"storing {key!r} in {self.url}: bucket missing") from exc

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            with self._errors(f"deleting {key!r}", key):
                self._client.remove_object(self.bucket, key)
        except ObjectNotFound:
            pass

    # reading

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            with self._errors(f"checking {key!r}", key):
                self._client.stat_object(self.bucket, key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        validate_key(key)
        with self._errors(f"checking {key!r}", key):
            return int(self._client.stat_object(self.bucket, key).size or 0)

    def open(self, key: str) -> BinaryIO:
        validate_key(key)
        with self._errors(f"reading {key!r}", key):
            response = self._client.get_object(self.bucket, key)
        raw = _ResponseReader(response, f"reading {key!r} in {self.url}")
        return io.BufferedReader(raw, buffer_size=CHUNK_SIZE)

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        """One ranged GET; a range starting at or past the end yields nothing."""
        validate_key(key)
        start, length = check_range(start, length)
        if length == 0:  # minio reads length=0 as "to the end"
            if not self.exists(key):
                raise ObjectNotFound(f"no object {key!r} in {self.url}", key=key)
            return io.BytesIO(b"")
        try:
            with self._errors(f"reading {key!r}", key):
                response = self._client.get_object(self.bucket, key, offset=start, length=length)
        except ObjectStoreError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code == "InvalidRange":
                return io.BytesIO(b"")
            raise
        raw = _ResponseReader(response, f"reading {key!r} in {self.url}")
        return io.BufferedReader(raw, buffer_size=CHUNK_SIZE)

    def local_path(self, key: str) -> Path | None:
        validate_key(key)
        return None

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)  # now, not when iteration starts
        return self._iter_keys(prefix)

    def _iter_keys(self, prefix: str) -> Iterator[str]:
        try:
            with self._errors(f"listing {prefix!r}"):
                for obj in self._client.list_objects(
                    self.bucket, prefix=prefix or None, recursive=True
                ):
                    if obj.object_name and not obj.is_dir:
                        yield obj.object_name
        except ObjectNotFound:  # no bucket yet: nothing stored
            return

    def presigned_url(
        self,
        key: str,
        expires: timedelta = timedelta(minutes=10),
        *,
        disposition: str | None = None,
    ) -> str | None:
        validate_key(key)
        # S3 answers a GET with the response-* headers the URL carries (and signs)
        extra: DictType | None = (
            {"response-content-disposition": disposition} if disposition else None
        )
        with self._errors(f"signing a URL for {key!r}", key):
            return self._client.presigned_get_object(
                self.bucket, key, expires=expires, response_headers=extra
            )

    def check(self) -> None:
        """Create the bucket if needed, then write and delete a small probe object."""
        probe = f".sohoa-check/{uuid.uuid4().hex}"
        try:
            self._ensure_bucket()
            self.put_bytes(probe, b"ok", "text/plain")
            self.delete(probe)
        except StorageUnavailable:
            raise
        except ObjectStoreError as exc:
            raise StorageUnavailable(f"{self.url} is not usable: {exc}") from exc
