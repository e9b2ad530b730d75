"""Dossiers (hồ sơ) and what the archive hands over of them: Circular 05/2025/TT-BNV packages.

Pure functions of plain input models (schemas.dossier): nothing here reads the database.
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
