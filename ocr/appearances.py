"""Text that a PDF draws through its annotations, read as part of the page.

E-office systems stamp the number and the day of a document in when they issue it, as the
appearance of signature widgets placed over the blanks of the printed line: the page's own
text says `Số: /TB-UBND … ngày tháng 01 năm 2025`, and what a reader sees, `Số: 11/TB-UBND …
ngày 08 tháng 01`, lives in the widgets. pdfium's text and pdfminer's characters leave
annotations out. So a document whose pages draw annotations is read from a copy whose pages
draw them as their own content (qpdf's annotation flattening, through pikepdf), where every
character has its place on the page. The stored original is never changed.
"""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

log = logging.getLogger(__name__)

#: a file with more annotations than this is read without them: thousands of widgets are
#: an attack on the reader (each one a content stream to parse), not a document
MAX_ANNOTATIONS = 2000
#: annotations that never draw the document's words (a link, a pop-up note's window)
_NOT_DRAWN = {"/Link", "/Popup"}
#: annotation flags (PDF 32000 §12.5.3): Hidden, NoView
_HIDDEN = 2 | 32


@dataclass(frozen=True)
class Flattened:
    """A copy of the document whose pages draw their annotations as page content."""

    path: Path
    pages: frozenset[int]  # 1-based numbers of the pages that had annotations drawn


def drawn_annotation_pages(pdf: pikepdf.Pdf) -> frozenset[int] | None:
    """Pages with a visible annotation that has a normal appearance; None when the file has
    more annotations than `MAX_ANNOTATIONS`."""
    pages: set[int] = set()
    total = 0
    for number, page in enumerate(pdf.pages, start=1):
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        total += len(annots)
        if total > MAX_ANNOTATIONS:
            return None
        if any(_drawn(annot) for annot in annots):
            pages.add(number)
    return frozenset(pages)


def _drawn(annot: Any) -> bool:
    try:
        if not isinstance(annot, pikepdf.Dictionary):
            return False
        if str(annot.get("/Subtype", "")) in _NOT_DRAWN:
            return False
        if int(annot.get("/F", 0)) & _HIDDEN:
            return False
        appearance = annot.get("/AP")
        return isinstance(appearance, pikepdf.Dictionary) and "/N" in appearance
    except (pikepdf.PdfError, TypeError, ValueError):  # a damaged annotation draws nothing
        return False


def flatten_appearances(source: Path, target: Path) -> Flattened | None:
    """Write to `target` a copy of `source` whose annotations are drawn as page content;
    None when no page draws an annotation, when there are too many, or when the copy cannot
    be made (the document is then read as it is)."""
    try:
        with pikepdf.open(source) as pdf:
            pages = drawn_annotation_pages(pdf)
            if pages is None:
                log.warning("%s: more than %d annotations, read without them", source,
                            MAX_ANNOTATIONS)  # fmt: skip
                return None
            if not pages:
                return None
            pdf.flatten_annotations(mode="screen")
            pdf.save(target)
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError) as exc:
        log.warning("%s: annotations cannot be drawn into the pages (%s)", source, exc)
        return None
    return Flattened(target, pages)


def drop_covered_blanks(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The characters without the blanks that lie under a visible character.

    A printed form leaves its blanks as runs of spaces (`Số:      /QĐ-UBND`); the number
    drawn over them later must not be cut into single digits by the spaces beneath it.
    """
    by_line: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for c in chars:
        if str(c.get("text", "")).strip():
            by_line[round(c["top"] / 4)].append((c["x0"], c["x1"]))
    if not by_line:
        return chars
    starts: dict[int, tuple[list[float], list[float]]] = {}
    for key, spans in by_line.items():
        spans.sort()
        starts[key] = ([s[0] for s in spans], [s[1] for s in spans])
    widest = max((s[1] - s[0] for spans in by_line.values() for s in spans), default=0.0)

    def covered(c: dict[str, Any]) -> bool:
        middle = (c["x0"] + c["x1"]) / 2
        line = round(c["top"] / 4)
        for key in (line - 1, line, line + 1):
            if key not in starts:
                continue
            lefts, rights = starts[key]
            # the glyphs that start left of the blank's middle, at most one glyph's width
            first = bisect.bisect_left(lefts, middle - widest)
            last = bisect.bisect_right(lefts, middle)
            if any(rights[i] > middle for i in range(first, last)):
                return True
        return False

    return [c for c in chars if str(c.get("text", "")).strip() or not covered(c)]


def text_from_words(words: list[dict[str, Any]]) -> str:
    """Reading-order text of words with boxes: lines top to bottom, words left to right."""
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        height = max(1.0, word["bottom"] - word["top"])
        if lines and abs(lines[-1][0]["top"] - word["top"]) <= 0.5 * height:
            lines[-1].append(word)
        else:
            lines.append([word])
    return "\n".join(" ".join(w["text"] for w in sorted(line, key=lambda w: w["x0"]))
                     for line in lines)  # fmt: skip
