"""A text layer whose words are not words (a font with a wrong Unicode map) is OCRed; real
Vietnamese, with or without diacritics, and English are not mistaken for it."""

from __future__ import annotations

import json
import random
import string
import unicodedata
from pathlib import Path

import pytest

from ocr.sources import TextLayer
from ocr.textlayer import MIN_WORDLIKE, MIN_WORDLIKE_LETTERS, judge
from ocr.vietnamese import fold, is_syllable, is_word, wordlike

CORPUS = Path(__file__).parents[2] / "data" / "corpus_sample.jsonl"
NOT_WORDS = "text is not words"
#: real Vietnamese pages stay this far above the threshold (their least share is 0.74)
MARGIN = 0.3

ENGLISH_LETTER = """
Dear Chairman,

On behalf of the International Cooperation Agency, I would like to thank the People's Committee
for the meeting held last month on the digital archive project. As agreed, our experts will
provide training for the staff of the district archive and support the development of a common
standard for scanned records. The agreement covers the period from January to December, and each
party shall report on the progress of the project every quarter. We understand that the first
boxes of documents have already been scanned and that the quality of the images is good. Please
find attached the schedule of activities, the list of equipment and the budget for the coming
year. Should you need further information, do not hesitate to contact our office in Hanoi.

Yours sincerely,
Director, Programme Management Office
"""


def layer(text: str) -> TextLayer:
    return TextLayer(text=text, char_count=len(text), text_area=0.2, image_area=0.0)


def corpus_pages(words_per_page: int = 300) -> list[str]:
    """Each document of the sample corpus, cut into page-sized runs of paragraphs."""
    pages = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        page: list[str] = [record["issuer"] or "", f"Số: {record['number']}", record["subject"]]
        for paragraph in record["paragraphs"]:
            page.append(paragraph)
            if sum(len(p.split()) for p in page) >= words_per_page:
                pages.append("\n".join(page))
                page = []
        if page:
            pages.append("\n".join(page))
    return pages


def broken_map(text: str, seed: int, *, spaces: bool = False) -> str:
    """What a font whose /ToUnicode map sends each glyph (a letter with its diacritics, or
    the space too) to an arbitrary ASCII letter gives on copy-paste."""
    rng = random.Random(seed)
    table: dict[str, str] = {}
    out = []
    for ch in text:
        if ch.isalpha() or (spaces and ch == " "):
            ch = table.setdefault(ch, rng.choice(string.ascii_lowercase))
        out.append(ch)
    return "".join(out)


def shuffled_letters(text: str, seed: int) -> str:
    """Diacritics dropped, then a fixed permutation of the 26 letters."""
    letters = list(string.ascii_lowercase)
    random.Random(seed).shuffle(letters)
    return fold(text).translate(str.maketrans(string.ascii_lowercase, "".join(letters)))


def strip_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


PAGES = corpus_pages()


def test_real_documents_are_words_with_a_margin() -> None:
    assert len(PAGES) >= 24
    for number, page in enumerate(PAGES):
        measured = wordlike(page)
        assert measured.share >= MIN_WORDLIKE + MARGIN, (number, measured, page[:200])
        assert judge(layer(page)).usable, (number, page[:200])


@pytest.mark.parametrize("garble", ["glyphs", "glyphs-and-spaces", "letters"])
def test_letter_substituted_documents_are_ocred(garble: str) -> None:
    for number, page in enumerate(PAGES):
        if garble == "letters":
            garbage = shuffled_letters(page, seed=number)
        else:
            garbage = broken_map(page, seed=number, spaces=garble == "glyphs-and-spaces")
        verdict = judge(layer(garbage))
        assert not verdict.usable, (number, garbage[:200])
        assert NOT_WORDS in verdict.reason, (number, verdict)


