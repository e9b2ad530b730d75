"""Folding Vietnamese text for search and cutting it into tokens."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: a longer token is cut to this many characters (index and query alike)
MAX_TOKEN_CHARS = 64


def _lower_char(ch: str) -> str:
    """Lower case of one character, as one character that is alphanumeric exactly when `ch`
    is (else `ch` itself), so that case never moves a token boundary."""
    lower = ch.lower()
    return lower if len(lower) == 1 and lower.isalnum() == ch.isalnum() else ch


def _fold_char(ch: str) -> str | None:
    """The folded form of one character: None to drop it, else exactly one character."""
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):  # combining marks, zero-width, soft hyphen
        return None
    lower = _lower_char(ch)
    base = [c for c in unicodedata.normalize("NFD", lower) if not unicodedata.combining(c)]
    out = _lower_char(base[0]) if len(base) == 1 else lower
    if out in ("đ", "ð"):  # đ has no decomposition; ð is a common stand-in for it
        out = "d"
    if out.isalnum() != lower.isalnum():
        out = lower  # folding must not move token boundaries (see segment)
    return out


class _FoldTable(dict[int, str | None]):
    """A `str.translate` table filled on first use of each character."""

    def __missing__(self, code: int) -> str | None:
        value = _fold_char(chr(code))
        self[code] = value
        return value


class _LowerTable(dict[int, str]):
    def __missing__(self, code: int) -> str:
        value = _lower_char(chr(code))
        self[code] = value
        return value


FOLD_TABLE = _FoldTable()
_LOWER = _LowerTable()


def fold(value: str) -> str:
    """Lower case without diacritics: `Quyết Định` → `quyet dinh`, `Đ` → `d`."""
    if value.isascii():
        return value.lower()
    return value.translate(FOLD_TABLE)


def fold_with_offsets(value: str) -> tuple[str, list[int] | None]:
    """`fold(value)`, and for each folded character its index in `value`.

    The offsets are None when folding kept one character for each character (text in NFC
    without stray combining marks, the usual case): then the indexes are the same.
    """
    folded = fold(value)
    if len(folded) == len(value):
        return folded, None
    return folded, [i for i, ch in enumerate(value) if FOLD_TABLE[ord(ch)] is not None]


def exact_form(value: str) -> str:
    """Lower case with the diacritics kept (NFC), without invisible characters."""
    lower = value.translate(_LOWER)
    if not lower.isascii():
        lower = "".join(ch for ch in lower if unicodedata.category(ch) != "Cf")
        lower = unicodedata.normalize("NFC", lower)
    return lower[:MAX_TOKEN_CHARS]


# --------------------------------------------------------------------------------------------
# Tokens

#: letters and digits (str.isalnum); everything else separates tokens
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Token:
    folded: str
    #: the exact form when it differs from the folded one (it carries diacritics), else None
    exact: str | None
    #: span in the original text
    start: int
    end: int


def tokenize(value: str) -> list[Token]:
    """Tokens of `value` with their exact forms and their spans in `value`."""
    folded, offsets = fold_with_offsets(value)
    tokens = []
    for match in _WORD.finditer(folded):
        start, end = match.span()
        if offsets is not None:
            start = offsets[start]
            end = offsets[end] if end < len(offsets) else len(value)
        word = match.group()[:MAX_TOKEN_CHARS]
        exact = None
        if not value[start:end].isascii():
            form = exact_form(value[start:end])
            exact = form if form != word else None
        tokens.append(Token(word, exact, start, end))
    return tokens


def _cut(words: list[str]) -> list[str]:
    if words and max(map(len, words)) > MAX_TOKEN_CHARS:
        return [w[:MAX_TOKEN_CHARS] for w in words]
    return words


def segment(value: str) -> tuple[list[str], list[str]]:
    """(folded tokens, exact forms that differ from them) of one field or page, fast."""
    if value.isascii():
        return _cut(_WORD.findall(value.lower())), []
    folded = value.translate(FOLD_TABLE)
    if len(folded) == len(value):
        # one character for one, and folding keeps token boundaries (_fold_char): the tokens
        # of the lower-cased text are the exact forms of the folded tokens, in order
        words = _cut(_WORD.findall(folded))
        lowered = _cut(_WORD.findall(value.translate(_LOWER)))
        if len(lowered) == len(words):
            return words, [e for w, e in zip(words, lowered, strict=True) if e != w]
    tokens = tokenize(value)
    return [t.folded for t in tokens], [t.exact for t in tokens if t.exact]
