"""TCVN3 and VNI: every Vietnamese letter round-trips, and detection never fires on Unicode."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata

import pytest

from ocr.legacy import (
    TCVN3,
    VNI,
    decode_each,
    detect_legacy,
    font_encoding,
    is_capitals_font,
    to_unicode,
)
from ocr.vietnamese import LETTERS, fold, profile
from tests.data.legacy_pdf import tcvn3_runs, vni_encode

LOWER = sorted(ch for ch in LETTERS if ch.islower())
UPPER = sorted(ch for ch in LETTERS if ch.isupper())

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc"
BODY = (
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; Ủy ban nhân dân "
    "quận Bắc Từ Liêm ban hành Kế hoạch ứng dụng công nghệ thông tin, phát triển chính quyền "
    "số và bảo đảm an toàn thông tin mạng năm 2023 của người dân, thưởng, khuyến khích."
)
ENGLISH = (
    "The district committee adopted a plan for digital government with seventeen indicators, "
    "seven task groups and seventy tasks; the archive is scanned box by box and uploaded."
)


def tcvn3_decode(text: str) -> str:
    """Decode the runs the generator writes, the capitals font's runs as capitals."""
    return "".join(to_unicode(code, TCVN3, capitals=caps) for caps, code in tcvn3_runs(text, False))


def test_the_alphabet_has_134_letters() -> None:
    assert len(LOWER) == len(UPPER) == 67
    assert {ch.upper() for ch in LOWER} == set(UPPER)


@pytest.mark.parametrize("letter", LOWER + UPPER)
def test_every_letter_round_trips_in_tcvn3_and_vni(letter: str) -> None:
    assert tcvn3_decode(letter) == letter
    assert to_unicode(vni_encode(letter), VNI) == letter
    word = f"x{letter}n"  # inside a word, next to plain letters
    assert tcvn3_decode(word) == word
    assert to_unicode(vni_encode(word), VNI) == word


def test_lower_case_tcvn3_bytes_agree_with_glibc_iconv() -> None:
    # An independent implementation of TCVN 5712:1993 (glibc's TCVN5712-1, table VN1, of
    # which the .VnTime fonts' VN3 is the lower-case part).
    if shutil.which("iconv") is None:
        pytest.skip("no iconv")
    encoded = "".join(code for _, code in tcvn3_runs("".join(LOWER), False))
    done = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"],
        input=encoded.encode("latin-1"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("iconv lacks TCVN5712-1")
    assert unicodedata.normalize("NFC", done.stdout.decode()) == "".join(LOWER)
    assert to_unicode(encoded, TCVN3) == "".join(LOWER)


def test_known_mojibake_decodes() -> None:
    assert (
        to_unicode("Uû ban nh©n d©n quËn B¾c Tõ Liªm", TCVN3) == "Uỷ ban nhân dân quận Bắc Từ Liêm"
    )
    assert to_unicode("CéNG HOµ X· HéI CHñ NGHÜA VIÖT NAM", TCVN3, capitals=True) == (
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    )
    vni = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam. Ñoäc laäp - Töï do - Haïnh phuùc"
    assert to_unicode(vni, VNI) == (
        "Cộng hòa xã hội chủ nghĩa Việt Nam. Độc lập - Tự do - Hạnh phúc"
    )
    assert to_unicode("UÛY BAN NHAÂN DAÂN, ngöôøi, AÉp", VNI) == "ỦY BAN NHÂN DÂN, người, Ắp"


def test_tcvn3_u_horn_read_as_a_hyphen_comes_back() -> None:
    # WinAnsi readers turn byte 0xAD (TCVN3 "ư") into "-": inside words it is the letter,
    # while real dashes stay.
    text = "n-íc, t- ph¸p, -u tiªn, §-îc, “ng-êi”, KH-UBND, §éc lËp - Tù do, e-mail, 5-6"
    assert to_unicode(text, TCVN3) == (
        "nước, tư pháp, ưu tiên, Được, “người”, KH-UBND, Độc lập - Tự do, e-mail, 5-6"
    )


def test_decode_each_keeps_one_entry_per_glyph() -> None:
    assert decode_each(list("UÛy ngöôøi"), VNI) == ["Ủ", "", "y", " ", "n", "g", "ư", "ờ", "", "i"]
    assert decode_each(list("n-íc"), TCVN3) == ["n", "ư", "ớ", "c"]
    assert decode_each(list("céng"), TCVN3, capitals=True) == ["C", "Ộ", "N", "G"]


def test_detection_from_font_names() -> None:
    assert detect_legacy("Uû ban", [".VnTime"]) == TCVN3
    assert detect_legacy("UÛy ban", ["ABCDEF+VNI-Times,Bold"]) == VNI
    assert detect_legacy("plain ASCII 123", [".VnTimeH"]) == TCVN3
    # a font named like a legacy one whose text is already Unicode is left alone
    assert detect_legacy(BODY, [".VnTime"]) is None
    assert font_encoding("ABCDEF+.VnTimeH,Bold") == TCVN3
    assert font_encoding("VnArial") == TCVN3
    assert font_encoding("VNI-Helve") == VNI
    assert font_encoding("TimesNewRomanPSMT") is None
    assert font_encoding("Verdana") is None
    assert is_capitals_font(".VnTimeH") and is_capitals_font("XYZABC+.VnArialH,BoldItalic")
    assert not is_capitals_font(".VnTime,Bold") and not is_capitals_font("VNI-TimesH")


def test_detection_from_characters() -> None:
    tcvn3 = "".join(code for _, code in tcvn3_runs(BODY, False))
    assert detect_legacy(tcvn3) == TCVN3
    assert detect_legacy(vni_encode(BODY)) == VNI
    assert to_unicode(vni_encode(BODY), VNI) == BODY


@pytest.mark.parametrize(
    "text",
    [
        BODY,
        MOTTO,
        unicodedata.normalize("NFD", BODY),
        ENGLISH,
        fold(BODY),  # Vietnamese without diacritics
        "Số: 251/KH-UBND  © 2023 «Bắc Từ Liêm» 25°C ± 2",
        "Müller, São Paulo, Ærø, Ñandú: façade, naïve, déjà vu.",
        "",
    ],
)
def test_no_false_detection(text: str) -> None:
    assert detect_legacy(text) is None
    assert detect_legacy(text, ["TimesNewRomanPSMT", "Arial-BoldMT"]) is None


def test_profile_tells_vietnamese_with_and_without_diacritics() -> None:
    real, lost, english = profile(BODY), profile(fold(BODY)), profile(ENGLISH)
    assert real.frequent > 0.25 and real.marked > 0.15
    assert lost.frequent > 0.25 and lost.marked == 0
    assert english.frequent < 0.1
