"""Names and identifiers of Circular 05/2025/TT-BNV: file names, document codes, package IDs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Container
from pathlib import PurePosixPath

from schemas.dossier import Dossier, DossierDocument

_NUMBERED = re.compile(r"^(?P<code>[^\W_][\w.-]*)\.(?P<ordinal>\d{1,7})\.[A-Za-z0-9]{2,4}$")


def document_file_name(dossier: Dossier, document: DossierDocument) -> str:
    """`<mã hồ sơ>.<số thứ tự>.pdf`, e.g. H49.64.33.2001.160.1.pdf."""
    return f"{dossier.file_code}.{document.ordinal}.pdf"


def placement(
    name: str, known: Container[str], given: str | None = None
) -> tuple[str | None, int | None]:
    """(dossier, ordinal) a scanned file's name or folder puts it in; ordinal None: next in
    the order the files come.

    With a dossier `given` for the whole call, every file goes there, at the ordinal of its
    TT 05 name `<that code>.<n>.pdf` if it has one. Without: a TT 05 name whose code is a
    known dossier's puts the file there at n; a file in a folder named by a known dossier's
    code goes there; else it is in no dossier. (`scan.1.pdf` is no TT 05 name unless `scan`
    is a dossier's code.)
    """
    path = PurePosixPath(name.replace("\\", "/"))
    numbered = _NUMBERED.match(path.name)
    code = numbered["code"] if numbered else None
    if given is not None:
        return given, (int(numbered["ordinal"]) if numbered and code == given else None)
    if numbered and code in known:
        return code, int(numbered["ordinal"])
    if path.parent.name in known:
        return path.parent.name, None
    return None, None


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key of names as people count: `2.pdf` before `10.pdf`, letters case-blind."""
    return [
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.split(r"(\d+)", name)
        if part
    ]


def dossier_file_name(dossier: Dossier) -> str:
    """A dossier kept as one file is named by its code: H49.64.33.2001.160.pdf."""
    return f"{dossier.file_code}.pdf"


def doc_id(dossier: Dossier, document: DossierDocument) -> str:
    """docId: the dossier code and the ordinal, e.g. H49.64.33.2001.160.1."""
    return f"{dossier.file_code}.{document.ordinal}"


def arc_doc_code(dossier: Dossier, document: DossierDocument) -> str:
    """docCode / arcDocCode: the dossier code and the ordinal in 7 digits (…160.0000001).

    The circular says "mã hồ sơ + số thứ tự (7 chữ số)"; the dot between them follows docId
    and the file names.
    """
    return f"{dossier.file_code}.{document.ordinal:07d}"


def package_id() -> str:
    """A new package identifier: `uuid-` and an upper-case UUID."""
    return f"uuid-{str(uuid.uuid4()).upper()}"


def derived_id(package: str, what: str, *, prefix: str = "uuid-") -> str:
    """A stable identifier of one thing in a package (`ID-` for a file), the same each time
    the same package is written."""
    value = uuid.uuid5(uuid.NAMESPACE_URL, f"{package}/{what}")
    return f"{prefix}{str(value).upper()}"
