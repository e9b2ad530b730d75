"""The code lists of Circular 05/2025/TT-BNV, as the XML of a dossier package writes them.

Each code is the two-digit string the circular prints; the Vietnamese label is what people
read. The package writer puts both in the metadata files, and its XML schema lists them as
enumerations, so a receiving archive can check a value without this code.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.vocab import document_types


class Maintenance(StrEnum):
    """Thời hạn lưu trữ: how long the dossier is kept (Circular 10/2022/TT-BNV sets which)."""

    permanent = "01"
    years_70 = "02"
    years_50 = "03"
    years_30 = "04"
    years_20 = "05"
    years_10 = "06"
    other = "07"


class AccessMode(StrEnum):
    """Chế độ sử dụng: who may read it."""

    public = "01"
    conditional = "02"
    secret = "03"


class Language(StrEnum):
    """Ngôn ngữ: the language(s) of the documents."""

    vietnamese = "01"
    english = "02"
    french = "03"
    russian = "04"
    chinese = "05"
    vietnamese_english = "06"
    vietnamese_russian = "07"
    vietnamese_french = "08"
    han_nom = "09"
    vietnamese_chinese = "10"
    other = "11"


class PhysicalState(StrEnum):
    """Tình trạng vật lý (the XML element `format`): the state of the paper original."""

    good = "01"
    normal = "02"
    damaged = "03"


class ConfidenceLevel(StrEnum):
    """Mức độ tin cậy: born electronic, digitized from paper, or both in one dossier."""

    born_electronic = "01"
    digitized = "02"
    mixed = "03"


class RiskRecoveryStatus(StrEnum):
    """Tình trạng dự phòng: whether the backup copy has been made."""

    done = "01"
    not_yet = "02"


LABELS: dict[type[StrEnum], dict[str, str]] = {
    Maintenance: {
        "01": "Vĩnh viễn",
        "02": "70 năm",
        "03": "50 năm",
        "04": "30 năm",
        "05": "20 năm",
        "06": "10 năm",
        "07": "Khác",
    },
    AccessMode: {"01": "Công khai", "02": "Sử dụng có điều kiện", "03": "Mật"},
    Language: {
        "01": "Tiếng Việt",
        "02": "Tiếng Anh",
        "03": "Tiếng Pháp",
        "04": "Tiếng Nga",
        "05": "Tiếng Trung",
        "06": "Việt - Anh",
        "07": "Việt - Nga",
        "08": "Việt - Pháp",
        "09": "Hán Nôm",
        "10": "Việt - Trung",
        "11": "Khác",
    },
    PhysicalState: {"01": "Tốt", "02": "Bình thường", "03": "Hư hỏng"},
    ConfidenceLevel: {"01": "Số gốc", "02": "Số hóa", "03": "Hỗn hợp"},
    RiskRecoveryStatus: {"01": "Đã dự phòng", "02": "Chưa dự phòng"},
}


def label(code: StrEnum) -> str:
    """The Vietnamese label of a code of one of the lists above."""
    return LABELS[type(code)][code.value]


def type_names() -> dict[str, str]:
    """Document type codes 01–32 (`typeName`) with their Vietnamese names.

    Several types of sohoa share 32 (laws, decrees, circulars, others): it is named "Khác".
    """
    names: dict[str, str] = {}
    for kind in document_types().values():
        names.setdefault(kind.archive_code, kind.name)
    names["32"] = document_types()["khac"].name
    return dict(sorted(names.items()))


def type_code_for(kind: str | None) -> str:
    """The TT 05 type code of one of sohoa's document types (`khac`'s when unknown)."""
    types = document_types()
    return (types.get(kind or "") or types["khac"]).archive_code
