"""Where the signer's name is on the page: the area a second reading should crop.

The name sits under the signing title (`KT. CHỦ TỊCH` / `PHÓ CHỦ TỊCH`) in the right
column, below the signature and the seal; on scans the seal and the ink make the page's OCR
lose it. The title itself is read well, so its word boxes say where to look: a band as wide
as the title (and a little more: a name may be wider) from under it down to where a name
still belongs to the block. Boxes are in the page's own units (the word boxes'), y down.
"""

from __future__ import annotations

from collections.abc import Sequence

from classify.layout import PageInput, WordBox
from classify.layout import _group_lines as group_lines
from classify.signer import title_line

Box = tuple[float, float, float, float]

#: a horizontal gap wider than this share of the page splits a line into columns
COLUMN_GAP = 0.03
#: the title is in the right column: its centre right of this share of the page
RIGHT_FROM = 0.45
#: the area, in heights of the title line: how far it reaches left and right of the title,
#: where it starts under it, and how far down (signature and seal take 4–7 lines)
SIDE, TOP, DEPTH = 3.0, 0.3, 10.0


def _runs(words: Sequence[WordBox], gap: float) -> list[list[WordBox]]:
    ordered = sorted(words, key=lambda w: w.x0)
    runs = [[ordered[0]]]
    for w in ordered[1:]:
        if w.x0 - runs[-1][-1].x1 > gap:
            runs.append([w])
        else:
            runs[-1].append(w)
    return runs


def name_area(page: PageInput) -> Box | None:
    """The area under the page's last signing title where the signer's name is, or None
    when there is no title in the right column, or several side by side (a joint
    document's block: one name read of several is no signer)."""
    words = [w for w in page.words or () if w.text.strip()]
    if not words:
        return None
    width = page.width or max(w.x1 for w in words)
    height = page.height or max(w.y1 for w in words)
    last: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 of the title
    columns = 0
    for line in group_lines(words):
        titles = []
        for run in _runs(line.words, COLUMN_GAP * width):
            if title_line(" ".join(w.text for w in run)) is not None:
                titles.append((run[0].x0, line.y0, run[-1].x1, line.y1))
        right = [t for t in titles if (t[0] + t[2]) / 2 >= RIGHT_FROM * width]
        if right:
            last, columns = right[-1], len(titles)
    if last is None or columns > 1:
        return None
    x0, y0, x1, y1 = last
    h = y1 - y0
    return (
        max(0.0, x0 - SIDE * h),
        min(height, y1 + TOP * h),
        min(width, x1 + SIDE * h),
        min(height, y1 + DEPTH * h),
    )
