"""`classify()`: the document block of a record from its pages, with a confidence per field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from classify.evidence import Reading
from classify.gazetteer import correct_names, joint_issuers, official, official_place
from classify.header import Header, consolidated_issuer, find_marks, read_header
from classify.hints import Hints
from classify.issuer import (
    locality,
    match_unit,
    proper_case,
    restore_marks,
    split_parent,
    title_case,
)
from classify.layout import PageInput, Row, page_rows
from classify.number_date import (
    ELSEWHERE,
    check_date,
    date_by_evidence,
    lines_elsewhere,
    number_by_evidence,
    ocr_confidence,
    read_date,
    read_number,
)
from classify.number_date import reason as _why
from classify.numbers import repair_type_part
from classify.signer import SignerRead, read_signer, strip_honorifics
from classify.signer_evidence import decide_name
from classify.subject import TitleRead, read_title
from classify.text import fold
from classify.types import lookup, type_from_abbreviation
from schemas.record import DocumentInfo, Signature
from schemas.review import ReviewCode, ReviewReason
from schemas.unit import Unit
from schemas.vocab import default_units

#: a key field below this confidence sends the record to review. Chosen on the measured sets
#: (tests/data/classify_eval.py): every wrong number read from OCR with word boxes scored
#: below it, while right values read from old typed dates (0.70–0.80) pass.
REVIEW_BELOW = 0.7
KEY_FIELDS = ("type", "number", "issued_on", "issuer")
#: the description's other fields: a trích yếu or a signer that could not be read is a blank
#: in the archive's description (TT 05/2025), so it sends the record to review too, below a
#: lower bar (their confidences weigh the reading's shape, not the OCR engine's alone)
DESCRIPTIVE_FIELDS = ("subject", "signer")
DESCRIPTIVE_BELOW = 0.5
_MISSING = {"subject": ReviewCode.subject_missing, "signer": ReviewCode.signer_missing}
#: how many pages from the end are searched for the signature block
SIGNER_PAGES = 3


@dataclass(frozen=True)
class Classification:
    """What was read, how sure each field is (0–1), and whether a person should look."""

    document: DocumentInfo
    field_confidence: dict[str, float]
    needs_review: bool
    reasons: list[ReviewReason] = field(default_factory=list)
    unit: str | None = None  # code of the known unit that issued it
    unit_confidence: float = 0.0
    issuer_parent: str | None = None  # the body above the issuer (`Ủy ban nhân dân quận …`)
    header: str | None = None  # the issuer block as read: the key `Hints` learn from


def _unique(reasons: list[ReviewReason]) -> list[ReviewReason]:
    seen: dict[tuple[str, str | None], ReviewReason] = {}
    for reason in reasons:
        seen.setdefault((reason.code, reason.field), reason)
    return list(seen.values())


def _type(
    head: Header, title: TitleRead, hints: Hints | None
) -> tuple[str | None, float, ReviewReason | None]:
    number = head.number
    part = number.type_part if number else None
    abbr = (hints.type_for(part) if hints else None) or type_from_abbreviation(part)
    label = number.label if number else None
    if title.title is not None:
        t = title.title
        if abbr is None or abbr == t.code:
            return t.code, (0.99 if abbr else t.score), None
        detail = f"title says {t.code}, symbol says {abbr}"
        return t.code, t.score - 0.3, _why(ReviewCode.type_conflict, "type", detail)
    if label in ("luat", "phap lenh"):
        return ("luat" if label == "luat" else "khac"), 0.85, None
    if title.vv:  # `V/v` under the number is the công văn's own mark; `TTr` may be Thanh tra
        return "cong_van", 0.95 if abbr is None else 0.8, None
    if abbr is not None:
        return abbr, 0.85, None
    if title.salutation:
        return "cong_van", 0.85, None
    if number is not None and number.code_notation:
        return "cong_van", 0.7, None  # no title, no V/v: a công văn by its symbol
    return None, 0.0, _why(ReviewCode.type_unknown, "type")


def _repair_symbol(head: Header, title: TitleRead, reasons: list[ReviewReason]) -> None:
    """`86/QĐĐ-UBND` under `QUYẾT ĐỊNH` is `86/QĐ-UBND`: one OCR error in the type part."""
    vocab = lookup(title.title.code) if title.title else None
    number = head.number
    if number is None or vocab is None or not vocab.abbreviation:
        return
    if type_from_abbreviation(number.type_part) == vocab.code:
        return
    repaired = repair_type_part(number, vocab.abbreviation.split("-")[0])
    if repaired is not None:
        head.number = replace(repaired, fixed=True)
        reasons.append(_why(ReviewCode.symbol_repaired, "number", number.number))


def _issuer(
    head: Header,
    units: Sequence[Unit],
    doc: dict[str, Any],
    conf: dict[str, float],
    reasons: list[ReviewReason],
) -> tuple[str | None, float, str | None]:
    """Issuer, parent and known unit; the place is set right by the unit's name when they
    differ by an OCR error. Returns (unit code, its confidence, parent as printed)."""
    place = doc.get("place")
    extra = [str(place)] if place else []
    extra += _localities(tuple(u.name for u in units))
    joint = joint_issuers(head.issuer_lines, head.number.code_notation if head.number else None)
    if joint:
        doc["issuer"], conf["issuer"] = "; ".join(joint), 0.85
        return None, 0.0, None
    parent_lines, issuer_lines = split_parent(head.issuer_lines)
    parent = restore_marks(" ".join(parent_lines), extra) or None
    issuer = restore_marks(" ".join(issuer_lines), extra) or None
    if not issuer:
        conf["issuer"] = 0.0
        reasons.append(_why(ReviewCode.issuer_missing, "issuer"))
        return None, 0.0, proper_case(parent) if parent else None
    on = doc.get("issued_on")
    when = on if isinstance(on, date) else None
    found = match_unit(issuer, parent, units, when)
    if found is None:  # the state's names set right only when no own unit is meant
        parent = correct_names(parent) if parent else None
        issuer = correct_names(issuer)
        found = match_unit(issuer, parent, units, when)
    parent_out = proper_case(parent) if parent else None
    if found is None:
        if isinstance(place, str) and place not in extra[1:]:  # not an own unit's place
            doc["place"] = official_place(place) or place  # `Quang Ngaài` → `Quảng Ngãi`
        doc["issuer"] = official(issuer) or proper_case(issuer)
        conf["issuer"] = 0.85 if len(issuer.split()) >= 2 else 0.6
        return None, 0.0, parent_out
    doc["issuer"] = found.unit.name
    conf["issuer"] = max(0.85, found.score)
    by_code = {u.code: u for u in units}
    up = by_code.get(found.unit.parent or "")
    if up is not None and parent:
        parent_out = up.name
    if isinstance(place, str):
        for known in (locality(found.unit.name), locality(up.name) if up else ""):
            if known and place != known and fuzz.ratio(fold(place), fold(known)) >= 85:
                doc["place"] = known  # `Đông Ngọc` read for the ward's `Đông Ngạc`
                break
    return found.unit.code, found.score, parent_out


@lru_cache(maxsize=8)
def _localities(names: tuple[str, ...]) -> list[str]:
    return [locality(name) for name in names]


def _body_start(rows: list[Row]) -> int:
    """The first row after the header, title and subject."""
    head = read_header(rows)
    title = read_title(rows, head)
    return max(head.last_row, title.title_row or 0) + title.subject_rows + 1


def _signature(pages: Sequence[PageInput], first: list[Row], body: int) -> SignerRead:
    """The signature block, searched from the last page; on page 1 only below row `body`.

    When word boxes give no name, the page's plain text is read too: boxes mapped back onto
    a skewed scan can interleave the name with the seal's stray marks.
    """
    for page in list(reversed(pages))[:SIGNER_PAGES]:
        rows = first if page is pages[0] else page_rows(page)
        found = read_signer(rows, body if page is pages[0] else 0)
        if not found.name and page.words and page.text.strip():
            plain = page_rows(PageInput(page.number, page.text))
            again = read_signer(plain, _body_start(plain) if page is pages[0] else 0)
            if again.name:
                found.name, found.name_score, found.confidence = again.name, again.name_score, None
                if not found.title:
                    found.title, found.title_sure = again.title, again.title_sure
        if found.name or found.title or found.authority:
            return found
    return SignerRead()


def classify(
    pages: Sequence[PageInput],
    *,
    units: Sequence[Unit] | None = None,
    hints: Hints | None = None,
    signatures: Sequence[Signature] = (),
    readings: Mapping[str, Sequence[Reading]] | None = None,
) -> Classification:
    """Read type, number, date, place, issuer, subject, signer and marks off the pages.

    `units` defaults to `schemas.vocab.default_units()`; `hints` come from past corrections.
    A field that cannot be read stays null with confidence 0: nothing is made up.
    `signatures` are the file's digital signatures (their signing times bound the date);
    `readings` are a second recognizer's readings of the number, day and month gaps
    (`classify.locate`), several per field, weighed by `classify.evidence`.
    """
    units = default_units() if units is None else units
    pages = sorted(pages, key=lambda p: p.number)
    if not pages:
        return Classification(DocumentInfo(), {}, True, [_why(ReviewCode.no_pages)])
    doc: dict[str, Any] = {}
    conf: dict[str, float] = {}
    why: list[ReviewReason] = []
    rows = page_rows(pages[0])
    head = read_header(rows)
    abbr_hint = type_from_abbreviation(head.number.type_part) if head.number else None
    title = read_title(rows, head, abbr_hint)

    _repair_symbol(head, title, why)
    code, conf["type"], reason = _type(head, title, hints)
    certifier = consolidated_issuer(pages[-1].text) if head.number is None else None
    if certifier is not None:  # a consolidated text (VBHN): TT 05/2025 code 32
        code, conf["type"], reason = "khac", 0.85, None
        if not head.issuer_lines and certifier:
            head.issuer_lines = [certifier]
    if reason is not None:
        why.append(reason)
    vocab = lookup(code) if code else None
    if vocab is not None:
        doc.update(type=code, type_label=vocab.name, archive_type_code=vocab.archive_code)
    elsewhere = lines_elsewhere(head, pages, rows)
    read_number(head, doc, conf, why)
    read_date(head, pages, doc, conf, why)
    for key in elsewhere:
        conf[key] = min(conf.get(key, 0.0), ELSEWHERE)
    if readings:
        number_by_evidence(head, readings, doc, conf, why)
        date_by_evidence(head, rows, readings, doc, conf, why)
    check_date(pages, signatures, doc, conf, why)

    if not head.issuer_lines and title.issuer_line:  # a certificate's issuer, under its title
        head.issuer_lines = [title.issuer_line]
    header_text = " / ".join(head.issuer_lines) or None
    unit_code, unit_conf, parent_out = _issuer(head, units, doc, conf, why)
    hint = hints.header_for(header_text) if hints else None
    if hint is not None:  # a person said what this header stands for
        values, sure = hint[0].values, hint[1]
        for key in ("issuer", "place"):
            if values.get(key):
                doc[key], conf[key] = values[key], sure
        if "issuer_parent" in values:
            parent_out = values["issuer_parent"]
        if "unit" in values:
            unit_code, unit_conf = values["unit"], sure

    conf["subject"] = 0.0
    if title.subject:
        doc["subject"] = title.subject
        conf["subject"] = ocr_confidence(0.9 if title.subject_rows < 5 else 0.7, title.confidence)

    body = max(head.last_row, title.title_row or 0) + title.subject_rows + 1
    signer = _signature(pages, rows, body)
    conf["signer"] = 0.0
    bodies = str(doc.get("issuer") or "").count("; ") + 1
    decided = decide_name(signer.name, (readings or {}).get("signer", ()), signatures)
    if decided is not None and decided.conflict:
        why.append(_why(ReviewCode.readings_disagree, "signer"))
    if signer.name and bodies > 1:  # a joint document: one name read of several is no signer
        why.append(_why(ReviewCode.low_confidence, "signer", "joint"))
        signer.name, decided = None, None
    if decided is not None:
        signer.name = decided.name
    if signer.name:
        known = hints.signer_for(signer.name) if hints else None
        doc["signer"] = strip_honorifics(known or signer.name)
        conf["signer"] = 0.95 if known else ocr_confidence(signer.name_score, signer.confidence)
        if decided is not None and not known:
            conf["signer"] = decided.confidence
    if signer.title:
        doc["signer_title"] = title_case(signer.title)
        conf["signer_title"] = 0.9 if signer.title_sure else 0.5

    last = (title.title_row if title.title_row is not None else head.last_row + 6) + 1
    marks = find_marks(rows, 0, last)
    for kind in ("secrecy", "urgency"):  # no mark is the usual case, and sure if the header is
        doc[kind] = marks.get(kind)
        conf[kind] = 0.95 if kind in marks else (0.9 if head.national else 0.6)

    low = [k for k in KEY_FIELDS if conf.get(k, 0.0) < REVIEW_BELOW]
    for key in DESCRIPTIVE_FIELDS:
        if conf.get(key, 0.0) < DESCRIPTIVE_BELOW:
            low.append(key)
            if not doc.get(key):
                why.append(_why(_MISSING[key], key))
    noted = {r.field for r in why}
    why += [
        _why(ReviewCode.low_confidence, k, f"{conf.get(k, 0.0):.2f}") for k in low if k not in noted
    ]
    key_conf = [conf.get(k, 0.0) for k in (*KEY_FIELDS, "subject", "signer")]
    doc["confidence"] = round(sum(key_conf) / len(key_conf), 3)
    return Classification(
        document=DocumentInfo(**doc),
        field_confidence={k: round(v, 3) for k, v in conf.items()},
        needs_review=bool(low),
        reasons=_unique(why),
        unit=unit_code,
        unit_confidence=round(unit_conf, 3),
        issuer_parent=parent_out,
        header=header_text,
    )
