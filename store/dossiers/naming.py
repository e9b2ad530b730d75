"""Names and identifiers of Circular 05/2025/TT-BNV: file names, document codes, package IDs."""

from __future__ import annotations

import uuid

from schemas.dossier import Dossier, DossierDocument


def document_file_name(dossier: Dossier, document: DossierDocument) -> str:
    """`<mã hồ sơ>.<số thứ tự>.pdf`, e.g. H49.64.33.2001.160.1.pdf."""
    return f"{dossier.file_code}.{document.ordinal}.pdf"


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
