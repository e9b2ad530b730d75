"""Reading a mục lục hồ sơ: the archive's list of dossiers, one row each, as XLSX or CSV.

Columns are found by name, in any order: the TT 05/2025 XML names (`fileCode`, `title`,
`maintenance`, …) or their Vietnamese labels (`Mã hồ sơ`, `Tiêu đề hồ sơ`, `Thời hạn bảo
quản`, …), with or without diacritics. Codes may be written as codes (`01`, or `1` once a
spreadsheet has made a number of it) or as the words archivists use (`Vĩnh viễn`, `Công
khai`). Every row is checked on its own against the dossier model: a bad row is reported with
its line number and reason, and the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.dossier import Dossier

#: the header row is looked for in the first rows of the sheet (a title may sit above it)
HEADER_SEARCH_ROWS = 10
#: rows beyond this are not read: a catalogue of a whole archive is split by fonds
MAX_ROWS = 100_000


class CatalogError(Exception):
    """The file as a whole cannot be read as a catalogue (not XLSX/CSV, no fileCode column)."""


@dataclass(frozen=True)
class RowProblem:
    line: int  # as the spreadsheet numbers it (the header is a line too)
    file_code: str | None
    reason: str


@dataclass
class Catalog:
    dossiers: list[tuple[int, Dossier]] = field(default_factory=list)  # (line, dossier)
    problems: list[RowProblem] = field(default_factory=list)
    #: columns of the file that are no dossier field (kept out, reported once)
    ignored_columns: list[str] = field(default_factory=list)


def _key(text: str) -> str:
    """A column name or a word folded for matching: no diacritics, đ as d, letters only."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c)).lower()


_FIELD_NAMES: dict[str, Sequence[str]] = {
    "file_code": ("fileCode", "Mã hồ sơ", "Số và ký hiệu hồ sơ", "Số ký hiệu hồ sơ"),
    "title": ("title", "Tiêu đề hồ sơ", "Tiêu đề", "Tên hồ sơ"),
    "maintenance": ("maintenance", "Thời hạn bảo quản", "Thời hạn lưu trữ"),
    "mode": ("mode", "Chế độ sử dụng"),
    "languages": ("language", "Ngôn ngữ"),
    "start_date": ("startDate", "Thời gian bắt đầu", "Ngày bắt đầu"),
    "end_date": ("endDate", "Thời gian kết thúc", "Ngày kết thúc"),
    "keyword": ("keyword", "Từ khóa", "Từ khoá"),
    "number_of_paper": ("numberOfPaper", "Số lượng tờ", "Số tờ"),
    "format": ("format", "Tình trạng vật lý"),
    "infor_sign": ("inforSign", "Ký hiệu thông tin"),
    "confidence_level": ("confidenceLevel", "Mức độ tin cậy"),
    "paper_file_code": ("paperFileCode", "Mã hồ sơ giấy gốc", "Mã hồ sơ gốc giấy"),
    "risk_recovery": ("riskRecovery", "Chế độ dự phòng"),
    "risk_recovery_status": ("riskRecoveryStatus", "Tình trạng dự phòng"),
    "description": ("description", "Ghi chú", "Mô tả"),
}
#: columns a catalogue may carry that follow from the documents: read, never trusted
_COMPUTED = {_key(n) for n in ("totalDoc", "Tổng số văn bản", "numberOfPage", "Số lượng trang")}
_COLUMNS = {_key(name): f for f, names in _FIELD_NAMES.items() for name in names}

_WORDS: dict[str, dict[str, str]] = {
    "maintenance": {"vinhvien": "01", "70nam": "02", "50nam": "03", "30nam": "04",
                    "20nam": "05", "10nam": "06", "khac": "07"},
    "mode": {"congkhai": "01", "hanche": "02", "sudungcodieukien": "02", "mat": "03"},
    "languages": {"tiengviet": "01", "viet": "01", "tienganh": "02", "anh": "02",
                  "tiengphap": "03", "phap": "03", "tiengnga": "04", "nga": "04",
                  "tiengtrung": "05", "trung": "05", "hannom": "09", "khac": "11"},
    "format": {"tot": "01", "binhthuong": "02", "huhong": "03", "hong": "03"},
    "confidence_level": {"goc": "01", "gocdientu": "01", "dientu": "01", "sohoa": "02",
                         "honhop": "03"},
    "risk_recovery_status": {"da": "01", "daco": "01", "chua": "02", "chuaco": "02"},
}  # fmt: skip
_YES = {"1", "x", "co", "true", "yes", "dung"}
_NO = {"", "0", "khong", "false", "no", "sai"}


