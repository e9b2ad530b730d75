"""The local-folder object store: the embedded default (``file://var/objects``).

Each key is a file under the root (``originals/ab/abcd…`` → ``ROOT/originals/ab/abcd…``).
Writes go to a temp file in the destination directory, are fsynced and renamed into place, so a
process killed mid-write leaves the old object or the new one, never half of one. Content
types are not kept: files carry no metadata.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from store.platform.files import (
    TEMP_PREFIX,
    BoundedReader,
    check_range,
    copy_atomically,
    create_temp_file,
    fsync_dir,
    spool,
)
from store.platform.objects import (
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    StorageUnavailable,
    StoredOriginal,
    original_key,
    validate_key,
    validate_prefix,
)

# errno values meaning "this filesystem cannot hard-link": fall back to exists + rename.
_NO_HARDLINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path | str) -> None:
        # Absolute now, so a later chdir does not move the store; symlinks are kept as given.
        self.root = Path(os.path.abspath(root))
        self.url = f"file://{self.root}"

    # keys and errors

    def _path(self, key: str) -> Path:
        validate_key(key)
        parts = key.split("/")
        if any(part.startswith(TEMP_PREFIX) for part in parts):
            raise ValueError(f"object key uses the reserved prefix {TEMP_PREFIX!r}: {key!r}")
        path = self.root.joinpath(*parts)
        # validate_key already rules out escapes; this guards against a future change to it.
        if os.path.commonpath([self.root, path]) != str(self.root) or path == self.root:
            raise ValueError(f"object key escapes the storage folder: {key!r}")
        return path

    def _inside(self, filename: object) -> bool:
        """Whether an OSError's file name is strictly below the root."""
        if not isinstance(filename, str | bytes | os.PathLike):
            return False
        path = os.path.abspath(os.fsdecode(filename))
        return path != str(self.root) and path.startswith(str(self.root) + os.sep)

    @contextlib.contextmanager
    def _reading(self, key: str) -> Iterator[None]:
        try:
            yield
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key!r} in {self.url}", key=key) from exc
        except OSError as exc:
            raise StorageUnavailable(f"reading {key!r} from {self.url} failed: {exc}") from exc

    @contextlib.contextmanager
    def _writing(self, key: str) -> Iterator[None]:
        try:
            yield
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            if not self._inside(exc.filename):
                # The storage folder itself is broken (e.g. its path runs through a file).
                raise StorageUnavailable(f"writing {key!r} to {self.url} failed: {exc}") from exc
            # e.g. "a/b" when "a" is an object, or "a" when "a/b" exists: S3 allows both,
            # a folder cannot; a permanent conflict, not something a retry fixes.
            raise ObjectStoreError(
                f"key {key!r} conflicts with an existing object or folder in {self.url}: {exc}"
            ) from exc
        except OSError as exc:  # disk full, read-only, permissions: the store is unusable now
            raise StorageUnavailable(f"writing {key!r} to {self.url} failed: {exc}") from exc

    # writing

    def _put_stream(
        self, key: str, stream: BinaryIO, length: int, content_type: str | None
    ) -> None:
        path = self._path(key)
        with self._writing(key):
            copy_atomically(stream, path, length=length)

    def store_original(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredOriginal:
        """Spool into the storage folder itself, then hard-link into place: no second copy.

        ``os.link`` fails when the target exists, which makes "store unless already stored"
        atomic even between processes.
        """
        with self._writing("originals/"):
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = create_temp_file(self.root)
        try:
            with self._writing("originals/"), os.fdopen(fd, "wb") as out:
                sha, size = spool(stream, out, max_size)
                os.fsync(out.fileno())
            key = original_key(sha)
            path = self._path(key)
            with self._writing(key):
                path.parent.mkdir(parents=True, exist_ok=True)
                created = _link_or_rename(tmp, path)
                if created:
                    fsync_dir(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return StoredOriginal(key=key, sha256=sha, size=size, created=created)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise StorageUnavailable(f"deleting {key!r} from {self.url} failed: {exc}") from exc

    # reading

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        with self._reading(key):
            st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ObjectNotFound(f"no object {key!r} in {self.url}", key=key)
        return st.st_size

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        with self._reading(key):
            return path.open("rb")  # raises IsADirectoryError for a folder: not an object

    def open_range(self, key: str, start: int, length: int) -> BinaryIO:
        start, length = check_range(start, length)
        f = self.open(key)
        try:
            f.seek(start)
        except BaseException:
            f.close()
            raise
        return BoundedReader.wrap(f, length)

    def local_path(self, key: str) -> Path | None:
        """The object's file itself (read it, do not modify it); ObjectNotFound if missing."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key!r} in {self.url}", key=key)
        return path

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)  # now, not when iteration starts
        return self._iter_keys(prefix)

    def _iter_keys(self, prefix: str) -> Iterator[str]:
        base = prefix.rpartition("/")[0]
        start = self.root.joinpath(*base.split("/")) if base else self.root
        if not start.is_dir():
            return
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel + "/"
            # Only descend where keys may start with the prefix.
            dirnames[:] = [
                d
                for d in dirnames
                if not d.startswith(TEMP_PREFIX)
                and (f"{rel}{d}/".startswith(prefix) or prefix.startswith(f"{rel}{d}/"))
            ]
            keys.extend(
                f"{rel}{name}"
                for name in filenames
                if not name.startswith(TEMP_PREFIX) and f"{rel}{name}".startswith(prefix)
            )
        keys.sort()
        yield from keys

    def presigned_url(
        self,
        key: str,
        expires: timedelta = timedelta(minutes=10),
        *,
        disposition: str | None = None,
    ) -> str | None:
        validate_key(key)
        return None

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = create_temp_file(self.root)
            try:
                os.write(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
                tmp.unlink()
        except OSError as exc:
            raise StorageUnavailable(f"{self.url} is not writable: {exc}") from exc


def _link_or_rename(tmp: Path, dest: Path) -> bool:
    """Put ``tmp`` at ``dest`` unless ``dest`` exists; True when it was put there."""
    try:
        os.link(tmp, dest)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            raise
    if dest.is_file():
        return False
    os.replace(tmp, dest)
    return True
