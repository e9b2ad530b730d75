"""Which files a `sohoa digitize PATH...` call means, and the names they are reported under."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from store.dossiers.naming import natural_key

#: clutter that file managers leave in scanned folders; never a record
_SKIPPED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class InputFile:
    path: Path
    #: the name below the argument it came from: `0001.pdf`, or `hop12/0001.pdf` for a folder
    shown: str
    #: the folder named by that argument, or holding the file argument: tells apart inputs
    #: that would otherwise be reported under the same name
    folder: str = ""


class MissingInput(Exception):
    pass


def collect_inputs(paths: list[Path]) -> list[InputFile]:
    """Files of the arguments, folders walked recursively in name order as people count
    (`2.pdf` before `10.pdf`: the order of the documents in a scanned dossier).

    Hidden files and file-manager clutter are skipped; symlinked folders are not followed
    (a link loop must not hang the run). A file reached twice (a folder and a file inside it,
    the same argument repeated) is one input, under the name it was first reached by.
    """
    found: list[InputFile] = []
    for arg in paths:
        if arg.is_dir():
            found.extend(_walk(arg))
        elif arg.exists():
            found.append(InputFile(arg, arg.name, _folder_name(arg.parent)))
        else:
            raise MissingInput(str(arg))
    return _first_of_each(found)


def _folder_name(folder: Path) -> str:
    """The last part of the folder's absolute path (`.` and `..` resolved, links kept)."""
    return Path(os.path.abspath(folder)).name


def _first_of_each(files: list[InputFile]) -> list[InputFile]:
    seen: set[str] = set()
    unique: list[InputFile] = []
    for item in files:
        key = os.path.abspath(item.path)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _walk(root: Path) -> list[InputFile]:
    files: list[InputFile] = []
    folder = _folder_name(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted((d for d in dirnames if not d.startswith(".")), key=natural_key)
        for name in sorted(filenames, key=natural_key):
            if name.startswith(".") or name.lower() in _SKIPPED_NAMES:
                continue
            path = Path(dirpath) / name
            files.append(InputFile(path, path.relative_to(root).as_posix(), folder))
    return files
