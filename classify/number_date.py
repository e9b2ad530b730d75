"""The number and the date of a document: read from its header or found elsewhere, read a
second time where they are handwritten (`classify.evidence`), and checked against its digital
signatures and the documents it cites."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from classify.dates import DateRead, parse_date, parse_passed_date
from classify.elsewhere import date_elsewhere, number_elsewhere
from classify.evidence import (
    SECOND_ONLY,
    WITNESSED,
    Reading,
    cited_dates,
    decide,
    implausible,
    notation_value,
    number_value,
    same_symbol,
    signing_day,
    small_value,
)
from classify.header import Header
from classify.layout import PageInput, Row, page_rows
from classify.numbers import NumberRead, looks_misread
from schemas.record import Signature
from schemas.review import ReviewCode, ReviewReason


def reason(code: ReviewCode, field: str | None = None, detail: str | None = None) -> ReviewReason:
    return ReviewReason(code=code, field=field, detail=detail)


def ocr_confidence(base: float, engine: float | None) -> float:
    """A field's confidence, lowered when the OCR engine was unsure of its words."""
    if engine is None:
        return base
    return round(min(base, 0.45 + 0.55 * engine), 3)


def _second(readings: Mapping[str, Sequence[Reading]], name: str) -> list[tuple[str | None, float]]:
    if name == "number":
        return [(number_value(r.text), r.score) for r in readings.get(name, ())]
    top = 12 if name == "month" else 31
    return [(small_value(r.text, top), r.score) for r in readings.get(name, ())]


def _notation(
    number: NumberRead, readings: Sequence[Reading]
) -> tuple[str | None, int | None, str | None, bool]:
    """The symbol the number stands before: (notation, year, what is wrong, whether the
    printed text witnesses it). The printed one
    when the second reading's agrees with it (the number's shape against the symbol); the
    second reading's when Tesseract could read none and it needs no marks (no `Đ` to lose)."""
    seconds = [n for n in (notation_value(r.text) for r in readings) if n]
    second = max(set(seconds), key=seconds.count) if seconds else None
    printed = number.code_notation
    if printed is not None:
        full = f"{number.year}/{printed}" if number.year else printed
        if second is None or same_symbol(full, second):
            return printed, number.year, None, True
        return None, None, f"symbol {full} / {second}", False
    if second is None:
        return None, None, "no symbol", False
    witnessed = bool(number.loose_notation and same_symbol(number.loose_notation, second))
    if witnessed:
        second = number.loose_notation or second
    elif any(ch in second.upper() for ch in "DĐ"):
        return None, None, f"symbol {second}: marks unknown", False
    year_part, _, rest = second.rpartition("/")
    if year_part.isdigit() and len(year_part) == 4:
        return rest, int(year_part), None, witnessed
    return second, None, None, witnessed


def number_by_evidence(
    head: Header,
    readings: Mapping[str, Sequence[Reading]],
    doc: dict[str, Any],
    conf: dict[str, float],
    why: list[ReviewReason],
) -> None:
    """The number weighed with the second recognizer's readings of its gap."""
    number = head.number
    second = _second(readings, "number")
    if number is None or not second:
        return
    printed = number.code_number
    decision = decide(printed, head.number_confidence, second, unreadable="number_unreadable")
    if decision.confidence < 0:
        return
    code = decision.value
    notation, year, problem, witnessed = _notation(number, readings.get("number", ()))
    if notation is None:
        if number.number is None or decision.value != printed:
            doc["number"] = doc["code_number"] = None
            conf["number"] = 0.0
            why.append(reason(ReviewCode.readings_disagree, "number", problem))
        return
    if notation != number.code_notation:
        doc["code_notation"] = notation
    middle = f"/{year}" if year else ""
    doc["code_number"] = code
    doc["number"] = f"{code}{middle}/{notation}" if code else None
    conf["number"] = decision.confidence if code else 0.0
    if code and not witnessed:  # the symbol rests on the second reading alone
        conf["number"] = min(conf["number"], SECOND_ONLY)
    why[:] = [r for r in why if not (r.field == "number" and r.code == "number_unreadable")]
    if decision.why:
        why.append(reason(ReviewCode(decision.why), "number", decision.detail))


def read_number(
    head: Header, doc: dict[str, Any], conf: dict[str, float], why: list[ReviewReason]
) -> None:
    number = head.number
    if number is None:
        conf["number"] = 0.0
        why.append(reason(ReviewCode.number_missing, "number"))
        return
    doc.update(number=number.number, code_number=number.code_number)
    doc["code_notation"] = number.code_notation
    conf["number"] = ocr_confidence(0.85 if number.fixed else 0.97, head.number_confidence)
    if looks_misread(number.code_notation):
        conf["number"] = min(conf["number"], 0.6)
        why.append(reason(ReviewCode.symbol_misread, "number", number.code_notation))
    if number.number is None:
        conf["number"] = 0.0
        why.append(reason(ReviewCode.number_unreadable, "number"))


