"""Handwritten number and day: where their gaps are (`classify.locate`), and how readings of
them are weighed (`classify.evidence`, and `classify` with `readings=` and `signatures=`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from classify import PageInput, WordBox, classify
from classify.evidence import (
    BOTH_AGREE,
    PRINTED_DISPUTED,
    SECOND_ONLY,
    SECOND_ONLY_UNANIMOUS,
    WITNESSED,
    Reading,
    cited_dates,
    decide,
    implausible,
    notation_value,
    number_value,
    signing_day,
    small_value,
    vote,
)
from classify.locate import VARIANTS, locate, variants
from schemas.record import Signature
from schemas.review import ReviewCode

H = 40  # a printed line's height in pixels


def _line(y: float, *words: tuple[str, float, float]) -> list[WordBox]:
    return [WordBox(text, x0, y, x1, y + H) for text, x0, x1 in words]


def _header(number: list[tuple[str, float, float]], date_words: list[tuple[str, float, float]]):
    """A header as OCR boxes it: issuer and national name, then the number and date row,
    then a title and a sentence citing a document with its own number and date."""
    return [
        *_line(100, ("UỶ", 200, 260), ("BAN", 270, 340), ("CỘNG", 1300, 1420), ("HÒA", 1430, 1520)),
        *_line(300, *number, *date_words),
        *_line(500, ("QUYẾT", 1000, 1150), ("ĐỊNH", 1160, 1280)),
        *_line(
            700,
            ("Căn", 300, 360),
            ("cứ", 370, 410),
            ("Nghị", 420, 500),
            ("định", 510, 580),
            ("số", 590, 630),
            ("30/2020/NĐ-CP", 640, 900),
            ("ngày", 910, 990),
            ("05", 1000, 1040),
            ("tháng", 1050, 1150),
            ("3", 1160, 1180),
            ("năm", 1190, 1270),
            ("2020", 1280, 1370),
        ),
    ]


NUMBER = [("Số:", 300, 370), ("/QĐ-UBND", 520, 700)]
DATE = [
    ("Hà", 1200, 1250), ("Nội,", 1260, 1330), ("ngày", 1340, 1420), ("tháng", 1500, 1600),
    ("5", 1610, 1630), ("năm", 1640, 1720), ("2024", 1730, 1820),
]  # fmt: skip


def _page(words: list[WordBox], text: str = "") -> PageInput:
    return PageInput(1, text, words, 2480, 3508)


def test_locate_finds_the_gaps_beside_the_printed_words() -> None:
    crops = locate(_page(_header(NUMBER, DATE)))
    assert crops.number_gap is not None and crops.day_gap is not None
    x0, y0, x1, y1 = crops.number_gap
    assert (x0, x1) == (370, 700)  # from the label's end to the symbol's end
    assert y0 == 300 and y1 == 340
    assert crops.day_gap[0] == 1420 and crops.day_gap[2] == 1500  # ngày … tháng
    assert crops.month_gap is not None and crops.month_gap[0:3:2] == (1600, 1640)
    assert set(crops.fields()) == {"number", "day", "month"}


def test_locate_skips_a_cited_date_and_words_read_into_the_gap() -> None:
    # Tesseract read the handwriting into the words: `Số:2/J`, `08tháng`
    number = [("Số:2/J", 300, 420), ("“€TI-CS", 430, 600)]
    date_words = [*DATE[:3], ("08tháng", 1430, 1600), *DATE[4:]]
    crops = locate(_page(_header(number, date_words)))
    assert crops.number_gap is not None
    assert 300 < crops.number_gap[0] < 420  # after `Số:` inside the joined word
    assert crops.day_gap is not None
    assert crops.day_gap[1] == 300  # the header row, not the cited `ngày 05 tháng 3` below
    assert crops.day_gap[0] >= 1420 and crops.day_gap[2] < 1600


def test_locate_without_a_header() -> None:
    assert locate(PageInput(1, "", None)).fields() == {}
    assert locate(PageInput(1, "", [WordBox("  ", 0, 0, 1, 1)])).fields() == {}
    body = [w for w in _header(NUMBER, DATE) if w.y0 != 300]  # only the cited date is left
    assert locate(_page(body)).fields() == {}
    sở = _line(300, ("SỞ", 300, 370), ("TÀI", 380, 440), ("CHÍNH", 450, 560))
    assert locate(_page(sở)).number_gap is None  # `SỞ` folds to `so`: not a number label


def test_variants_pad_the_gap_and_stay_on_the_page() -> None:
    boxes = variants((0.0, 5.0, 100.0, 45.0))
    assert len(boxes) == len(VARIANTS)
    assert all(b[0] >= 0 and b[1] >= 0 for b in boxes)
    assert all(b[3] > 45.0 for b in boxes)


@pytest.mark.parametrize(
    ("text", "number", "notation"),
    [
        ("2191/CT-CS", "2191", "CT-CS"),
        (": 464 /TTg-CDS", "464", "TTg-CDS"),
        ("：3/2025/QD-UBND", "3", "2025/QD-UBND"),
        ("K3/KH-DCT", "K3", "KH-DCT"),  # a letter: the reading went wrong, and says so
        ("/KH-DCT", None, None),
        ("", None, None),
    ],
)
def test_number_readings(text: str, number: str | None, notation: str | None) -> None:
    assert number_value(text) == number
    assert notation_value(text) == notation


@pytest.mark.parametrize(
    ("text", "top", "value"),
    [("08", 31, "08"), ("：30", 31, "30"), ("41", 12, None), ("30t", 31, None), ("", 31, None)],
)
def test_day_and_month_readings(text: str, top: int, value: str | None) -> None:
    assert small_value(text, top) == value


def test_vote_needs_agreement() -> None:
    assert vote([("23", 0.9), ("23", 0.5), (None, 0.0)]) == ("23", 2, 0.9)
    assert vote([("3", 0.86), ("23", 0.43)])[0] is None  # two values: no evidence
    assert vote([("3", 0.9), ("K3", 0.9)])[0] is None
    assert vote([(None, 0.0)]) == (None, 0, 0.0)


def test_decide_by_evidence() -> None:
    same = [("86", 0.95), ("86", 0.9), ("86", 0.97)]
    assert decide("86", 0.5, same, unreadable="x").confidence == BOTH_AGREE
    assert decide("086", 0.5, same, unreadable="x").value == "086"  # one number either way
    # the second reading alone: several crops agree
    assert decide(None, None, same, unreadable="x").confidence == SECOND_ONLY_UNANIMOUS
    unsure = decide(None, None, [("86", 0.7), ("86", 0.65)], unreadable="x")
    assert (unsure.value, unsure.confidence, unsure.why) == ("86", SECOND_ONLY, "low_confidence")
    one = decide(None, None, [("86", 0.99), (None, 0.0)], unreadable="number_unreadable")
    assert one.value is None and one.why == "number_unreadable"
    # the readings disagree: a sure print keeps its value for review, an unsure one is dropped
    sure = decide("12", 0.95, same, unreadable="x")
    assert (sure.value, sure.confidence, sure.why) == ("12", PRINTED_DISPUTED, "readings_disagree")
    assert decide("12", 0.6, same, unreadable="x").value is None
    # nothing from the second reading: the first stands as it was
    assert decide("12", 0.95, [(None, 0.0)], unreadable="x").confidence < 0


def test_a_signing_time_is_a_day_in_vietnam() -> None:
    late_utc = datetime(2026, 4, 7, 20, 30, tzinfo=UTC)  # 03:30 on 8 April in Hà Nội
    assert signing_day(late_utc) == date(2026, 4, 8)
    assert signing_day(datetime(2026, 4, 7, 20, 30)) == date(2026, 4, 7)


def test_cited_dates_and_plausibility() -> None:
    text = (
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ;\n"
        "Cục Thuế nhận được Công văn số 5770/NBI-QLDN2 ngày 15/12/2025 của Công ty;\n"
        "Căn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024;\n"
        "có hiệu lực từ ngày 01/01/2027."  # not a cited document's date
    )
    assert cited_dates(text) == [date(2020, 3, 5), date(2024, 6, 21), date(2025, 12, 15)]
    assert cited_dates("") == []
    cited = cited_dates(text)
    assert implausible(date(2026, 4, 8), [date(2026, 4, 8)], cited) is None
    assert "signing" in (implausible(date(2026, 4, 9), [date(2026, 4, 8)], cited) or "")
    assert "cited" in (implausible(date(2025, 12, 1), [], cited) or "")


# classify() with the readings of the gaps and the file's signatures

BLANK = (
    "ỦY BAN NHÂN DÂN QUẬN BẮC TỪ LIÊM\n"
    "Số: /QĐ-UBND\n"
    "Bắc Từ Liêm, ngày tháng 5 năm 2024\n"
    "QUYẾT ĐỊNH\nVề việc thành lập Tổ số hóa\n"
    "Căn cứ Quyết định số 12/QĐ-UBND ngày 02 tháng 01 năm 2024 của Ủy ban nhân dân quận;\n"
)


def _readings(number: str, day: str, month: str = "5") -> dict[str, list[Reading]]:
    return {
        "number": [Reading(number, 0.95)] * 3,
        "day": [Reading(day, 0.95)] * 3,
        "month": [Reading(month, 0.99)] * 3,
    }


def _signed(day: date) -> Signature:
    return Signature(
        signer="Nguyễn Văn A", signed_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    )


def test_classify_reads_the_gaps_by_evidence() -> None:
    page = PageInput(1, BLANK)
    alone = classify([page])
    assert alone.document.number is None and alone.document.issued_on is None
    read = classify([page], readings=_readings("86 /QD-UBND", "20"))
    assert read.document.number == "86/QĐ-UBND"  # the printed symbol kept, marks and all
    assert read.document.issued_on == date(2024, 5, 20)
    assert read.field_confidence["number"] == SECOND_ONLY_UNANIMOUS


def test_classify_drops_what_the_evidence_contradicts() -> None:
    page = PageInput(1, BLANK)
    # the symbol read with the number is not the printed one: the number is not trusted
    other = classify([page], readings=_readings("86/KH-UBND", "20"))
    assert other.document.number is None
    assert any(r.code == ReviewCode.readings_disagree for r in other.reasons)
    # 31 May is after the signing on 30 May: not the issue date
    late = classify(
        [page], readings=_readings("86/QD-UBND", "31"), signatures=[_signed(date(2024, 5, 30))]
    )
    assert late.document.issued_on is None and late.needs_review
    assert any(r.code == ReviewCode.date_implausible for r in late.reasons)
    # 31 April does not exist
    bad = classify([page], readings=_readings("86/QD-UBND", "31", "4"))
    assert bad.document.issued_on is None
    # before the decision it cites (2 January 2024)
    early = classify(
        [page], readings={"day": [Reading("01", 0.99)] * 3, "month": [Reading("01", 0.99)] * 3}
    )
    assert early.document.issued_on is None


def test_a_signature_of_the_same_day_witnesses_the_date() -> None:
    page = PageInput(1, BLANK)
    found = classify(
        [page], readings=_readings("86/QD-UBND", "20"), signatures=[_signed(date(2024, 5, 20))]
    )
    assert found.document.issued_on == date(2024, 5, 20)
    assert found.field_confidence["issued_on"] == WITNESSED
    unsigned = Signature(signer="X")  # no signing time: no witness, no bound
    assert classify([page], signatures=[unsigned]).document.issued_on is None


def test_readings_do_not_override_a_printed_number_they_cannot_read() -> None:
    printed = BLANK.replace("Số: /QĐ-UBND", "Số: 86/QĐ-UBND").replace("ngày tháng", "ngày 20 tháng")
    page = PageInput(1, printed)
    assert (
        classify([page], readings={"number": [Reading("", 0.0)] * 3}).document.number
        == "86/QĐ-UBND"
    )
    both = classify([page], readings=_readings("86/QD-UBND", "20"))
    assert both.document.number == "86/QĐ-UBND" and both.field_confidence["number"] == BOTH_AGREE
    assert both.document.issued_on == date(2024, 5, 20)
