"""A second look at ink the first reading left out.

Tesseract's layout analysis decides, before it reads a letter, which parts of a page are text.
A block of text with something drawn over it — the signer's title and name under a seal
scanned in grey (the colour dropout cannot tell a grey seal from ink), a page number beside
a stamp — is taken for a picture and dropped whole: no word, not even a wrong one. On the
generated grey scans with a seal that lost the signer of one document in six.

What was dropped shows as ink that no recognized word covers. Each such region is cut out,
cleaned of the lighter ink drawn over the text (the grey seal is lighter than the black
text: the region's dark ink is split from its light ink by Otsu's threshold), and all regions
of a page are read in one more Tesseract run, stacked on one canvas as a single block of
text. Words read with too little confidence, or that are not letters or digits, are left
out: a signature read as text must not come back as words.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ocr.deskew import otsu_from_histogram, otsu_threshold
from ocr.hocr import HocrPage, Line, Word, parse_hocr
from ocr.tesseract import recognize

Box = tuple[int, int, int, int]

#: side of the grid cells ink is counted in, as a share of the page's resolution (12 px at
#: 300 dpi: half the x-height of body text)
CELL_PER_DPI = 1 / 25
#: ink pixels that make a cell count as inked (fewer are specks)
CELL_INK = 3
#: border strips left out: scanner edges and punch holes are not text
MARGIN = 0.03
#: smallest region read again, in cells: one line of body text, about four letters wide.
#: A lone page number, which Tesseract often drops, is left: reading it would cost one more
#: Tesseract run on most pages (the run's start alone is a tenth of a page's OCR time)
MIN_HEIGHT, MIN_WIDTH, MIN_INKED = 3, 6, 10
#: a region larger than this share of the page is a picture, not text the layout missed
MAX_REGION_AREA = 0.2
#: most of the page read a second time (what is left beyond it stays unread)
MAX_TOTAL_AREA = 0.3
#: a word read in the second look must be at least this sure to be kept
MIN_WORD_CONFIDENCE = 0.6
#: white kept around a region on the canvas, in cells
PAD = 2
#: the light class of a region's ink must hold this share of its ink pixels to be taken for
#: something drawn over the text (a seal) and removed; below it, it is the text's own edges
OVERLAY_SHARE = 0.3
#: and be at least this much lighter than the dark class (grey levels)
OVERLAY_CONTRAST = 70


@dataclass(frozen=True)
class Region:
    """Part of the page with ink no word of the first reading covers."""

    box: Box  # pixels of the image read
    inked: int  # inked cells in it


def _cells(image: Image.Image, cell: int) -> np.ndarray:
    """Which cells of the grid hold ink (done by Pillow: a page is 8 million pixels)."""
    threshold = min(otsu_from_histogram(image.histogram()), 160)
    binary = image.point([0 if v <= threshold else 255 for v in range(256)])
    width, height = image.width // cell, image.height // cell
    mean = np.asarray(binary.crop((0, 0, width * cell, height * cell)).reduce(cell))
    # a cell's mean is 255 less 255 per cell² for each ink pixel in it
    return mean <= 255.0 * (1.0 - (CELL_INK - 0.5) / (cell * cell))


def _covered(shape: tuple[int, int], page: HocrPage, cell: int) -> np.ndarray:
    """Cells within one cell of a recognized word."""
    covered = np.zeros(shape, dtype=bool)
    for line in page.lines:
        for word in line.words:
            x0, y0, x1, y1 = (v // cell for v in word.bbox)
            covered[max(0, y0 - 1) : y1 + 2, max(0, x0 - 1) : x1 + 2] = True
    return covered


def _grow(mask: np.ndarray) -> np.ndarray:
    """`mask` grown by one cell in the eight directions."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