def test_a_broken_map_that_also_eats_the_spaces_is_ocred() -> None:
    garbage = (
        "pubaugcuc\natudgedau\n"
        "fftgghbsguhglngzgebingbgazajggjgaglkgyyvywxfvaetpcggzlrgybgmamgzgwyggnfgywxfgvotgpapga\n"
        "iaogjnrggjgagoigmkgvmhgolgzbqbgjnrrmgmkgvmhgmkhgzgpsgzgtgggatggwtg\n"
        "pnggvugynvmgghgvauvgpapgagiaoglkgczvywybvduxbh\n"
    )
    assert wordlike(garbage).words < 20  # too few words for a rule counting words
    assert judge(layer(garbage)).reason.startswith(NOT_WORDS)


def test_random_letters_are_ocred() -> None:
    rng = random.Random(5)
    garbage = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 7)))
        for _ in range(200)
    )
    assert judge(layer(garbage)).reason.startswith(NOT_WORDS)


def test_an_english_page_is_its_own_text() -> None:
    measured = wordlike(ENGLISH_LETTER)
    assert measured.share >= MIN_WORDLIKE + MARGIN, measured
    verdict = judge(layer(ENGLISH_LETTER))
    assert verdict.usable and verdict.reason == "text layer holds the page's text"


def test_a_bilingual_page_is_its_own_text() -> None:
    page = PAGES[0][:800] + "\n" + ENGLISH_LETTER
    assert judge(layer(page)).usable


def test_vietnamese_without_diacritics_is_still_refused_by_its_own_rule() -> None:
    for page in PAGES:
        bare = strip_diacritics(page)
        assert wordlike(bare).share >= MIN_WORDLIKE + MARGIN
        verdict = judge(layer(bare))
        assert not verdict.usable
        assert "without its diacritics" in verdict.reason


def test_short_labels_are_not_judged_on_their_words() -> None:
    label = "Hộp số 12 - Phông UBND quận Bắc Từ Liêm - KH-2023/VP - Tập 3"
    assert judge(layer(label)).usable
    # a short run of garbage is under the rule's minimum: too few letters to tell
    short = broken_map("Ủy ban nhân dân quận Bắc Từ Liêm, hồ sơ số 12/2023", seed=1)
    assert wordlike(short).letters < MIN_WORDLIKE_LETTERS
    assert NOT_WORDS not in judge(layer(short)).reason


def test_headers_codes_and_numerals_are_words() -> None:
    header = (
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI\nSố: 125/QĐ-UBND\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "Căn cứ Nghị định số 30/2020/NĐ-CP; Quyết định số 12/QĐ-TTg; Chương IV, Mục XII;\n"
        "(i) diện tích 25 ha; (ii) công suất 110 kV; (iii) dài 12 km.\n"
        "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNơi nhận: HĐND, UBMTTQ, VP, Lưu: VT."
    )
    assert wordlike(header).share == pytest.approx(1.0, abs=0.05)


SYLLABLES = (
    "người nghiêng quyết quốc quỳnh khuya giữ gìn giếng kỹ kỳ ghi ghe nghề xoong ở ý uỷ hoạch "
    "thuyết chuyển luật điều khoản"
)
#: k gh ngh only before e ê i y, c g ng never; no rhyme uu after qu; no such rhymes
MISSPELT = "ce ge ngi ka ghu nghu quu tst str pubaugcuc nguoii bb xyz"


@pytest.mark.parametrize("word", SYLLABLES.split())
def test_vietnamese_syllables_are_syllables(word: str) -> None:
    assert is_syllable(word) and is_syllable(fold(word)) and is_syllable(word.upper())


@pytest.mark.parametrize("word", MISSPELT.split())
def test_misspelt_syllables_are_not(word: str) -> None:
    assert not is_syllable(word)


@pytest.mark.parametrize(
    "token", ["UBND", "HĐND", "QĐ", "NĐ", "TTg", "CP", "XIV", "ii", "km", "agreement", "services"]
)
def test_documents_tokens_that_are_not_syllables_are_words(token: str) -> None:
    assert not is_syllable(token)
    assert is_word(token)
