"""Character and word error rates that do not punish a different reading order.

Why not a plain Levenshtein distance over the whole page: a Decree-30 page has blocks side
by side (issuer | national name, recipients | signature). Tesseract, pdfplumber and people may
read them left-first, right-first or interleaved, and all are right. A whole-text distance
would count every moved block twice (deleted here, inserted there), so a perfect OCR could
score 20 % worse than a sloppy one that happened to pick our order.

So the unit of order is the line. Both texts are normalized to NFC, whitespace inside a line
is collapsed, empty lines are dropped. Each truth line is paired with the most similar unused
OCR line, best pairs first (greedy, on rapidfuzz's normalized Indel similarity); pairs less
than `min_similarity` alike are not paired. The error is the sum of Levenshtein distances of
the pairs, plus the length of every unpaired truth line (missed text) and of every unpaired
OCR line (invented text), divided by the number of truth characters.

Readers also merge lines that sit side by side: Tesseract reads `ỦY BAN NHÂN DÂN` and
`CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM` as one line, pdfplumber does the same with `Số: …` and
the date. That is reading order too, so after pairing, an unpaired line may join a group at
either end (texts joined with a space) when that lowers the total distance and the group stays
`min_similarity` alike; a line split in two is handled the same way from the other side.

What this still punishes, on purpose: wrong characters, lost lines and invented lines (such
as a signature read as `¬⁄©=`), since a reader of the text would see those too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

MIN_SIMILARITY = 0.5


def normalize_lines(text: str) -> list[str]:
    """NFC, whitespace collapsed inside each line, empty lines dropped."""
    text = unicodedata.normalize("NFC", text)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def match_lines(
    truth: Sequence[str], ocr: Sequence[str], min_similarity: float = MIN_SIMILARITY
) -> list[tuple[int | None, int | None]]:
    """Pair truth lines with OCR lines, most similar first; unpaired lines pair with None."""
    pairs: list[tuple[int | None, int | None]] = []
    used_t: set[int] = set()
    used_o: set[int] = set()
    if truth and ocr:
        scores = process.cdist(list(truth), list(ocr), scorer=fuzz.ratio)
        ranked = sorted(
            ((float(scores[i][j]), i, j) for i in range(len(truth)) for j in range(len(ocr))),
            key=lambda item: (-item[0], item[1], item[2]),
        )
        for score, i, j in ranked:
            if score < min_similarity * 100:
                break
            if i in used_t or j in used_o:
                continue
            used_t.add(i)
            used_o.add(j)
            pairs.append((i, j))
    pairs += [(i, None) for i in range(len(truth)) if i not in used_t]
    pairs += [(None, j) for j in range(len(ocr)) if j not in used_o]
    return pairs


class _Group:
    """Truth lines and OCR lines read as one stretch of text."""

    def __init__(self, truth: list[str], ocr: list[str]) -> None:
        self.truth, self.ocr = truth, ocr
        self._cost: dict[bool, int] = {}

    def cost(self, words: bool) -> int:
        if words not in self._cost:
            t, o = " ".join(self.truth), " ".join(self.ocr)
            self._cost[words] = (
                Levenshtein.distance(t.split(), o.split()) if words else Levenshtein.distance(t, o)
            )
        return self._cost[words]

    def similar(self, min_similarity: float) -> bool:
        return fuzz.ratio(" ".join(self.truth), " ".join(self.ocr)) >= min_similarity * 100


def _absorb(groups: list[_Group], words: bool, min_similarity: float) -> None:
    """Merge single unpaired lines into groups while that lowers the total distance."""
    while True:
        best: tuple[int, int, int, _Group] | None = None  # (gain, target, single, merged)
        for si, single in enumerate(groups):
            if single.truth and single.ocr:
                continue
            for gi, group in enumerate(groups):
                if gi == si or not (group.truth and group.ocr):
                    continue
                side = "truth" if single.truth else "ocr"
                lines = getattr(single, side)
                other = " ".join(group.ocr if side == "truth" else group.truth)
                if fuzz.partial_ratio(" ".join(lines), other) < min_similarity * 100:
                    continue  # the single line does not occur in the group's text
                for merged_lines in (
                    [*lines, *getattr(group, side)],
                    [*getattr(group, side), *lines],
                ):
                    merged = (
                        _Group(merged_lines, group.ocr)
                        if side == "truth"
                        else _Group(group.truth, merged_lines)
                    )
                    gain = group.cost(words) + single.cost(words) - merged.cost(words)
                    if (
                        gain > 0
                        and merged.similar(min_similarity)
                        and (best is None or gain > best[0])
                    ):
                        best = (gain, gi, si, merged)
        if best is None:
            return
        _, gi, si, merged = best
        groups[gi] = merged
        del groups[si]


def _error_rate(truth: str, ocr: str, words: bool, min_similarity: float) -> float:
    t_lines, o_lines = normalize_lines(truth), normalize_lines(ocr)
    groups = [
        _Group([t_lines[i]] if i is not None else [], [o_lines[j]] if j is not None else [])
        for i, j in match_lines(t_lines, o_lines, min_similarity)
    ]
    _absorb(groups, words, min_similarity)
    total = sum(len(line.split()) if words else len(line) for line in t_lines)
    errors = sum(group.cost(words) for group in groups)
    if total == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / total


def cer(truth: str, ocr: str, min_similarity: float = MIN_SIMILARITY) -> float:
    """Character error rate of `ocr` against `truth`, insensitive to the order of lines.

    0.0 is perfect; it can exceed 1.0 when the OCR invents a lot of text.
    """
    return _error_rate(truth, ocr, words=False, min_similarity=min_similarity)


def wer(truth: str, ocr: str, min_similarity: float = MIN_SIMILARITY) -> float:
    """Word error rate, with the same line pairing as `cer`."""
    return _error_rate(truth, ocr, words=True, min_similarity=min_similarity)
