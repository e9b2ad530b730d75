"""Facts about written Vietnamese that the text-layer judgement and the legacy decoders use.

The alphabet (the 134 letters with diacritics, upper and lower), folding to plain ASCII, a
list of very frequent syllables (without diacritics) to tell a Vietnamese text from another
language even when its diacritics are lost, and the spelling of a Vietnamese syllable (onset,
rhyme) to tell words from garbage: a text whose letters mostly make no syllable, no document
abbreviation and no English word is not text at all (a font with a wrong Unicode map).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from schemas.vocab import document_types

#: the twelve vowels and their five tone marks (grave, hook, tilde, acute, dot below)
VOWELS = "aăâeêioôơuưy"
TONES = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")


def _letters() -> frozenset[str]:
    lower = {unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES}
    lower |= set("ăâêôơưđ")
    return frozenset(lower | {ch.upper() for ch in lower})


#: the 134 letters of Vietnamese that are not plain ASCII (67 lower-case, 67 capitals)
LETTERS: frozenset[str] = _letters()

# Syllables so frequent in administrative prose that a third or more of the words of any
# Vietnamese page are among them; folded (no diacritics, đ -> d). Words that are also common
# English words ("can", "to", "do", "an", "me") are left out so English text never matches.
_FREQUENT_WORDS = """
    cua va cac nguoi nam ngay thang theo duoc trong nhan dan uy ban quan phuong xa tinh
    thanh pho ve viec cong nghe thong ke hoach quyet dinh chu tich hoi dong nhung mot
    nay khi nhu voi tai tu den cho tren duoi phai cung da se dang lam nhat giua hang hanh
    chinh quy luat dieu khoan muc bao cao van nha nuoc cu thuc hien chuc vu nhiem trach
    kinh xa giao duc dung tao phat trien quan ly linh vuc co quan don vi tap ca nhan
    nghi dinh thong tu doi hop dong tien hanh dau tu xay dung truong ket qua yeu cau thu
    tuc ho giai quyet kiem tra gia chi dao tham muu trien khai dia phuong huyen cap
    nhiem vu noi dung thoi gian khac cac lien quan moi biet tiep nhan
"""
_FREQUENT = frozenset(_FREQUENT_WORDS.split())
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lower-case letters without diacritics, đ -> d (cached: words repeat)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Profile:
    """How Vietnamese a text looks."""

    words: int  # words of letters
    frequent: float  # share of words that are frequent Vietnamese syllables (diacritics ignored)
    marked: float  # share of letters that carry Vietnamese diacritics (LETTERS)
    foreign: float  # share of letters that are neither ASCII nor Vietnamese


def profile(text: str) -> Profile:
    """Count words and letters of `text` (any normalization)."""
    text = unicodedata.normalize("NFC", text)
    words = _WORD.findall(text)
    letters = marked = foreign = 0
    # per distinct character, not per character: a page has thousands but few distinct ones
    for ch, n in Counter(text).items():
        if not ch.isalpha():
            continue
        letters += n
        if ch in LETTERS:
            marked += n
        elif not ch.isascii():
            foreign += n
    frequent = sum(map(_FREQUENT.__contains__, map(fold, words)))
    return Profile(
        words=len(words),
        frequent=frequent / max(1, len(words)),
        marked=marked / max(1, letters),
        foreign=foreign / max(1, letters),
    )


# --- Syllable structure --------------------------------------------------------------------
# A Vietnamese syllable is (onset) + rhyme, the rhyme (medial o/u) + nucleus + (final). The
# sets below are folded (no diacritics, đ -> d), so "người" is checked as "nguoi" = ng + uoi.

#: initial consonants, longest first so "ngh" is tried before "ng" and "n"
_ONSET_LETTERS = "b c ch d g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x"
_ONSETS = sorted(_ONSET_LETTERS.split(), key=len, reverse=True)
#: onsets written only before the front vowels e ê i y, and their partners before the others
_FRONT_ONLY = frozenset(("k", "gh", "ngh"))
_NOT_FRONT = frozenset(("c", "g", "ng"))
_FRONT = ("e", "i", "y")


#: rhymes of one vowel or diphthong, alone or with a final (ă â -> a, ê -> e, ô ơ -> o, ư -> u)
_PLAIN_RHYMES = """
    a ai ao au ay ac ach am an ang anh ap at   e eo eu ec ech em en eng enh ep et
    i ia iu ich im in inh ip it   y   o oi oc om on ong op ot ooc oong
    u ua ui uu uc um un ung up ut   ieu iec iem ien ieng iep iet   yeu yem yen yet
    uoi uoc uom uon uong uop uot uou
