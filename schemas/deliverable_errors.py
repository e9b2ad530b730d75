"""Stable codes of what can stop the archive's deliverable: signing a PDF, writing a package.

Like the codes of a failed document (schemas.errors): services match on the code, archive
staff read the Vietnamese message. A message about one document names it in the error's
detail; the code itself never changes.
"""

from __future__ import annotations

from enum import StrEnum


class DeliverableErrorCode(StrEnum):
    empty_dossier = "empty_dossier"
    dossier_not_ready = "dossier_not_ready"
    document_unreadable = "document_unreadable"
    document_damaged = "document_damaged"
    document_not_pdfa = "document_not_pdfa"
    document_pages_differ = "document_pages_differ"
    signing_key_missing = "signing_key_missing"
    signing_key_unreadable = "signing_key_unreadable"
    signing_wrong_password = "signing_wrong_password"
    signing_token_unavailable = "signing_token_unavailable"
    signing_misconfigured = "signing_misconfigured"
    signing_failed = "signing_failed"
    timestamp_failed = "timestamp_failed"


#: (Vietnamese, English) per code.
DELIVERABLE_MESSAGES: dict[DeliverableErrorCode, tuple[str, str]] = {
    DeliverableErrorCode.empty_dossier: (
        "Hồ sơ chưa có văn bản nào, không thể đóng gói",
        "The dossier has no documents: there is nothing to package",
    ),
    DeliverableErrorCode.dossier_not_ready: (
        "Hồ sơ còn văn bản chưa số hoá xong hoặc chưa được duyệt, chưa thể đóng gói",
        "Some documents of the dossier are not digitized and reviewed yet: not packaged",
    ),
    DeliverableErrorCode.document_unreadable: (
        "Không đọc được tệp PDF của văn bản",
        "The document's PDF could not be read",
    ),
    DeliverableErrorCode.document_damaged: (
        "Tệp PDF của văn bản bị hỏng hoặc không đầy đủ",
        "The document's PDF is damaged or incomplete",
    ),
    DeliverableErrorCode.document_not_pdfa: (
        "Tệp của văn bản không phải PDF/A",
        "The document's file is not PDF/A",
    ),
    DeliverableErrorCode.document_pages_differ: (
        "Số trang của tệp PDF khác số trang trong siêu dữ liệu",
        "The PDF has another number of pages than its metadata says",
    ),
    DeliverableErrorCode.signing_key_missing: (
        "Không tìm thấy tệp khóa ký số",
        "The signing key file was not found",
    ),
    DeliverableErrorCode.signing_key_unreadable: (
        "Tệp khóa ký số không phải tệp PKCS#12 hợp lệ",
        "The signing key file is not a valid PKCS#12 file",
    ),
    DeliverableErrorCode.signing_wrong_password: (
        "Sai mật khẩu của tệp khóa ký số",
        "Wrong password for the signing key file",
    ),
    DeliverableErrorCode.signing_token_unavailable: (
        "Không dùng được thiết bị ký số (token): thư viện, token, khóa hoặc mã PIN không đúng",
        "The signing token cannot be used: its library, token, key or PIN is wrong",
    ),
    DeliverableErrorCode.signing_misconfigured: (
        "Cấu hình ký số không hợp lệ",
        "The signing configuration is not valid",
    ),
    DeliverableErrorCode.signing_failed: ("Ký số thất bại", "Signing failed"),
    DeliverableErrorCode.timestamp_failed: (
        "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian (TSA)",
        "No timestamp could be obtained from the time-stamping authority (TSA)",
    ),
}


def deliverable_message(code: DeliverableErrorCode | str, lang: str = "vi") -> str:
    """The message people see for a code, Vietnamese by default."""
    vi, en = DELIVERABLE_MESSAGES[DeliverableErrorCode(code)]
    return vi if lang == "vi" else en
