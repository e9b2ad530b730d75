"""The words of the web pages, Vietnamese first, English on request (cookie `lang=vi|en`).

Every label is one entry of `MESSAGES` with both languages; a test keeps every key a template
or script uses in the dictionary. Dates are dd/mm/yyyy in both languages (the office
convention); numbers follow the language (1.234,5 in Vietnamese, 1,234.5 in English).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone

from schemas.auth import ROLE_LABELS, Role
from schemas.errors import ERROR_MESSAGES
from schemas.plan import MEASURE_LABELS, PACE_LABELS
from schemas.review import review_message

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
LANG_COOKIE = "lang"
VIETNAM = timezone(timedelta(hours=7))

#: key → (Vietnamese, English); `{name}` placeholders are filled by `translate`
MESSAGES: dict[str, tuple[str, str]] = {
    # --- frame ---
    "app.name": ("Số hoá lưu trữ", "Archive digitization"),
    "app.skip": ("Bỏ qua, tới nội dung chính", "Skip to the main content"),
    "nav.main": ("Điều hướng chính", "Main navigation"),
    "nav.dashboard": ("Tổng quan", "Dashboard"),
    "nav.upload": ("Tải lên", "Upload"),
    "nav.batches": ("Lô tài liệu", "Batches"),
    "nav.review": ("Kiểm tra", "Review"),
    "nav.search": ("Tra cứu", "Search"),
    "nav.logout": ("Đăng xuất", "Log out"),
    "nav.lang": ("Ngôn ngữ", "Language"),
    "nav.signed_in": ("Đang đăng nhập: {name}", "Signed in as {name}"),
    "common.none": ("—", "—"),
    "common.yes": ("Có", "Yes"),
    "common.no": ("Không", "No"),
    "common.open": ("Xem", "Open"),
    "common.home": ("Về trang chủ", "Back to the start page"),
    "common.all": ("Tất cả", "All"),
    "common.pages": ("{n} trang", "{n} pages"),
    # --- login ---
    "login.title": ("Đăng nhập", "Log in"),
    "login.intro": (
        "Dành cho cán bộ văn thư, lưu trữ và lãnh đạo của quận, phường.",
        "For the archive staff and supervisors of the district and its wards.",
    ),
    "login.username": ("Tên đăng nhập", "User name"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Log in"),
    "js.login.wrong": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "js.login.missing": (
        "Hãy nhập tên đăng nhập và mật khẩu.",
        "Enter your user name and password.",
    ),
    "js.login.busy": ("Đang đăng nhập…", "Logging in…"),
    "js.login.throttled": (
        "Quá nhiều lần đăng nhập sai. Hãy thử lại sau 15 phút.",
        "Too many failed logins. Try again in 15 minutes.",
    ),
    # --- errors ---
    "error.404.title": ("Không tìm thấy", "Not found"),
    "error.404.text": (
        "Trang hoặc tài liệu này không tồn tại, hoặc bạn không có quyền xem.",
        "This page or record does not exist, or you may not see it.",
    ),
    "error.403.title": ("Không có quyền truy cập", "Not allowed"),
    "error.403.text": (
        "Tài khoản của bạn không được dùng trang này.",
        "Your account may not use this page.",
    ),
    "js.err.network": (
        "Mất kết nối tới máy chủ; hãy kiểm tra mạng rồi thử lại.",
        "The server cannot be reached; check the network and try again.",
    ),
    "js.err.session": (
        "Phiên đăng nhập đã hết hạn; hãy đăng nhập lại.",
        "Your session has expired; please log in again.",
    ),
    "js.err.forbidden": ("Bạn không có quyền làm việc này.", "You may not do this."),
    "js.err.server": (
        "Máy chủ báo lỗi ({status}).",
        "The server answered with an error ({status}).",
    ),
    "js.err.too_large": ("Tệp quá lớn để gửi.", "The file is too large to send."),
    # --- states ---
    "status.queued": ("Đang chờ", "Queued"),
    "status.processing": ("Đang xử lý", "Processing"),
    "status.digitized": ("Đã số hoá", "Digitized"),
    "status.needs_review": ("Chờ kiểm tra", "Needs review"),
    "status.failed": ("Lỗi", "Failed"),
    "outcome.accepted": ("Đã nhận", "Received"),
    "outcome.duplicate": ("Trùng tệp đã có", "Already uploaded"),
    "outcome.rejected": ("Bị từ chối", "Rejected"),
    # --- dashboard ---
    "dash.title": ("Tiến độ số hoá", "Digitization progress"),
    "dash.plan": ("Kế hoạch {number} ngày {date}", "Plan {number} of {date}"),
    "dash.as_of": ("Số liệu đến ngày {date}", "Figures as of {date}"),
    "dash.no_plan": (
        "Chưa nạp kế hoạch số hoá: chưa có mục tiêu để so sánh (sohoa plan load).",
        "No digitization plan is loaded yet: there is no target to compare with (sohoa plan load).",
    ),
    "dash.summary": ("Toàn quận", "Whole district"),
    "dash.digitized_docs": ("Văn bản đã số hoá", "Documents digitized"),
    "dash.digitized_pages": ("Trang đã số hoá", "Pages digitized"),
    "dash.share": ("Tỷ lệ so với kiểm kê", "Share of the inventory"),
    "dash.pace": ("Trang / ngày làm việc", "Pages per working day"),
    "dash.pace_window": (
        "bình quân {days} ngày gần nhất",
        "average over the last {days} days",
    ),
    "dash.projected": ("Dự kiến hoàn thành", "Projected completion"),
    "dash.indicators": ("Chỉ tiêu của kế hoạch", "Indicators of the plan"),
    "dash.units": ("Tiến độ từng đơn vị", "Progress per unit"),
    "dash.units_hint": (
        "Đơn vị chậm hoặc có nguy cơ chậm đứng đầu. Vạch dọc là mục tiêu.",
        "Late and at-risk units come first. The vertical line is the target.",
    ),
    "dash.chart": ("Số trang số hoá mỗi ngày", "Pages digitized per day"),
    "dash.chart_range": ("Từ {start} đến {end}", "From {start} to {end}"),
    "dash.chart_empty": (
        "Chưa có trang nào được số hoá trong khoảng thời gian này.",
        "No page was digitized in this period.",
    ),
    "dash.chart_bar": (
        "{date}: {pages} trang, {documents} văn bản",
        "{date}: {pages} pages, {documents} documents",
    ),
    "dash.quality": ("Chất lượng", "Quality"),
    "dash.export": ("Xuất báo cáo", "Export the report"),
    "dash.xlsx": ("Tải báo cáo Excel (.xlsx)", "Download the Excel report (.xlsx)"),
    "dash.csv": ("Tải bảng CSV", "Download the CSV table"),
    "dash.target_of": ("mục tiêu {target}", "target {target}"),
    "dash.of_inventory": ("{done} / {inventory} {measure}", "{done} / {inventory} {measure}"),
    "dash.no_inventory": ("chưa kiểm kê", "not counted yet"),
    "q.documents": ("Văn bản có nội dung", "Documents with content"),
    "q.needs_review": ("Chờ kiểm tra", "Waiting for review"),
    "q.failed": ("Lỗi", "Failed"),
    "q.review_share": ("Tỷ lệ phải kiểm tra", "Share sent to review"),
    "q.ocr": ("Độ tin cậy OCR trung bình", "Mean OCR confidence"),
    "col.unit": ("Đơn vị", "Unit"),
    "col.progress": ("Tiến độ", "Progress"),
    "col.digitized": ("Đã số hoá", "Digitized"),
    "col.target": ("Mục tiêu", "Target"),
    "col.deadline": ("Hạn", "Deadline"),
    "col.pace": ("Trang / ngày LV", "Pages / working day"),
    "col.projected": ("Dự kiến xong", "Projected"),
    "col.status": ("Tình trạng", "Status"),
    "col.indicator": ("Chỉ tiêu", "Indicator"),
    "col.units": ("Đơn vị tính", "Units counted"),
    "col.file": ("Tệp", "File"),
    "col.size": ("Dung lượng", "Size"),
    "col.result": ("Kết quả", "Result"),
    "col.created": ("Thời điểm tạo", "Created"),
    "col.label": ("Ghi chú", "Label"),
    "col.files": ("Số tệp", "Files"),
    "col.pages": ("Trang", "Pages"),
    "col.by": ("Người tải lên", "Uploaded by"),
    "col.when": ("Thời điểm", "When"),
    "col.who": ("Người sửa", "Who"),
    "col.field": ("Trường", "Field"),
    "col.old": ("Giá trị cũ", "Old value"),
    "col.new": ("Giá trị mới", "New value"),
    "col.action": ("Thao tác", "Action"),
    # --- upload ---
    "upload.title": ("Tải lên tài liệu quét", "Upload scanned records"),
    "upload.unit": ("Đơn vị (phông lưu trữ)", "Unit (archival fonds)"),
    "upload.dossier": ("Mã hồ sơ", "Dossier code"),
    "upload.dossier_hint": ("Ví dụ: H49.64.33.2001.160", "For example H49.64.33.2001.160"),
    "upload.label": ("Ghi chú của lô", "Batch label"),
    "upload.label_hint": ("Ví dụ: Hộp 12, giá 3", "For example Box 12, shelf 3"),
    "upload.drop": (
        "Kéo thả một thư mục hoặc nhiều tệp vào đây",
        "Drag a folder or many files here",
    ),
    "upload.or": ("hoặc", "or"),
    "upload.choose_files": ("Chọn tệp…", "Choose files…"),
    "upload.choose_folder": ("Chọn thư mục…", "Choose a folder…"),
    "upload.accepts": (
        "Nhận PDF, TIFF, JPEG, PNG và tệp nén ZIP. Tệp được gửi theo từng nhóm {n} tệp.",
        "PDF, TIFF, JPEG, PNG and ZIP archives are accepted. Files are sent in groups of {n}.",
    ),
    "upload.start": ("Bắt đầu tải lên", "Start the upload"),
    "upload.clear": ("Xoá danh sách", "Clear the list"),
    "upload.files": ("Tệp đã chọn", "Chosen files"),
    "js.upload.waiting": ("Chờ gửi", "Waiting"),
    "js.upload.sending": ("Đang gửi", "Sending"),
    "js.upload.received": ("Đã nhận, đang chờ xử lý", "Received, queued"),
    "js.upload.duplicate": ("Trùng tệp đã tải lên trước đây", "Already uploaded before"),
    "js.upload.rejected": ("Bị từ chối", "Rejected"),
    "js.upload.failed": ("Gửi không được: {reason}", "Not sent: {reason}"),
    "js.upload.skipped": ("Bỏ qua (tệp hệ thống)", "Skipped (a system file)"),
    "js.upload.retrying": ("Mạng chập chờn, đang gửi lại…", "Network trouble, sending again…"),
    "js.upload.none": ("Chưa chọn tệp nào.", "No file chosen yet."),
    "js.upload.total": ("{n} tệp, {size}", "{n} files, {size}"),
    "js.upload.no_unit": ("Hãy chọn đơn vị.", "Choose a unit."),
    "js.upload.done_one": (
        "Đã gửi xong. Đang mở trang theo dõi lô…",
        "All sent. Opening the batch page…",
    ),
    "js.upload.done_many": ("Đã gửi xong, thành {n} lô:", "All sent, as {n} batches:"),
    "js.upload.batch_link": ("Lô {n}", "Batch {n}"),
    "js.upload.busy": (
        "Đang tải lên; hãy giữ trang này mở tới khi xong.",
        "Uploading; keep this page open until it is done.",
    ),
    # --- batches ---
    "batches.title": ("Các lô đã tải lên", "Uploaded batches"),
    "batches.empty": ("Chưa có lô nào.", "No batch yet."),
    "batches.new": ("Tải lên lô mới", "Upload a new batch"),
    "batch.title": ("Lô tài liệu", "Batch"),
    "batch.done": ("Đã xử lý xong", "Done"),
    "batch.running": ("Đang xử lý", "In progress"),
    "batch.pages": ("{done} / {total} trang đã đọc", "{done} / {total} pages read"),
    "batch.files": ("{n} tệp", "{n} files"),
    "batch.eta": ("còn khoảng {time}", "about {time} left"),
    "batch.pace": ("{n} trang/phút", "{n} pages/minute"),
    "batch.retry_all": ("Thử lại các tệp lỗi", "Retry the failed files"),
    "batch.retry": ("Thử lại", "Retry"),
    "batch.live": ("Đang cập nhật trực tiếp", "Updating live"),
    "batch.finished": ("Lô đã xử lý xong.", "The batch is done."),
    "batch.created": ("Tạo lúc {when} bởi {who}", "Created {when} by {who}"),
    "batch.dossier": ("Hồ sơ {code}", "Dossier {code}"),
    "js.batch.retried": ("Đã đưa {n} tệp vào hàng đợi lại.", "{n} files queued again."),
    "js.batch.retry_one": ("Đã đưa tệp vào hàng đợi lại.", "The file is queued again."),
    "js.batch.nothing": ("Không có tệp lỗi nào để thử lại.", "No failed file to retry."),
    "js.batch.offline": (
        "Mất cập nhật trực tiếp; đang thử lại…",
        "Live updates lost; reconnecting…",
    ),
    "js.batch.minutes": ("{n} phút", "{n} min"),
    "js.batch.seconds": ("{n} giây", "{n} s"),
    # --- review ---
    "review.title": ("Kiểm tra kết quả nhận dạng", "Review what was read"),
    "review.empty": (
        "Không còn tài liệu nào chờ kiểm tra.",
        "No record is waiting for review.",
    ),
    "review.queue": ("Hàng chờ kiểm tra ({n})", "Review queue ({n})"),
    "review.position": ("Tài liệu {i} / {n}", "Record {i} of {n}"),
    "review.help": (
        "Enter: chấp nhận hoặc lưu · E: sửa trường chưa chắc · Esc: huỷ sửa · "
        "J hoặc N: tài liệu sau · K hoặc P: tài liệu trước",
        "Enter: accept or save · E: edit an uncertain field · Esc: cancel the edit · "
        "J or N: next record · K or P: previous record",
    ),
    "review.reasons": ("Vì sao cần kiểm tra", "Why it needs review"),
    "review.uncertain": ("chưa chắc chắn", "uncertain"),
    "review.accept": ("Chấp nhận (Enter)", "Accept (Enter)"),
    "review.save": ("Lưu và chấp nhận (Enter)", "Save and accept (Enter)"),
    "review.cancel": ("Huỷ sửa (Esc)", "Cancel the edit (Esc)"),
    "review.next": ("Tài liệu sau (J)", "Next (J)"),
    "review.prev": ("Tài liệu trước (K)", "Previous (K)"),
    "review.fields": ("Thông tin đọc được", "Fields as read"),
    "review.page_image": ("Ảnh trang {n}", "Image of page {n}"),
    "js.review.saved": ("Đã lưu sửa đổi.", "The corrections are saved."),
    "js.review.accepted": ("Đã chấp nhận.", "Accepted."),
    "js.review.stale": (
        "Tài liệu vừa được người khác sửa; trang đã tải lại bản mới.",
        "Someone else changed this record; the page now shows the new version.",
    ),
    "js.review.invalid": ("Giá trị không hợp lệ: {field}", "Invalid value: {field}"),
    "js.review.date_format": (
        "Ngày phải có dạng dd/mm/yyyy, ví dụ 29/05/2023.",
        "A date is written dd/mm/yyyy, for example 29/05/2023.",
    ),
    "js.review.not_waiting": (
        "Tài liệu này không còn chờ kiểm tra.",
        "This record no longer waits for review.",
    ),
    "js.review.unsaved": (
        "Có sửa đổi chưa lưu: Enter để lưu, Esc để huỷ.",
        "There are unsaved corrections: Enter saves them, Esc discards them.",
    ),
    "js.review.saving": ("Đang lưu…", "Saving…"),
    "js.review.changed": ("{n} trường đã sửa", "{n} fields changed"),
    # --- fields of a record ---
    "field.type": ("Loại văn bản", "Document type"),
    "field.number": ("Số, ký hiệu", "Number and symbol"),
    "field.issued_on": ("Ngày ban hành", "Date issued"),
    "field.place": ("Địa danh", "Place"),
    "field.issuer": ("Cơ quan ban hành", "Issuing body"),
    "field.subject": ("Trích yếu nội dung", "Subject"),
    "field.signer": ("Người ký", "Signed by"),
    "field.signer_title": ("Chức vụ người ký", "Signer's title"),
    "field.secrecy": ("Độ mật", "Secrecy"),
    "field.urgency": ("Độ khẩn", "Urgency"),
    "field.confidence": ("Độ tin cậy", "Confidence"),
    "field.unit": ("Đơn vị", "Unit"),
    "field.dossier": ("Hồ sơ", "Dossier"),
    "field.filename": ("Tên tệp", "File name"),
    "field.media_type": ("Định dạng", "Format"),
    "field.size": ("Dung lượng", "Size"),
    "field.pages": ("Số trang", "Pages"),
    "field.status": ("Trạng thái", "Status"),
    "field.created": ("Tải lên lúc", "Uploaded"),
    "field.updated": ("Cập nhật lúc", "Updated"),
    "field.batch": ("Lô", "Batch"),
    "field.unit_change": ("Đơn vị", "Unit"),
    "secrecy.none": ("Không mật", "Not secret"),
    "secrecy.mat": ("Mật", "Confidential"),
    "secrecy.toi_mat": ("Tối mật", "Secret"),
    "secrecy.tuyet_mat": ("Tuyệt mật", "Top secret"),
    "urgency.none": ("Thường", "Normal"),
    "urgency.khan": ("Khẩn", "Urgent"),
    "urgency.thuong_khan": ("Thượng khẩn", "Very urgent"),
    "urgency.hoa_toc": ("Hỏa tốc", "Flash"),
    "type.none": ("Chưa xác định", "Unknown"),
    # --- search ---
    "search.title": ("Tra cứu tài liệu", "Search the records"),
    "search.label": ("Từ cần tìm", "Words to find"),
    "search.placeholder": (
        "Ví dụ: quyet dinh thanh lap (có dấu hay không dấu đều được)",
        "For example quyet dinh thanh lap (with or without diacritics)",
    ),
    "search.submit": ("Tìm", "Search"),
    "search.unit": ("Đơn vị", "Unit"),
    "search.status": ("Trạng thái", "Status"),
    "search.hint": (
        "Tìm không phân biệt dấu: “quyet dinh” tìm thấy “quyết định”.",
        "Diacritics are ignored: “quyet dinh” finds “quyết định”.",
    ),
    "js.search.none": ("Không tìm thấy tài liệu nào.", "No record found."),
    "js.search.loading": ("Đang tìm…", "Searching…"),
    "js.search.more": ("Xem thêm kết quả", "More results"),
    "js.search.page": ("trang {n}", "page {n}"),
    "js.search.untitled": ("(chưa đọc được trích yếu)", "(no subject read)"),
    "js.search.shown": ("Đang hiện {n} kết quả", "Showing {n} results"),
    # --- record ---
    "record.title": ("Tài liệu", "Record"),
    "record.metadata": ("Thông tin văn bản", "Document"),
    "record.source": ("Tệp đã tải lên", "Uploaded file"),
    "record.downloads": ("Tải về", "Downloads"),
    "record.pdf": ("PDF tìm kiếm được", "Searchable PDF"),
    "record.original": ("Tệp gốc", "Original file"),
    "record.text": ("Văn bản thuần (.txt)", "Plain text (.txt)"),
    "record.pages": ("Các trang", "Pages"),
    "record.page_n": ("Trang {n}", "Page {n}"),
    "record.method.ocr": ("nhận dạng OCR, độ tin cậy {conf}", "OCR, confidence {conf}"),
    "record.method.text-layer": ("lớp chữ có sẵn của PDF", "the PDF's own text layer"),
    "record.error": ("Số hoá không thành công", "Digitizing failed"),
    "record.history": ("Lịch sử chỉnh sửa", "Corrections"),
    "record.review": ("Kiểm tra tài liệu này", "Review this record"),
    "record.more_pages": (
        "Đang hiện {shown} trang đầu trong {total} trang; tải PDF để xem toàn bộ.",
        "Showing the first {shown} of {total} pages; download the PDF for all of them.",
    ),
    "record.hover_hint": (
        "Di chuột lên trang để thấy các từ đã nhận dạng; từ khớp với tìm kiếm được tô sáng.",
        "Hover over a page to see the recognised words; words matching the search are highlighted.",
    ),
    "record.highlight": ("Tô sáng từ", "Highlight words"),
    "record.no_pages": (
        "Chưa có trang nào để xem (tài liệu chưa số hoá xong).",
        "No page to show yet (the record is not digitized).",
    ),
    "js.record.matches": ("{n} từ khớp trên trang này", "{n} matching words on this page"),
}


def _add_labels() -> None:
    """Labels defined next to their enums elsewhere, under keys of their own."""
    for role, (vi, en) in ROLE_LABELS.items():
        MESSAGES[f"role.{role.value}"] = (vi, en)
    for pace, (vi, en) in PACE_LABELS.items():
        MESSAGES[f"pace.{pace.value}"] = (vi, en)
    for measure, (vi, en) in MEASURE_LABELS.items():
        MESSAGES[f"measure.{measure.value}"] = (vi, en)
    for code, (vi, en) in ERROR_MESSAGES.items():
        MESSAGES[f"js.errorcode.{code.value}"] = (vi, en)


_add_labels()

#: the messages the page scripts use, by prefix
_JS_PREFIXES = ("js.", "status.", "outcome.", "field.", "common.", "batch.")


def pick_lang(value: str | None) -> str:
    """A supported language from a cookie or query value; Vietnamese otherwise."""
    value = (value or "").strip().lower()[:5]
    return value if value in LANGS else DEFAULT_LANG


def translate(key: str, lang: str, **params: object) -> str:
    """The message `key` in `lang`, placeholders filled. An unknown key raises KeyError:
    a label missing from the dictionary is a bug the tests must see."""
    vi, en = MESSAGES[key]
    text = en if lang == "en" else vi
    return text.format(**params) if params else text


class Translator:
    """`t("key", name=value)` in templates, bound to one language."""

    def __init__(self, lang: str) -> None:
        self.lang = pick_lang(lang)

    def __call__(self, key: str, **params: object) -> str:
        return translate(key, self.lang, **params)


def js_messages(lang: str, prefixes: Iterable[str] = _JS_PREFIXES) -> dict[str, str]:
    """The messages the scripts of a page need, in `lang`."""
    prefixes = tuple(prefixes)
    return {k: translate(k, lang) for k in MESSAGES if k.startswith(prefixes)}


def review_reason_text(reason: object, lang: str) -> str:
    """One review reason as people read it: the code's message, the field it is about and
    the detail; a reason stored as plain text by an older version is shown as it is."""
    if not isinstance(reason, dict):
        return str(reason)
    try:
        text = review_message(reason.get("code", ""), lang)
    except ValueError:
        return str(reason.get("detail") or reason.get("code") or "")
    field = reason.get("field")
    if field and f"field.{field}" in MESSAGES:
        text = f"{translate(f'field.{field}', lang)}: {text}"
    if reason.get("detail"):
        text = f"{text} ({reason['detail']})"
    return text


def role_label(role: Role | str | None, lang: str) -> str:
    return translate(f"role.{Role(role).value}", lang) if role else ""


# --- formats ---------------------------------------------------------------------------------


def fmt_date(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy (a datetime is shown as its Vietnamese calendar day); '' for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = _in_vietnam(value).date()
    return value.strftime("%d/%m/%Y")


def fmt_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time; '' for None."""
    if value is None:
        return ""
    return _in_vietnam(value).strftime("%d/%m/%Y %H:%M")


def _in_vietnam(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM)


def fmt_number(value: float | int | None, lang: str, digits: int = 0) -> str:
    """1.234,5 (Vietnamese) or 1,234.5 (English); '' for None."""
    if value is None:
        return ""
    text = f"{value:,.{digits}f}"
    if lang == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_percent(share: float | None, lang: str, digits: int = 1) -> str:
    """A share 0–1 as a percentage: '12,5 %' (Vietnamese) or '12.5%' (English)."""
    if share is None:
        return ""
    number = fmt_number(share * 100, lang, digits)
    if digits:  # 12,0 % reads better as 12 %
        number = number.rstrip("0").rstrip(",.")
    return f"{number} %" if lang == "vi" else f"{number}%"


def fmt_size(size: int | None, lang: str) -> str:
    """A byte count for people: 12,3 MB."""
    if size is None:
        return ""
    units = ("B", "KB", "MB", "GB", "TB")
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    return f"{fmt_number(value, lang, 0 if unit == 0 else 1)} {units[unit]}"
