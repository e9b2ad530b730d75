"""Which files a `sohoa digitize PATH...` call means, and the names they are reported under."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: clutter that file managers leave in scanned folders; never a record
_SKIPPED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class InputFile:
    path: Path
    #: the name below the argument it came from: `0001.pdf`, or `hop12/0001.pdf` for a folder
    shown: str


class MissingInput(Exception):
    pass


def collect_inputs(paths: list[Path]) -> list[InputFile]:
    """Files of the arguments, folders walked recursively in name order.

    Hidden files and file-manager clutter are skipped; symlinked folders are not followed
    (a link loop must not hang the run).
    """
    found: list[InputFile] = []
    for arg in paths:
        if arg.is_dir():
            found.extend(_walk(arg))
        elif arg.exists():
            found.append(InputFile(arg, arg.name))
        else:
            raise MissingInput(str(arg))
    return found


def _walk(root: Path) -> list[InputFile]:
    files: list[InputFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.lower() in _SKIPPED_NAMES:
                continue
            path = Path(dirpath) / name
            files.append(InputFile(path, path.relative_to(root).as_posix()))
    return files
