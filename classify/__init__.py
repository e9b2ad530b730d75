"""Classification of Vietnamese administrative documents (Decree 30/2020/NĐ-CP).

Reads the type, number, date, place, issuer, subject, signer and secrecy/urgency marks off a
digitized document, with a confidence per field, and says when a person should review it.
A pure library: it imports only `schemas` and third-party packages.

    from classify import PageInput, WordBox, classify
    result = classify([PageInput(1, text, words, width, height), ...])
    result.document          # schemas.record.DocumentInfo
    result.needs_review, result.reasons, result.field_confidence, result.unit

Word boxes come from hOCR for scanned pages (`WordBox(text, x0, y0, x1, y1, line=…,
confidence=…)`) or from a PDF's characters (`words_from_chars(pdfplumber chars)`); without
them the text alone is read. `Hints.from_corrections([...])` turns past corrections into
lookups for the next records (see `classify.hints`).
"""

from classify.document import Classification, classify
from classify.hints import Correction, Hints
from classify.issuer import name_key
from classify.layout import PageInput, WordBox, words_from_chars

__all__ = [
    "Classification",
    "Correction",
    "Hints",
    "PageInput",
    "WordBox",
    "classify",
    "name_key",
    "words_from_chars",
]
