"""Why a record was sent to review: stable codes with a message for people.

Like error codes: the code is what services and the review queue match on; the Vietnamese
message is what archive staff read (English on request). A reason may name the field it is
about (`number`, `issued_on`, …) and carry a technical detail in English.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ReviewCode(StrEnum):
    no_pages = "no_pages"
    classification_failed = "classification_failed"
    low_ocr_confidence = "low_ocr_confidence"
    low_confidence = "low_confidence"
    type_unknown = "type_unknown"
    type_conflict = "type_conflict"
    symbol_repaired = "symbol_repaired"
    symbol_misread = "symbol_misread"
    number_missing = "number_missing"
    number_unreadable = "number_unreadable"
    readings_disagree = "readings_disagree"
    date_missing = "date_missing"
    date_unreadable = "date_unreadable"
    date_implausible = "date_implausible"
    issuer_missing = "issuer_missing"
    subject_missing = "subject_missing"
    signer_missing = "signer_missing"
    signature_modified = "signature_modified"
    signature_unreadable = "signature_unreadable"
    not_signed = "not_signed"
    split_check = "split_check"


#: (Vietnamese, English) per code. Shown to people; the code itself never changes.
REVIEW_MESSAGES: dict[ReviewCode, tuple[str, str]] = {
    ReviewCode.no_pages: ("Tài liệu không có trang nào", "The document has no pages"),
    ReviewCode.classification_failed: (
        "Không phân loại được tài liệu",
        "The document could not be classified",
    ),
    ReviewCode.low_ocr_confidence: (
        "Nhận dạng chữ không chắc chắn trên một số trang",
        "Text recognition is unsure on some pages",
    ),
    ReviewCode.low_confidence: (
        "Trường này đọc được nhưng chưa đủ chắc chắn",
        "This field was read, but not with enough certainty",
    ),
    ReviewCode.type_unknown: (
        "Không xác định được loại văn bản (không có tên loại, không có ký hiệu)",
        "The document type could not be found (no type name, no symbol)",
    ),
    ReviewCode.type_conflict: (
        "Tên loại văn bản và ký hiệu không khớp nhau",
        "The type name and the symbol disagree",
    ),
    ReviewCode.symbol_repaired: (
        "Ký hiệu văn bản đã được sửa theo tên loại văn bản",
        "The symbol was corrected to match the type name",
    ),
    ReviewCode.symbol_misread: (
        "Ký hiệu văn bản có thể bị đọc sai",
        "The symbol may have been misread",
    ),
    ReviewCode.number_missing: (
        "Không tìm thấy dòng số, ký hiệu văn bản",
        "No number line was found",
    ),
    ReviewCode.number_unreadable: (
        "Không đọc được số văn bản (viết tay, đóng dấu hoặc để trống)",
        "The number could not be read (handwritten, stamped or blank)",
    ),
    ReviewCode.readings_disagree: (
        "Hai cách đọc cho kết quả khác nhau",
        "Two readings of this field disagree",
    ),
    ReviewCode.date_missing: (
        "Không tìm thấy dòng địa danh, ngày tháng ban hành",
        "No place and date line was found",
    ),
    ReviewCode.date_unreadable: (
        "Không đọc được ngày ban hành (viết tay, đóng dấu hoặc để trống)",
        "The date could not be read (handwritten, stamped or blank)",
    ),
    ReviewCode.date_implausible: (
        "Ngày ban hành đọc được không hợp lý (sau ngày ký số, hoặc trước văn bản được dẫn)",
        "The date read is implausible (after the digital signing, or before a cited document)",
    ),
    ReviewCode.issuer_missing: (
        "Không tìm thấy tên cơ quan ban hành",
        "No issuing body was found",
    ),
    ReviewCode.subject_missing: (
        "Chưa đọc được trích yếu nội dung",
        "The subject (trích yếu) could not be read",
    ),
    ReviewCode.signer_missing: (
        "Chưa đọc được họ tên người ký",
        "The signer's name could not be read",
    ),
    ReviewCode.signature_modified: (
        "Tệp đã bị thay đổi sau khi ký số",
        "The file was changed after it was digitally signed",
    ),
    ReviewCode.signature_unreadable: (
        "Chữ ký số trong tệp bị hỏng, không kiểm tra được",
        "A digital signature in the file is damaged and cannot be checked",
    ),
    ReviewCode.split_check: (
        "Văn bản được tách tự động từ một tệp quét nhiều văn bản: hãy kiểm tra trang đầu, "
        "trang cuối",
        "The document was cut automatically from a scan of several: check its first and last pages",
    ),
    ReviewCode.not_signed: (
        "Bản số hoá chưa được ký số của cơ quan số hoá (khoá ký hoặc tệp có vấn đề)",
        "The digitized copy could not be signed by the digitizing body (the key or the file)",
    ),
}


class ReviewReason(BaseModel):
    """One reason a record needs a person's look."""

    model_config = ConfigDict(extra="forbid")

    code: ReviewCode
    field: str | None = Field(default=None, description="The document field it is about")
    detail: str | None = Field(default=None, description="Technical detail (English)")


def review_message(code: ReviewCode | str, lang: str = "vi") -> str:
    """The message people see for a code, Vietnamese by default."""
    vi, en = REVIEW_MESSAGES[ReviewCode(code)]
    return vi if lang == "vi" else en