def _components(grown: np.ndarray, inked: np.ndarray) -> list[tuple[Box, int]]:
    """The parts of `inked` that touch through `grown` (8-connected): the bounding box of
    each part's inked cells, in cells, and their number. The grid is small (about
    200 × 280) and only the free ink and its rim are walked."""
    seen = np.zeros_like(grown)
    height, width = grown.shape
    out = []
    for y, x in zip(*np.nonzero(inked), strict=True):
        if seen[y, x]:
            continue
        seen[y, x] = True
        stack, count = [(int(y), int(x))], 0
        y0, x0, y1, x1 = int(y), int(x), int(y), int(x)
        while stack:
            cy, cx = stack.pop()
            if inked[cy, cx]:
                count += 1
                y0, y1, x0, x1 = min(y0, cy), max(y1, cy), min(x0, cx), max(x1, cx)
            for ny in range(max(0, cy - 1), min(height, cy + 2)):
                for nx in range(max(0, cx - 1), min(width, cx + 2)):
                    if grown[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        out.append(((x0, y0, x1 + 1, y1 + 1), count))
    return out


def missed_regions(image: Image.Image, page: HocrPage, dpi: float) -> list[Region]:
    """Regions of `image` with ink that none of `page`'s words covers, largest first, within
    the bounds above."""
    grey = image if image.mode == "L" else image.convert("L")
    cell = max(4, round(dpi * CELL_PER_DPI))
    inked = _cells(grey, cell)
    if not inked.any():
        return []
    free = inked & ~_covered(inked.shape, page, cell)
    rows, cols = free.shape
    my, mx = round(rows * MARGIN), round(cols * MARGIN)
    free[:my], free[rows - my :], free[:, :mx], free[:, cols - mx :] = False, False, False, False
    page_cells = rows * cols
    found = []
    for (x0, y0, x1, y1), count in _components(_grow(free), free):
        area = (x1 - x0) * (y1 - y0)
        if y1 - y0 < MIN_HEIGHT or x1 - x0 < MIN_WIDTH or count < MIN_INKED:
            continue
        if area > MAX_REGION_AREA * page_cells:
            continue
        # one cell more on every side: a descender or a thin stroke has too little ink
        # for its own cell
        box = (
            max(0, (x0 - 1) * cell),
            max(0, (y0 - 1) * cell),
            min(grey.width, (x1 + 1) * cell),
            min(grey.height, (y1 + 1) * cell),
        )
        found.append(Region(box, count))
    found.sort(key=lambda r: r.inked, reverse=True)
    kept, total = [], 0
    for region in found:
        x0, y0, x1, y1 = region.box
        total += (x1 - x0) * (y1 - y0)
        if total > MAX_TOTAL_AREA * grey.width * grey.height:
            break
        kept.append(region)
    return kept


def dark_ink(crop: np.ndarray) -> np.ndarray:
    """The crop in black and white, without lighter ink drawn over darker text.

    The ink of the crop is split in two by Otsu's threshold; when the light part is large
    and clearly lighter (a grey seal over black text), only the dark part is kept."""
    paper = otsu_threshold(crop)
    ink = crop[crop <= paper]
    threshold = paper
    if ink.size >= 50:
        split = otsu_threshold(ink)
        dark, light = ink[ink <= split], ink[ink > split]
        if (
            light.size >= OVERLAY_SHARE * ink.size
            and dark.size
            and float(light.mean()) - float(dark.mean()) >= OVERLAY_CONTRAST
        ):
            threshold = split
    return np.where(crop <= threshold, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class _Slot:
    region: Region
    top: int  # where the region's crop starts on the canvas
    bottom: int
    left: int  # canvas x of the region's left edge


def _canvas(
    grey: Image.Image, regions: list[Region], read: HocrPage, pad: int
) -> tuple[Image.Image, list[_Slot]]:
    """The regions' cleaned crops stacked top to bottom on white, `pad` pixels apart, the
    words `read` already has painted out (a region can reach over a line already read, as
    the frame around an urgency mark does: it must not be read twice)."""
    width = max(r.box[2] - r.box[0] for r in regions) + 2 * pad
    height = sum(r.box[3] - r.box[1] + pad for r in regions) + pad
    canvas = np.full((height, width), 255, dtype=np.uint8)
    slots, top = [], pad
    for region in regions:
        x0, y0, x1, y1 = region.box
        crop = dark_ink(np.asarray(grey.crop((x0, y0, x1, y1))))
        for line in read.lines:
            for word in line.words:
                wx0, wy0, wx1, wy1 = word.bbox
                if wx1 > x0 and wx0 < x1 and wy1 > y0 and wy0 < y1:
                    crop[
                        max(0, wy0 - y0 - 1) : max(0, wy1 - y0 + 1),
                        max(0, wx0 - x0 - 1) : max(0, wx1 - x0 + 1),
                    ] = 255
        canvas[top : top + crop.shape[0], pad : pad + crop.shape[1]] = crop
        slots.append(_Slot(region, top, top + crop.shape[0], pad))
        top += crop.shape[0] + pad
    return Image.fromarray(canvas), slots


def _keep(word: Word) -> bool:
    letters = sum(ch.isalnum() for ch in word.text)
    return (
        word.confidence is not None
        and word.confidence >= MIN_WORD_CONFIDENCE
        and letters >= max(1, len(word.text) // 2)
    )


def _home(line: Line, slot: _Slot) -> Line | None:
    """`line` moved from the canvas back to its place on the page, its doubtful words
    dropped; None when nothing is left."""
    dx, dy = slot.region.box[0] - slot.left, slot.region.box[1] - slot.top
    words = [
        Word(w.text, (w.bbox[0] + dx, w.bbox[1] + dy, w.bbox[2] + dx, w.bbox[3] + dy), w.confidence)
        for w in line.words
        if _keep(w)
    ]
    text = "".join(w.text for w in words)
    if sum(ch.isalnum() for ch in text) < 2 and not text.isdigit():
        return None  # a lone letter is a stroke of the signature more often than a word
    x0, y0, x1, y1 = line.bbox
    return Line((x0 + dx, y0 + dy, x1 + dx, y1 + dy), line.baseline, words, line.text_angle)


def read_regions(
    image: Image.Image, regions: list[Region], read: HocrPage, *, lang: str, dpi: float
) -> list[list[Line]]:
    """Read every region in one Tesseract run, without the words of the first reading
    `read`; the lines found in each region, in the pixels of `image` (a region where
    nothing sure was read gives an empty list)."""
    if not regions:
        return []
    grey = image if image.mode == "L" else image.convert("L")
    pad = PAD * max(4, round(dpi * CELL_PER_DPI))
    canvas, slots = _canvas(grey, regions, read, pad)
    second = parse_hocr(recognize(canvas, lang=lang, dpi=dpi, psm=6).hocr)
    found: list[list[Line]] = [[] for _ in slots]
    for line in second.lines:
        centre = (line.bbox[1] + line.bbox[3]) / 2
        index = next((i for i, s in enumerate(slots) if s.top <= centre < s.bottom), None)
        if index is None:
            continue
        moved = _home(line, slots[index])
        if moved is not None:
            found[index].append(moved)
    return found


_BLOCK = re.compile(r"<div class=['\"]ocr_(?:carea|photo|separator)['\"][^>]*?bbox (\d+) (\d+)")
_PAGE_END = re.compile(r"</div>\s*</body>")


def _block_hocr(lines: list[Line], number: int) -> str:
    """One ocr_carea with `lines`, as Tesseract writes it."""
    x0 = min(line.bbox[0] for line in lines)
    y0 = min(line.bbox[1] for line in lines)
    x1 = max(line.bbox[2] for line in lines)
    y1 = max(line.bbox[3] for line in lines)
    box = f"bbox {x0} {y0} {x1} {y1}"
    out = [
        f"   <div class='ocr_carea' id='block_r{number}' title=\"{box}\">",
        f"    <p class='ocr_par' id='par_r{number}' title=\"{box}\">",
    ]
    for i, line in enumerate(lines, start=1):
        lb = "bbox {} {} {} {}".format(*line.bbox)
        if line.baseline is not None:
            lb += f"; baseline {line.baseline[0]:g} {line.baseline[1]:g}"
        out.append(f"     <span class='ocr_line' id='line_r{number}_{i}' title=\"{lb}\">")
        for j, word in enumerate(line.words, start=1):
            wb = "bbox {} {} {} {}".format(*word.bbox)
            conf = round((word.confidence or 0.0) * 100)
            out.append(
                f"      <span class='ocrx_word' id='word_r{number}_{i}_{j}' "
                f"title='{wb}; x_wconf {conf}'>{html.escape(word.text, quote=False)}</span>"
            )
        out.append("     </span>")
    out += ["    </p>", "   </div>"]
    return "\n".join(out) + "\n"


def merge_lines(hocr: str, blocks: list[list[Line]]) -> str:
    """`hocr` with each non-empty block of lines added as a text block, placed before the
    first block of the page that starts below it (reading order, top to bottom)."""
    for number, lines in enumerate(blocks, start=1):
        if not lines:
            continue
        top = min(line.bbox[1] for line in lines)
        at = next((m.start() for m in _BLOCK.finditer(hocr) if int(m.group(2)) > top), None)
        if at is None:
            end = _PAGE_END.search(hocr)
            if end is None:
                continue  # not hOCR as Tesseract writes it; leave it as it is
            at = end.start()
        else:
            at = hocr.rfind("\n", 0, at) + 1
        hocr = hocr[:at] + _block_hocr(lines, number) + hocr[at:]
    return hocr
