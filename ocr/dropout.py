"""Red seals and blue signatures out of a colour scan before OCR.

A seal pressed over the signer's block hides the text under it from Tesseract, and a pen
signature is read as invented text (`¬⁄©=`), or, half removed, as broken letters. Both are
coloured ink on a page whose text is black (see `fade_colour`). Black text under the seal
stays: ink multiplies, so black over red is still black.

Only the parts of the page that hold coloured ink are worked on at full resolution: they are
found on a small copy first, so a page without colour costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

#: chroma (0–255) above which a red-dominant pixel is read in its red channel
RED_FROM = 12
#: chroma from which a blue-dominant pixel starts to fade, and at which it is paper-white
BLUE_FROM, BLUE_TO = 15, 35
#: chroma of a small-copy pixel that marks coloured ink nearby (JPEG colour noise stays below)
_DETECT = 45
#: coloured pixels of the small copy needed before anything is done (a few dots are noise)
_MIN_PIXELS = 12
#: side of the tiles, in small-copy pixels, that are cleaned at full resolution
_TILE = 16
_SMALL_DPI = 75.0
_SPREAD = 2  # pixels over which a pen stroke's fading carries to its neighbours


@dataclass(frozen=True)
class Dropout:
    """The grey page with colour ink removed, and how much of the page was worked on."""

    image: Image.Image
    regions: int  # rectangles cleaned at full resolution
    area: float  # share of the page they cover


def chroma(rgb: Image.Image) -> Image.Image:
    """max(R, G, B) − min(R, G, B) of every pixel, as an L image."""
    r, g, b = rgb.split()
    high = ImageChops.lighter(ImageChops.lighter(r, g), b)
    low = ImageChops.darker(ImageChops.darker(r, g), b)
    return ImageChops.subtract(high, low)


def fade_colour(rgb: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """`grey` with the red and blue ink of `rgb` taken out.

    Red-dominant pixels take their red channel: red ink barely darkens it (the seal
    vanishes), black ink darkens it fully (the text under the seal stays). Blue ink is dark
    in every channel, so blue-dominant pixels are faded to white by their chroma; the
    ramp starts low because JPEG halves the chroma of thin pen strokes.
    """
    r, g, b = (rgb[..., k].astype(np.int16) for k in range(3))
    high = np.maximum(np.maximum(r, g), b)
    low = np.minimum(np.minimum(r, g), b)
    out = grey.astype(np.float32)
    red = (r == high) & (high - low > RED_FROM)
    out[red] = np.maximum(out[red], r[red])
    blue = (b == high) & (b > r) & (b > g)
    weight = np.clip((high - low - BLUE_FROM) / float(BLUE_TO - BLUE_FROM), 0.0, 1.0)
    weight[~blue] = 0.0
    # Spread over a few pixels: where a stroke crosses itself the ink doubles and looks
    # black, and its rim is half paper; left in place, both read as dots and dashes.
    weight = spread_max(weight, _SPREAD)
    out += (255.0 - out) * weight
    return np.clip(out, 0, 255).astype(np.uint8)


def spread_max(values: np.ndarray, radius: int) -> np.ndarray:
    """Maximum over the (2·radius+1)² square around every element (separable, edges clamp)."""
    out = values.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for k in range(1, min(radius, n - 1) + 1):
            lead = [slice(None)] * 2
            lag = [slice(None)] * 2
            lead[axis], lag[axis] = slice(k, None), slice(None, n - k)
            np.maximum(out[tuple(lead)], src[tuple(lag)], out=out[tuple(lead)])
            np.maximum(out[tuple(lag)], src[tuple(lead)], out=out[tuple(lag)])
    return out


def _regions(small_chroma: np.ndarray, factor: float) -> list[tuple[int, int, int, int]]:
    """Full-resolution rectangles around the tiles of the small copy that hold colour."""
    coloured = small_chroma > _DETECT
    if int(coloured.sum()) < _MIN_PIXELS:
        return []
    h, w = coloured.shape
    rows, cols = -(-h // _TILE), -(-w // _TILE)
    padded = np.zeros((rows * _TILE, cols * _TILE), dtype=bool)
    padded[:h, :w] = coloured
    tiles = np.asarray(padded.reshape(rows, _TILE, cols, _TILE).any(axis=(1, 3)), dtype=bool)
    # One tile of margin: the faint rim of a stroke may sit in the next tile.
    grown = tiles.copy()
    grown[1:] |= tiles[:-1]
    grown[:-1] |= tiles[1:]
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    # Runs of tiles row by row, merged with the runs they touch in the row above: one
    # rectangle per seal or signature instead of one per row of tiles.
    groups: list[list[int]] = []  # [col0, row0, col1, row1] in tiles, end exclusive
    open_groups: list[list[int]] = []
    for row in range(rows):
        edges = np.concatenate(
            (np.zeros(1, np.int8), grown[row].astype(np.int8), np.zeros(1, np.int8))
        )
        cols_on = np.flatnonzero(np.diff(edges))
        still_open: list[list[int]] = []
        for start, stop in zip(cols_on[::2], cols_on[1::2], strict=True):
            touching = [g for g in open_groups if g[0] < stop and start < g[2]]
            if touching:
                group = touching[0]
                for other in touching[1:]:  # a U shape: two groups meet here
                    group[0], group[1] = min(group[0], other[0]), min(group[1], other[1])
                    group[2] = max(group[2], other[2])
                    groups[:] = [g for g in groups if g is not other]
                    open_groups = [g for g in open_groups if g is not other]
                    still_open = [g for g in still_open if g is not other]
                group[0], group[2], group[3] = min(group[0], start), max(group[2], stop), row + 1
            else:
                group = [int(start), row, int(stop), row + 1]
                groups.append(group)
                open_groups.append(group)
            if not any(g is group for g in still_open):
                still_open.append(group)
        open_groups = still_open
    scale = _TILE * factor
    return [(round(a * scale), round(b * scale), round(c * scale), round(d * scale))
            for a, b, c, d in groups]  # fmt: skip


def drop_colour_ink(image: Image.Image, dpi: float) -> Dropout:
    """The page in grey, with red and blue ink faded out (grey pages pass through)."""
    if image.mode != "RGB":
        return Dropout(image if image.mode == "L" else image.convert("L"), 0, 0.0)
    grey = image.convert("L")
    step = max(1, round(dpi / _SMALL_DPI))
    # Every step-th pixel, not block averages: it reads a sixteenth of the page (~0.5 ms
    # instead of ~7), and keeps a thin pen stroke's full chroma.
    small = chroma(
        image.resize((image.width // step, image.height // step), Image.Resampling.NEAREST)
    )
    boxes = _regions(np.asarray(small), step)
    area = 0
    for box in boxes:
        x0, y0 = box[0], box[1]
        x1, y1 = min(box[2], image.width), min(box[3], image.height)
        if x1 <= x0 or y1 <= y0:
            continue
        rgb = np.asarray(image.crop((x0, y0, x1, y1)))
        patch = np.asarray(grey.crop((x0, y0, x1, y1)), dtype=np.float32)
        grey.paste(Image.fromarray(fade_colour(rgb, patch), "L"), (x0, y0))
        area += (x1 - x0) * (y1 - y0)
    return Dropout(grey, len(boxes), area / float(image.width * image.height))