"""
#: rhymes with a medial: o before a ă e (hoa, khoe), u before â ê y ơ (tuân, thuế, huyện)
_MEDIAL_O_RHYMES = "oa oai oao oay oac oach oam oan oang oanh oap oat oe oeo oec oem oen oet"
_MEDIAL_U_RHYMES = "ua uan uang uat uay ue uech uenh uy uya uych uyn uynh uyt uyu uyen uyet uo"
_RHYMES = frozenset((_PLAIN_RHYMES + _MEDIAL_O_RHYMES + " " + _MEDIAL_U_RHYMES).split())
#: after qu the medial u is written by the onset: qu + an (quân), qu + yen (quyền), qu + oc
_AFTER_QU = frozenset(r[1:] for r in _MEDIAL_U_RHYMES.split()) | frozenset(
    r for r in _PLAIN_RHYMES.split() if not r.startswith("u")
)


def is_syllable(word: str) -> bool:
    """Whether `word` (any case, diacritics or not) is spelt like one Vietnamese syllable."""
    folded = fold(word)
    if folded in _RHYMES or folded == "gi":
        return True
    return any(_fits(onset, folded[len(onset) :]) for onset in _ONSETS if folded.startswith(onset))


def _fits(onset: str, rhyme: str) -> bool:
    """Onset and rhyme go together (the k/c, gh/g, ngh/ng spelling rule; gi + rhyme)."""
    if onset == "qu":
        return rhyme in _AFTER_QU
    if onset == "gi":  # gi shares its i with the rhyme: gìn = gi + in, giữ = gi + ư
        return rhyme in _RHYMES or "i" + rhyme in _RHYMES
    if rhyme not in _RHYMES:
        return False
    front = rhyme.startswith(_FRONT)
    if onset in _FRONT_ONLY:
        return front
    if onset in _NOT_FRONT:
        return not front
    return True


# --- Tokens that are words but not syllables ---------------------------------------------------

#: abbreviations of administrative and legal documents (folded, upper case): issuing bodies,
#: titles in signature blocks (KT., TM.), and those of document types (12/2024/NĐ-CP), which
#: come from the project's vocabulary
_ABBREVIATION_WORDS = """
    UBND HDND TTG QH TTLT UBTVQH TW BCH BCT CV TM KT TL
    PCT VP VPCP TTCP TAND TANDTC VKSND VKSNDTC MTTQ UBMTTQ DCS DCSVN CHXHCN CHXHCNVN
    CHDCND XHCN VN VND USD EUR TP TX BTC BYT BXD BGDDT BGTVT BTNMT BTP BNV BCA BQP BKHCN
    BKHDT BLDTBXH BVHTTDL BTTTT BNNPTNT BNG NHNN KBNN NSNN ODA QCVN TCVN ISO HS NS KHCN GDDT
    THCS THPT BHXH BHYT BHTN TNHH CTCP GCN QSDD CNTT TNCN GTGT HTX PCCC ATTP PDF HCM
