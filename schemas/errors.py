"""Stable error codes of a failed document, documented once.

The code is what services match on; the Vietnamese message is what archive staff read.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    empty_file = "empty_file"
    unreadable_file = "unreadable_file"
    unsupported_type = "unsupported_type"
    corrupt_pdf = "corrupt_pdf"
    encrypted_pdf = "encrypted_pdf"
    corrupt_image = "corrupt_image"
    image_too_large = "image_too_large"
    too_many_pages = "too_many_pages"
    file_too_large = "file_too_large"
    no_pages = "no_pages"
    ocr_failed = "ocr_failed"
    extraction_failed = "extraction_failed"
    internal_error = "internal_error"
    cancelled = "cancelled"
    corrupt_archive = "corrupt_archive"
    archive_too_large = "archive_too_large"
    encrypted_archive = "encrypted_archive"
    unsafe_archive_entry = "unsafe_archive_entry"
    worker_crashed = "worker_crashed"
    duplicate_elsewhere = "duplicate_elsewhere"
    quota_exceeded = "quota_exceeded"
    request_too_large = "request_too_large"


#: (Vietnamese, English) per code. Shown to people; the code itself never changes.
ERROR_MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.empty_file: ("Tệp rỗng (0 byte)", "The file is empty (0 bytes)"),
    ErrorCode.unreadable_file: (
        "Không đọc được tệp (quyền truy cập hoặc lỗi ổ đĩa)",
        "The file could not be read (permissions or a disk error)",
    ),
    ErrorCode.unsupported_type: (
        "Định dạng tệp không được hỗ trợ (chỉ nhận PDF, TIFF, JPEG, PNG)",
        "Unsupported file type (PDF, TIFF, JPEG and PNG are accepted)",
    ),
    ErrorCode.corrupt_pdf: (
        "Tệp PDF bị hỏng, không đọc được",
        "The PDF is damaged and cannot be read",
    ),
    ErrorCode.encrypted_pdf: (
        "Tệp PDF có mật khẩu, không mở được",
        "The PDF is protected by a password",
    ),
    ErrorCode.corrupt_image: (
        "Tệp ảnh bị hỏng, không đọc được",
        "The image is damaged and cannot be read",
    ),
    ErrorCode.image_too_large: (
        "Ảnh quá lớn (quá nhiều điểm ảnh) để xử lý an toàn",
        "The image has too many pixels to be processed safely",
    ),
    ErrorCode.too_many_pages: ("Tệp có quá nhiều trang", "The file has too many pages"),
    ErrorCode.file_too_large: ("Tệp quá lớn", "The file is too large"),
    ErrorCode.no_pages: ("Tệp không có trang nào", "The file has no pages"),
    ErrorCode.ocr_failed: ("Nhận dạng chữ (OCR) thất bại", "Text recognition (OCR) failed"),
    ErrorCode.extraction_failed: (
        "Không trích xuất được nội dung của tệp",
        "The content of the file could not be extracted",
    ),
    ErrorCode.internal_error: ("Lỗi hệ thống, hãy thử lại", "Internal error, please retry"),
    ErrorCode.cancelled: ("Đã huỷ theo yêu cầu", "Cancelled on request"),
    ErrorCode.corrupt_archive: (
        "Tệp nén ZIP bị hỏng hoặc dùng cách nén không hỗ trợ",
        "The ZIP archive is damaged or uses an unsupported compression method",
    ),
    ErrorCode.archive_too_large: (
        "Tệp nén ZIP chứa quá nhiều tệp hoặc giải nén ra quá lớn",
        "The ZIP archive holds too many files or unpacks to too many bytes",
    ),
    ErrorCode.encrypted_archive: (
        "Tệp trong ZIP có mật khẩu, không mở được",
        "The file inside the ZIP archive is protected by a password",
    ),
    ErrorCode.unsafe_archive_entry: (
        "Mục trong tệp ZIP không an toàn (đường dẫn ra ngoài, liên kết hoặc tệp thiết bị)",
        "Unsafe entry in the ZIP archive (a path leading outside it, a link or a device file)",
    ),
    ErrorCode.worker_crashed: (
        "Tệp làm dừng bộ xử lý nhiều lần, đã ngừng xử lý để không ảnh hưởng các tệp khác",
        "The file stopped a worker process several times; it is no longer processed",
    ),
    ErrorCode.duplicate_elsewhere: (
        "Tệp này đã được số hóa ở một đơn vị hoặc hồ sơ mà bạn không có quyền xem",
        "These bytes are already digitized in a unit or record you may not see",
    ),
    ErrorCode.quota_exceeded: (
        "Tài khoản đã đạt hạn mức tải lên (số tài liệu đang chờ hoặc dung lượng trong một "
        "giờ); hãy gửi tệp này sau",
        "The account reached its upload quota (documents waiting, or bytes in an hour); "
        "send this file later",
    ),
    ErrorCode.request_too_large: (
        "Yêu cầu tải lên vượt giới hạn số tệp hoặc dung lượng của một lần gửi; hãy gửi tệp "
        "này trong lần khác",
        "The upload request went past the files or bytes one request may store; send this "
        "file in another request",
    ),
}


def error_message(code: ErrorCode | str, lang: str = "vi") -> str:
    """The message people see for a code, Vietnamese by default."""
    vi, en = ERROR_MESSAGES[ErrorCode(code)]
    return vi if lang == "vi" else en
