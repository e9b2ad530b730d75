"""Judge a PDF page's own text layer: is it the page's real text, or something to OCR over?

Scanned PDFs often carry a layer that is not the page: only the stamp of a digital signature
("Ký bởi: …") over a page image, a few words over a mostly-image page, another tool's OCR that
lost the diacritics, or text whose font has no Unicode map (control characters, `(cid:12)`).
Those pages are OCRed instead. Text from TCVN3/VNI fonts arrives here already decoded
(ocr.legacy); legacy text that could not be recognised as such fails as mojibake.

The rules, in order (the first that fails decides):

1. there is text at all;
2. its glyphs map to Unicode: at most 2 % control, private-use or unassigned characters;
3. without the lines of a signature stamp, at least MIN_CHARS letters and digits remain;
4. on a page more than half covered by images, the text's lines cover at least 2 % of it
   (a full page of text covers 15–30 %; a file-name label or a page number far less);
5. at most 5 % of the characters are ones Vietnamese documents do not use (mojibake);
6. a text that reads as Vietnamese (a quarter of its words are very frequent syllables, once
   diacritics are ignored) has diacritics on at least 5 % of its letters: Vietnamese prose
   has them on 25–30 %, an English OCR engine's reading of a Vietnamese page on none;
7. its words are words: at least a quarter of the letters of a text of 100 letters or more
   are in Vietnamese syllables (diacritics ignored), document abbreviations, roman numerals,
   units or frequent English words. A font whose /ToUnicode map sends glyphs to the wrong
   letters gives garbage that passes every rule above (`pubaugcuc atudgedau`): on a page,
   real Vietnamese has 0.74 or more of its letters in words, English prose 0.6 or more, such
   garbage 0.04 (median) to 0.30.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from ocr.sources import TextLayer
from ocr.vietnamese import LETTERS, profile, wordlike

#: lines a digital-signature tool stamps on a scanned page (Vietnamese government CA tools)
_SIGNATURE_LINE = re.compile(
    r"^\s*(ký bởi|ký số bởi|người ký|ky boi|nguoi ky|signed by|signer|email|e-mail|cơ quan|"
    r"co quan|tổ chức|chức vụ|thời gian ký|thoi gian ky|ngày ký|ngay ky|signing time|date|"
    r"time|reason|location)\b",
    re.IGNORECASE,
)
_CID = re.compile(r"\(cid:\d+\)")
_NOT_ALNUM = re.compile(r"[\W_]+")

#: at least this many letters and digits for a layer to stand for a page
MIN_CHARS = 40
#: a page mostly covered by images whose text covers less than this share is a scan
MIN_TEXT_AREA_ON_IMAGE = 0.02
MAX_UNMAPPED_RATIO = 0.02
MAX_BAD_CHAR_RATIO = 0.05
#: a Vietnamese text with diacritics on fewer of its letters lost them
MIN_MARKED_LETTERS = 0.05
#: share of very frequent Vietnamese syllables (diacritics ignored) that marks a Vietnamese text
MIN_FREQUENT_WORDS = 0.25
_MIN_WORDS = 20
#: a text with a smaller share of its letters in words (Vietnamese syllables, document
#: abbreviations, English words) is not words: see `_not_words` for the figures behind it
MIN_WORDLIKE = 0.25
#: below this many letters (about 30 Vietnamese syllables or 20 English words: a heading, a
#: label, a short note) the share is too noisy to judge and the rule does not apply
MIN_WORDLIKE_LETTERS = 100


@dataclass(frozen=True)
class Verdict:
    usable: bool
    reason: str


def judge(layer: TextLayer | None) -> Verdict:
    """Decide whether `layer` is the page's real text (see the module's rules)."""
    if layer is None or not layer.text.strip():
        return Verdict(False, "no text layer")
    text = layer.text
    counts = Counter(text)  # judged per distinct character: a page has few of them
    visible = sum(n for ch, n in counts.items() if not ch.isspace())
    unmapped = sum(n for ch, n in counts.items() if _is_unmapped(ch) and not ch.isspace())
    if _CID.search(text) or unmapped / max(1, visible) > MAX_UNMAPPED_RATIO:
        return Verdict(False, "glyphs without a Unicode map")
    lines = [line for line in text.splitlines() if line.strip()]
    stamp = [line for line in lines if _SIGNATURE_LINE.match(line)]
    content = "".join(line for line in lines if not _SIGNATURE_LINE.match(line))
    if len(_NOT_ALNUM.sub("", content)) < MIN_CHARS:
        if len(stamp) >= 2:
            return Verdict(False, "only a digital-signature stamp over the page")
        return Verdict(False, "too little text (a signature stamp or a label)")
    if layer.image_area > 0.5 and layer.text_area < MIN_TEXT_AREA_ON_IMAGE:
        return Verdict(False, "text covers a small part of a page that is mostly image")
    bad = sum(n for ch, n in counts.items() if _is_bad_char(ch))
    if bad / max(1, len(text)) > MAX_BAD_CHAR_RATIO:
        return Verdict(False, "text looks like mojibake")
    words = profile(text)
    if (
        words.words >= _MIN_WORDS
        and words.frequent >= MIN_FREQUENT_WORDS
        and words.marked < MIN_MARKED_LETTERS
    ):
        return Verdict(False, "Vietnamese text without its diacritics (a poor OCR layer)")
    if _not_words(text):
        return Verdict(False, "text is not words (a font with a wrong Unicode map)")
    if layer.encoding:
        return Verdict(True, f"text layer in {layer.encoding.upper()}, decoded to Unicode")
    if layer.invisible >= 0.5:
        return Verdict(True, "an earlier OCR layer over the page image, with its diacritics")
    return Verdict(True, "text layer holds the page's text")


def _not_words(text: str) -> bool:
    """Whether the text's words are mostly neither Vietnamese nor English: what a font whose
    /ToUnicode map sends its glyphs to the wrong letters gives.

    The share of letters in words (`ocr.vietnamese.wordlike`) on pages of about 300 words
    (2,846 pages of 565 real legal documents; English from licences and Python docstrings):

    - Vietnamese: 0.74 at the least, 1st percentile 0.94, median 1.00; whole documents 0.89
      at the least; the same without diacritics (rule 6 judges those);
    - English prose (licences): 0.60 at the least, median 0.75; technical English (docstrings
      full of identifiers): 0.28 at the least, 1st percentile 0.40;
    - Vietnamese through a broken map (each letter, or each glyph with its diacritics, sent
      to a random letter): median 0.04, 95th percentile 0.11, 0.30 at the most, one page in
      2,800 above 0.25; with the space sent to a letter too 0.12 at the most; random letters
      0.16 at the most.

    0.25 keeps every real page with a wide margin and English with a fair one. On 100 letters,
    the least the rule judges, Vietnamese is 0.37 at the least, English prose 0.30, and one
    garbage snippet in 400 to 1,000 is above 0.25.
    """
    words = wordlike(text)
    return words.letters >= MIN_WORDLIKE_LETTERS and words.share < MIN_WORDLIKE


def _is_unmapped(ch: str) -> bool:
    """A glyph code that reached us as a character no text uses."""
    return unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") or ch in "\ufffd\ufffe"


def _is_bad_char(ch: str) -> bool:
    """Characters that do not occur in Vietnamese documents but do in mis-decoded 8-bit
    fonts (TCVN3, VNI read as Latin-1) or broken maps."""
    if ch in "\n\t ":
        return False
    if _is_unmapped(ch):
        return True
    if unicodedata.category(ch).startswith("L"):
        # letters: ASCII and the Vietnamese alphabet; VNI mark bytes (ø ï û ä å ü ë æ î ö ñ)
        # and other Latin-1 letters are not Vietnamese
        return not (ch.isascii() or ch in LETTERS)
    return ch in "©®¬¨µ¶·¸¹º»¼½¾¿×÷¤¦§ª«°±²³´"