"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split()) | frozenset(
    fold(part).upper()
    for kind in document_types().values()
    if kind.abbreviation
    for part in kind.abbreviation.split("-")
)
#: units and symbols of measure, lower case
_UNIT_WORDS = "km kg cm mm ha kw kwh mw mwh kv ml mg hz ppm dpi gb mb kb"
_UNITS = frozenset(_UNIT_WORDS.split())
#: roman numerals (Chương IV, Mục XII); in lower case only the (i) (ii) (iv) of enumerations
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_LOWER_ROMAN = frozenset("ivx")
#: the most frequent words of general English (from the head of a frequency list, not of any
#: one kind of text): with those spelt like Vietnamese syllables they make up about half of
#: the words of an English page (a foreign partner's letter, an annex)
_ENGLISH_WORDS = """
    the be and of a in to have it i that for you he with on do say this they at but we his
    from not by she or as what go their can who get if would her all my make about know will
    up one time there year so think when which them some me people take out into just see him
    your come could now than like other how then its our two more these want way look first
    also new because day use no man find here thing give many well only those tell very even
    back any good woman through us life child work down may after should call world over
    school still try last ask need too feel three state never become between high really
    something another family own leave put old while mean keep student why let great same big
    group begin seem country help talk where turn problem every start hand might show part
    against place such again few case week company system each right program hear question
    during play government run small number off always move night live point believe hold
    today bring happen next without before large million must home under water room write
    area national money story young fact month different lot study book job word business
    issue side kind four head far long both little house yes since provide service around
    important sit away until power hour often yet line end among ever stand lose however
    member pay law meet city almost include continue set later community much name five once
    least president learn real change team best several idea body information nothing ago
    lead social understand whether follow stop face anything create public already speak
    others read level allow add office spend person sure history party within grow result
    open reason early moment enough education across although remember second able age policy
    everything process including consider appear actually buy probably human serve market
    send expect build stay fall nation plan cut interest course someone experience behind
    reach local remain effect suggest control raise care perhaps late hard field else pass
    former major sometimes require along development themselves report role better economic
    effort decide rate strong possible whole finally return free price less according
    decision explain hope develop view relationship carry true receive value international
    action full join society tax director position agree especially record form support
    event official whose matter center project base activity produce half situation cost
    industry itself either data cover quite clear practice recent describe product certain
    personal simply third technology step type attention source nearly organization choose
    cause evidence difficult soon culture chance period available likely opportunity term
    letter condition choice single rule administration material population economy close
    thousand risk current future involve anyone increase security per subject private
    performance order represent upon agency nature note page share common similar language
    usually response article thus approach size fund serious ready list individual quality
    accept answer resource identify meeting determine prepare success amount staff indicate
    region training general standard message present section skill professional operation
    financial compare authority design act knowledge example check various rather claim
    legal final main establish management avoid statement maintain charge direction contain
    apply measure manage structure production conference unit specific necessary throughout
    dear sincerely regards attached please shall hereby thereof herein
    is are was were been has does did made done said went gone got took given came known
    thought told found left felt kept brought began held seen paid met led ran sent built
    most above below except unless otherwise instead further therefore original special
    purpose additional initial particular document file text title user version copy
"""
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
#: English endings stripped to find a word of the list: "services", "provided", "meetings"
_ENGLISH_ENDINGS = ("ies", "es", "s", "ed", "d", "ing", "ly", "er")
#: the Latin and Germanic suffixes of longer English words ("distribution", "agreement",
#: "responsibility"): random letters end in one of them about once in a thousand words. Up
#: to 20 letters: a broken map that turns the spaces into letters makes runs of hundreds
_ENGLISH_SUFFIX = re.compile(
    r"[a-z]{3,14}(tion|sion|ment|ness|ity|ance|ence|able|ible|ive|ous|ful|less|ize|ise|ism|ist|"
    r"ical|ally|ing|ure|ary|ory|ated|ial|ual|ent|ant|ics|ship|ward|wise)s?"
)


def _is_english(folded: str) -> bool:
    """A frequent English word, or one of them with a plural, tense or adverb ending."""
    if folded in _ENGLISH:
        return True
    for ending in _ENGLISH_ENDINGS:
        stem = folded.removesuffix(ending)
        if stem != folded and len(stem) > 1 and (stem in _ENGLISH or stem + "e" in _ENGLISH):
            return True
    if folded.endswith("ies") and folded[:-3] + "y" in _ENGLISH:
        return True
    return _ENGLISH_SUFFIX.fullmatch(folded) is not None


@dataclass(frozen=True)
class Wordlike:
    """How much of a text is made of words at all, in Vietnamese or English."""

    words: int  # words of letters
    letters: int  # letters in them
    share: float  # share of those letters in words that are syllables, abbreviations, numerals,
    # units or English words: by letters, not words, so that a few long runs of garbage (a
    # broken map that turns the spaces into letters too) weigh what they cover


def wordlike(text: str) -> Wordlike:
    """Measure `text` (any normalization) word by word (see `is_word`)."""
    # without its marks first: a mark that makes no letter of NFC ("ḿ̂") would split a word
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    words = _WORD.findall(bare)
    letters = sum(map(len, words))
    good = sum(len(word) for word in words if is_word(word))
    return Wordlike(words=len(words), letters=letters, share=good / max(1, letters))


@lru_cache(maxsize=8192)
def is_word(token: str) -> bool:
    """A run of letters that can stand in a Vietnamese or English document."""
    folded = fold(token)
    return (
        len(folded) == 1  # list items a) b) đ), initials
        or is_syllable(folded)
        or folded.upper() in _ABBREVIATIONS
        or folded in _UNITS
        or _is_english(folded)
        or _is_roman(token)
    )


def _is_roman(token: str) -> bool:
    """A roman numeral in capitals, or a small one in lower case."""
    lower = token.islower() and set(token) <= _LOWER_ROMAN
    return (token.isupper() or lower) and _ROMAN.fullmatch(token.upper()) is not None
