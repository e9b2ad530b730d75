"""What a document says: `DocumentSpec` and the texts the samples are drawn from.

The texts come from two places, both inside this folder: `corpus_sample.jsonl` (real legal
documents from vbpl.vn, see README.md) and `admin_docs.py` (administrative documents of the
Bắc Từ Liêm district, written for these tests in the style of Decree 30/2020/NĐ-CP).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

CORPUS_PATH = Path(__file__).with_name("corpus_sample.jsonl")

NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SIGNING_PREFIXES = ("TM.", "KT.", "TL.", "TUQ.", "Q.")

# Type as printed in the corpus → (code in schemas/vocab, label on the number line).
_CORPUS_TYPES: dict[str, tuple[str, str]] = {
    "Nghị định": ("nghi_dinh", "Số:"),
    "Thông tư": ("thong_tu", "Số:"),
    "Nghị quyết": ("nghi_quyet", "Số:"),
    "Quyết định": ("quyet_dinh", "Số:"),
    "Luật": ("luat", "Luật số:"),
    "Pháp lệnh": ("khac", "Pháp lệnh số:"),
    "Thông tư liên tịch": ("khac", "Số:"),
}

_GOVERNMENT_RECIPIENTS = [
    "- Ban Bí thư Trung ương Đảng;",
    "- Thủ tướng, các Phó Thủ tướng Chính phủ;",
    "- Các bộ, cơ quan ngang bộ, cơ quan thuộc Chính phủ;",
    "- HĐND, UBND các tỉnh, thành phố trực thuộc trung ương;",
    "- Văn phòng Trung ương và các Ban của Đảng;",
    "- Lưu: VT, PL.",
]
_MINISTRY_RECIPIENTS = [
    "- Văn phòng Chính phủ;",
    "- Các bộ, cơ quan ngang bộ, cơ quan thuộc Chính phủ;",
    "- UBND các tỉnh, thành phố trực thuộc trung ương;",
    "- Cục Kiểm tra văn bản và Quản lý xử lý vi phạm hành chính (Bộ Tư pháp);",
    "- Công báo; Cổng Thông tin điện tử Chính phủ;",
    "- Lưu: VT, PC.",
]


@dataclass(frozen=True)
class DocumentSpec:
    """One document to draw: header, subject, body, signature and recipients (all NFC)."""

    key: str
    doc_type: str  # code from schemas/vocab/document_types.csv, e.g. "ke_hoach", "cong_van"
    issuer: str  # issuing body in capitals; "\n" forces a line break
    number: str  # "251/KH-UBND", without the "Số:" label
    type_title: str | None  # "KẾ HOẠCH"; None for a công văn
    subject: str  # trích yếu; a công văn's starts with "V/v"
    paragraphs: list[str]
    parent: str | None = None  # parent body above the issuer, e.g. "UBND QUẬN BẮC TỪ LIÊM"
    number_label: str = "Số:"
    place: str | None = "Hà Nội"  # None: no place-and-date line (laws)
    issued_on: date | None = None
    signer_prefix: list[str] = field(default_factory=list)  # ["TM. ỦY BAN NHÂN DÂN"]
    signer_title: str | None = None  # "CHỦ TỊCH"
    signer_name: str | None = None
    recipients: list[str] = field(default_factory=list)  # lines after "Nơi nhận:"
    salutation: list[str] = field(default_factory=list)  # after "Kính gửi:" (công văn)
    urgency: str | None = None  # "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC"
    secrecy: str | None = None  # "MẬT", "TỐI MẬT", "TUYỆT MẬT"
    source: str = "handwritten"
    # Variants real archives have (see more_specs.py); the defaults draw the Decree-30 page.
    date_text: str | None = None  # printed instead of the date: "ngày 24 / 7/ 1993"
    header_rule: str | None = None  # a typed rule under the issuer ("-----*-----"), as text
    national_name: str = NATIONAL_NAME  # "CỘNG HOÀ …" in the old tone placement

    @property
    def number_line(self) -> str:
        """The number line as printed: `Số: 251/KH-UBND`."""
        return f"{self.number_label} {self.number}"

    @property
    def date_line(self) -> str | None:
        """`Bắc Từ Liêm, ngày 29 tháng 5 năm 2023`, or None when there is none."""
        if self.place is None or (self.issued_on is None and self.date_text is None):
            return None
        if self.date_text is not None:
            return f"{self.place}, {self.date_text}"
        assert self.issued_on is not None
        return f"{self.place}, {vietnamese_date(self.issued_on)}"


def vietnamese_date(day: date) -> str:
    """`ngày 05 tháng 01 năm 2020`: leading zero for days below 10 and months 1 and 2."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {d} tháng {m} năm {day.year}"


def nfc(text: str) -> str:
    """Unicode NFC, the only form the generator ever draws."""
    return unicodedata.normalize("NFC", text)


def _split_signer_title(title: str | None) -> tuple[list[str], str | None]:
    if not title:
        return [], None
    lines = [line.strip() for line in title.split("\n") if line.strip()]
    if len(lines) == 1 and lines[0].startswith(SIGNING_PREFIXES):
        return lines, None
    return lines[:-1], lines[-1]


def _corpus_recipients(issuer: str) -> list[str]:
    if issuer in ("QUỐC HỘI", "ỦY BAN THƯỜNG VỤ QUỐC HỘI"):
        return []
    if issuer in ("CHÍNH PHỦ", "THỦ TƯỚNG CHÍNH PHỦ"):
        return list(_GOVERNMENT_RECIPIENTS)
    return list(_MINISTRY_RECIPIENTS)


def spec_from_corpus(record: dict) -> DocumentSpec:
    """Turn one record of corpus_sample.jsonl into a spec (central bodies sign in Hà Nội)."""
    doc_type, label = _CORPUS_TYPES[record["type"]]
    issuer = record["issuer"] or ""
    prefix, title = _split_signer_title(record.get("signer_title"))
    issued = record.get("issued_on")
    stem = Path(record["source_file"]).stem.removeprefix("doc_")
    return DocumentSpec(
        key=f"vbpl-{stem}",
        doc_type=doc_type,
        issuer=nfc(issuer.replace(" - ", "\n")),
        number=record["number"],
        type_title=nfc(record["type"].upper()),
        subject=nfc(record["subject"]),
        paragraphs=[nfc(p) for p in record["paragraphs"]],
        number_label=label,
        place=None if record["type"] == "Luật" else "Hà Nội",
        issued_on=date.fromisoformat(issued) if issued else None,
        signer_prefix=prefix,
        signer_title=title,
        signer_name=record.get("signer"),
        recipients=_corpus_recipients(issuer),
        source=f"vbpl.vn:{record['source_file']}",
    )


@lru_cache(maxsize=1)
def _corpus_specs() -> tuple[DocumentSpec, ...]:
    with CORPUS_PATH.open(encoding="utf-8") as f:
        return tuple(spec_from_corpus(json.loads(line)) for line in f if line.strip())


def load_specs() -> list[DocumentSpec]:
    """All specs: the hand-written administrative documents first, then the corpus sample."""
    from tests.data.admin_docs import ADMIN_DOCUMENTS

    return [*ADMIN_DOCUMENTS, *_corpus_specs()]


def get_spec(key: str) -> DocumentSpec:
    """The spec with this key, e.g. `kh-251-ubnd`."""
    for spec in load_specs():
        if spec.key == key:
            return spec
    raise KeyError(key)
