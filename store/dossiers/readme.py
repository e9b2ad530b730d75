"""documentation/README.txt of a package: what it holds, for a person who opens the zip."""

from __future__ import annotations

from datetime import datetime

from schemas.dossier import DossierPackageInput, PackageKind
from store.dossiers.ead import DossierTotals

_KINDS = {
    PackageKind.sip: "Gói tin nộp lưu (SIP) của hồ sơ",
    PackageKind.aip: "Gói tin lưu trữ (AIP) của hồ sơ",
    PackageKind.dip: "Gói tin khai thác (DIP) của hồ sơ",
}
_DATA = {
    PackageKind.dip: "representations/rep1/data/{code}.pdf: toàn bộ hồ sơ trong một tệp PDF/A, "
    "mỗi văn bản một dấu trang (bookmark)",
}


def readme_text(
    package: DossierPackageInput, kind: PackageKind, totals: DossierTotals, created: datetime
) -> str:
    dossier = package.dossier
    data = _DATA.get(
        kind,
        "representations/rep1/data/{code}.<số thứ tự>.pdf: bản số hóa của từng văn bản "
        "(PDF/A hai lớp, có chữ ký số của cơ quan số hóa)",
    ).format(code=dossier.file_code)
    lines = [
        f"{_KINDS[kind]} {dossier.file_code}",
        f"Tiêu đề: {dossier.title}",
        f"Số văn bản: {totals.total_doc}; số trang: {totals.number_of_page}",
        f"Cơ quan lập gói: {package.archive.name}",
        f"Thời điểm lập gói: {created.isoformat(timespec='seconds')}",
        "Theo Thông tư 05/2025/TT-BNV (cấu trúc E-ARK CSIP 2.0.4, mã kiểm tra SHA-256).",
        "",
        "Nội dung:",
        "METS.xml: danh mục gói tin và mã kiểm tra của từng tệp",
        "metadata/descriptive/EAD.xml: siêu dữ liệu hồ sơ",
    ]
    if kind == PackageKind.aip:
        lines.append("metadata/preservation/PREMIS.xml: thông tin bảo quản (sự kiện, tác nhân)")
    lines += [
        "representations/rep1/METS.xml: danh mục các tệp văn bản",
        "representations/rep1/metadata/descriptive/EAD_doc_<số thứ tự>.xml: siêu dữ liệu văn bản",
        data,
        "schemas/TT05_2025.xsd: lược đồ XML của siêu dữ liệu hồ sơ và văn bản",
    ]
    return "\n".join(lines) + "\n"