def read_date(
    head: Header, pages: Sequence[PageInput], doc: dict[str, Any], conf: dict[str, float],
    why: list[ReviewReason],
) -> None:  # fmt: skip
    read = head.date
    if read is not None and read.issued_on is not None:
        doc["issued_on"] = read.issued_on
        conf["issued_on"] = ocr_confidence(0.85 if read.fixed else 0.97, head.date_confidence)
    elif read is not None:
        conf["issued_on"] = 0.0
        why.append(reason(ReviewCode.date_unreadable, "issued_on", read.problem))
    else:  # a law prints no date line: the date it was passed is at its end
        passed = parse_passed_date("\n".join(p.text for p in pages[-2:]))
        conf["issued_on"] = 0.8 if passed else 0.0
        doc["issued_on"] = passed
        if passed is None:
            why.append(reason(ReviewCode.date_missing, "issued_on"))
    if read is not None and read.place:
        doc["place"] = read.place
        conf["place"] = ocr_confidence(0.9, head.date_confidence)


#: how much a number or date line found outside the header table is believed, before OCR's
#: own confidence: enough to pass review when the line reads whole
ELSEWHERE = 0.8


def lines_elsewhere(head: Header, pages: Sequence[PageInput], rows: list[Row]) -> set[str]:
    """A header without a number or date line: look on page 1 (a certificate's foot), then
    on the last page (a consolidated text's closing block). The fields found this way."""
    found: set[str] = set()
    if head.number is not None and head.date is not None:
        return found
    places = [rows] + ([page_rows(pages[-1])] if len(pages) > 1 else [])
    # a law prints no date line: the date it was passed, at its end, comes first
    passed = head.date is None and parse_passed_date("\n".join(p.text for p in pages[-2:]))
    for page in places:
        if head.number is None and (number := number_elsewhere(page)) is not None:
            head.number = number
            found.add("number")
        if head.date is None and not passed and (when := date_elsewhere(page)) is not None:
            head.date = when
            found.add("issued_on")
    return found


def _date_row(rows: Sequence[Row], head: Header) -> DateRead | None:
    """The date line read again across its segments: a handwritten day dropped out of the
    scan leaves a gap wide enough to split `ngày` from `tháng 3 năm 2024`."""
    for row in rows[: head.last_row + 2]:
        for i, seg in enumerate(row.segs):
            if re.search(r"\bng[a-z]{1,2}\b", seg.fold) and "can cu" not in seg.fold:
                found = parse_date(" ".join(s.text for s in row.segs[i:]), numeric=False)
                if found is not None and found.year is not None:
                    return found
    return None


def date_by_evidence(
    head: Header,
    rows: Sequence[Row],
    readings: Mapping[str, Sequence[Reading]],
    doc: dict[str, Any],
    conf: dict[str, float],
    why: list[ReviewReason],
) -> None:
    """Day and month weighed with the second recognizer's readings of their gaps."""
    read = head.date or _date_row(rows, head)
    day_second, month_second = _second(readings, "day"), _second(readings, "month")
    if read is None or read.year is None or not (day_second or month_second):
        return
    sure = head.date_confidence
    parts = []
    for printed, second in ((read.day, day_second), (read.month, month_second)):
        text = str(printed) if printed is not None else None
        decision = decide(text, sure, second, unreadable="date_unreadable")
        if decision.confidence < 0:  # nothing from the second reading: the first as it was
            base = conf.get("issued_on", 0.0) if read.issued_on else 0.0
            decision = replace(decision, confidence=base if text else 0.0)
        parts.append(decision)
    day, month = parts
    bad = next((p for p in parts if p.why and p.value is None), None)
    if day.value is None or month.value is None:
        doc["issued_on"], conf["issued_on"] = None, 0.0
        why.append(
            reason(ReviewCode((bad.why if bad else None) or "date_unreadable"), "issued_on",
                 bad.detail if bad else None)
        )  # fmt: skip
        return
    try:
        issued = date(read.year, int(month.value), int(day.value))
    except ValueError:
        doc["issued_on"], conf["issued_on"] = None, 0.0
        detail = f"no such date {day.value}/{month.value}/{read.year}"
        why.append(reason(ReviewCode.date_unreadable, "issued_on", detail))
        return
    doc["issued_on"] = issued
    conf["issued_on"] = min(day.confidence, month.confidence)
    why[:] = [r for r in why if r.field != "issued_on"]
    for part in parts:
        if part.why:
            why.append(reason(ReviewCode(part.why), "issued_on", part.detail))


def check_date(
    pages: Sequence[PageInput],
    signatures: Sequence[Signature],
    doc: dict[str, Any],
    conf: dict[str, float],
    why: list[ReviewReason],
) -> None:
    """A date after the digital signing or before a document the text cites is not the issue
    date: it is dropped. One equal to the signing day has a further witness."""
    issued = doc.get("issued_on")
    if not isinstance(issued, date):
        return
    signed = [signing_day(s.signed_at) for s in signatures if s.signed_at is not None]
    cited = cited_dates("\n".join(p.text for p in pages[:2]))
    problem = implausible(issued, signed, cited)
    if problem is not None:
        doc["issued_on"], conf["issued_on"] = None, 0.0
        why.append(reason(ReviewCode.date_implausible, "issued_on", problem))
    elif signed and issued == min(signed) and conf.get("issued_on", 0.0) >= 0.6:
        conf["issued_on"] = max(conf["issued_on"], WITNESSED)