def read_catalog(path: Path) -> Catalog:
    """Every dossier row of the file at `path` (.xlsx or .csv); CatalogError when the file is
    no catalogue at all."""
    return parse_catalog(path.read_bytes(), path.name)


def parse_catalog(data: bytes, name: str) -> Catalog:
    """The same, from the file's bytes; the type is told by the bytes (an XLSX is a zip)."""
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif name.lower().endswith((".xlsx", ".xlsm")):
        raise CatalogError(f"{name}: not a readable XLSX workbook")
    else:
        rows = _csv_rows(data)
    return _read_rows(rows)


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # only a workbook needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise CatalogError(f"not a readable XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    for encoding in ("utf-8-sig", "cp1258", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _read_rows(rows: Iterable[list[Any]]) -> Catalog:
    catalog = Catalog()
    header: list[str | None] | None = None
    for line, row in enumerate(rows, start=1):
        if header is None:
            if line > HEADER_SEARCH_ROWS:
                break
            found = [_COLUMNS.get(_key(str(c))) if c is not None else None for c in row]
            if "file_code" in found:
                header = found
                catalog.ignored_columns = [
                    str(c) for c, f in zip(row, found, strict=True)
                    if c not in (None, "") and f is None and _key(str(c)) not in _COMPUTED
                ]  # fmt: skip
            continue
        if line > MAX_ROWS:
            catalog.problems.append(RowProblem(line, None, f"more than {MAX_ROWS} rows"))
            break
        values = {f: v for f, v in zip(header, row, strict=False) if f is not None}
        if all(v in (None, "") for v in values.values()):
            continue  # an empty row between groups
        _read_row(catalog, line, values)
    if header is None:
        raise CatalogError(
            "no header row with a fileCode (Mã hồ sơ) column in the first "
            f"{HEADER_SEARCH_ROWS} rows"
        )
    _flag_repeats(catalog)
    return catalog


def _read_row(catalog: Catalog, line: int, values: dict[str, Any]) -> None:
    code = _text(values.get("file_code"))
    try:
        fields = {f: _value(f, v) for f, v in values.items()}
        dossier = Dossier.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValueError as exc:  # pydantic's ValidationError is one too
        catalog.problems.append(RowProblem(line, code, _reason(exc)))
        return
    catalog.dossiers.append((line, dossier))


def _flag_repeats(catalog: Catalog) -> None:
    """A code twice in one file: the first row is kept, the others reported."""
    seen: dict[str, int] = {}
    kept = []
    for line, dossier in catalog.dossiers:
        first = seen.setdefault(dossier.file_code, line)
        if first != line:
            catalog.problems.append(
                RowProblem(line, dossier.file_code, f"the same fileCode as line {first}")
            )
        else:
            kept.append((line, dossier))
    catalog.dossiers = kept
    catalog.problems.sort(key=lambda p: p.line)


def _reason(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "row"
            parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
        return "; ".join(parts)
    return str(exc)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def _value(name: str, value: Any) -> Any:
    if name in ("start_date", "end_date"):
        return _date(value)
    if name == "risk_recovery":
        return _yes(value)
    if name == "number_of_paper":
        text = _text(value)
        if text is not None and not text.isdigit():
            raise ValueError(f"numberOfPaper: {text!r} is not a whole number of sheets")
        return int(text) if text is not None else None
    if name == "languages":
        text = _text(value)
        if text is None:
            return None
        return [_code(name, part) for part in text.replace(";", ",").split(",") if part.strip()]
    if name in _WORDS:
        text = _text(value)
        return None if text is None else _code(name, text)
    return _text(value)


def _code(name: str, text: str) -> str:
    text = text.strip()
    if text.isdigit():
        return text.zfill(2)
    return _WORDS[name].get(_key(text), text)  # an unknown word fails validation, named


def _yes(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    key = _key(_text(value) or "")
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError(f"riskRecovery: {value!r} is neither yes (1, x, có) nor no (0, không)")


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    for form in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (DD/MM/YYYY)")
