"""Which way up a page is: 0, 90, 180 or 270 degrees, from a small binarized copy.

Two cheap measures decide most pages, so Tesseract's orientation detection (OSD, half a
second or more) only runs on the few they leave in doubt:

- the axis: text lines run along the axis whose projection profile is sharpest
  (ocr.deskew); a page whose lines run down the sheet was fed sideways;
- up or down: in Latin script (Vietnamese included) a line carries more ink above its
  x-height band (capitals, ascenders b d h k l, tone marks and the hats of â ê ô) than below
  it (the descenders of g p q y and the dot below). On our samples the balance is +0.1 to
  +0.7 for upright pages and −0.3 to −0.6 for pages upside down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.deskew import LineFit, coarse_fit, fit_lines, profile

#: the other axis must be this much sharper before a page is taken as turned on its side
AXIS_MARGIN = 1.15
#: |upright score| below this is a guess: Tesseract's OSD decides
UPRIGHT_MARGIN = 0.1
#: a page whose best profile is flatter than this has too little text to judge
MIN_SHARPNESS = 1.3
#: a best slant that stands out less than this from the others (LineFit.peak) is not the
#: slant of text lines: pages of text score 1.5–2.1 (1.5 a half-page letter tilted 3°), a
#: last page holding a few short lines, a seal scanned in grey and a signature 1.1–1.2 —
#: and deskewing such a page by the seal's "slant" (5–9°) lost its signer to Tesseract
MIN_PEAK = 1.25
_ROW_FLOOR = 0.03  # rows with less ink than this share of the fullest row separate lines
_CORE = 0.5  # rows with at least this share of their line's fullest row form its x-height band


@dataclass(frozen=True)
class Orientation:
    """`rotation`: clockwise degrees that make the page upright; `skew`: tilt of its lines
    once upright (degrees, counter-clockwise positive); `certain`: False when the cheap
    measures could not tell (OSD should decide); `upright`: the up/down balance;
    `has_text`: lines of text were found at all."""

    rotation: int
    skew: float
    certain: bool
    upright: float
    has_text: bool
    x_height: float | None = None  # median x-height of the lines, in pixels of the copy


def text_lines(rows: np.ndarray) -> list[tuple[np.ndarray, int, int]]:
    """The text lines of a row profile: (the line's rows, first and last row of its x-height
    band, relative to the line)."""
    if rows.size == 0:
        return []
    on = rows > rows.max() * _ROW_FLOOR
    # Runs of consecutive rows with ink are the text lines.
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    out = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        line = rows[start:stop]
        if len(line) >= 4:
            core = np.flatnonzero(line >= line.max() * _CORE)
            out.append((line, int(core[0]), int(core[-1])))
    return out


def upright_score(lines: list[tuple[np.ndarray, int, int]]) -> float:
    """Ink above the x-height bands minus ink below, over both: > 0 upright, < 0 upside down."""
    above = sum(float(line[:first].sum()) for line, first, _ in lines)
    below = sum(float(line[last + 1 :].sum()) for line, _, last in lines)
    total = above + below
    return (above - below) / total if total else 0.0


def x_height(lines: list[tuple[np.ndarray, int, int]]) -> float | None:
    """Height of the x-height bands of the lines, in rows (the median weighted by ink, so
    the scraps a blurred or noisy page leaves between lines do not count); None without
    enough lines."""
    if len(lines) < 3:
        return None
    heights = np.array([last - first + 1 for _, first, last in lines], dtype=np.float64)
    weights = np.array([line.sum() for line, _, _ in lines], dtype=np.float64)
    order = np.argsort(heights)
    cumulative = np.cumsum(weights[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def turn_points(ys: np.ndarray, xs: np.ndarray, rotation: int) -> tuple[np.ndarray, np.ndarray]:
    """Ink coordinates of the page turned clockwise by `rotation` (offsets do not matter)."""
    if rotation == 90:
        return xs, -ys
    if rotation == 180:
        return -ys, -xs
    if rotation == 270:
        return -xs, ys
    return ys, xs


def line_skew(fit: LineFit) -> float:
    """The fit's slant when it is the slant of text lines, else 0 (leave the page level)."""
    return fit.angle if fit.peak >= MIN_PEAK else 0.0


def find_orientation(ys: np.ndarray, xs: np.ndarray) -> Orientation:
    """The quarter turn and skew of a page, from its ink pixels (rows, columns)."""
    across, down = coarse_fit(ys, xs), coarse_fit(xs, ys)
    sideways = down.sharpness > across.sharpness * AXIS_MARGIN
    has_text = max(across.sharpness, down.sharpness) >= MIN_SHARPNESS
    base = 90 if sideways else 0
    ty, tx = turn_points(ys, xs, base)
    # The columns' fit projected x + y·tan(a); turned clockwise by 90° that is
    # x' − y'·tan(a): the same slant with the sign flipped.
    fit = fit_lines(ty, tx, LineFit(-down.angle, down.sharpness, down.peak) if sideways else across)
    in_lines = fit.peak >= MIN_PEAK
    lines = text_lines(profile(ty, tx, fit.angle).astype(np.float64))
    score = upright_score(lines)
    rotation = base if score >= 0 else (base + 180) % 360
    # Turning by 180° more keeps the lines' tilt: the skew is the same either way.
    axis_clear = (
        max(across.sharpness, down.sharpness) > min(across.sharpness, down.sharpness) * AXIS_MARGIN
    )
    certain = has_text and in_lines and axis_clear and abs(score) >= UPRIGHT_MARGIN
    skew = line_skew(fit)
    return Orientation(rotation, skew, certain, round(score, 3), has_text, x_height(lines))
