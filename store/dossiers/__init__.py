"""Dossiers (hồ sơ), one domain: the archive's catalogue of them and what it hands over.

- `catalog`: reading a mục lục (XLSX, CSV) into dossier models, row by row;
- `registry`: the catalogue in the database, and what each dossier's documents say;
- the packages of Circular 05/2025/TT-BNV (`package`, `ead`, `mets`, `premis`, `dip`): pure
  functions of plain input models (schemas.dossier) that never read the database.
"""

from store.dossiers.dip import OpenPdf, bookmark
from store.dossiers.errors import PackageError
from store.dossiers.naming import arc_doc_code, doc_id, document_file_name, dossier_file_name
from store.dossiers.package import (
    check_documents,
    package_file_name,
    package_stream,
    write_package,
)

__all__ = [
    "OpenPdf",
    "PackageError",
    "arc_doc_code",
    "bookmark",
    "check_documents",
    "doc_id",
    "document_file_name",
    "dossier_file_name",
    "package_file_name",
    "package_stream",
    "write_package",
]
