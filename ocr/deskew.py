"""Which way the text lines of a page run, and how far they are tilted.

Measured on a small binarized copy of the page (about 100 dpi): the dark pixels are projected
along a family of slanted lines, and the slant at which the projection is most peaked (the
lines of text fall into the fewest rows) is the skew. The same measure taken across the
columns tells a page turned on its side: its text lines run down the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: resolution the analysis runs at; text lines are still well apart, and it costs ~10 ms
ANALYSIS_DPI = 100.0
#: largest skew looked for, in degrees either way
MAX_SKEW = 10.0
# Border strips left out of the analysis: scanner lids and photocopies put dark bands and
# black wedges there, which look like one very strong line.
_MARGIN = 0.04
# A row or column more than this share ink is a band, not text (the x-height band of a
# line of text is at most about half ink).
_BAND_INK = 0.8
# Enough points for a stable profile; beyond it every k-th point is used (cost is linear).
_MAX_POINTS = 60_000


@dataclass(frozen=True)
class LineFit:
    """The best slant of one axis: `angle` in degrees, counter-clockwise positive (the tilt
    of the text lines as seen on the page), and how peaked the projection is there (about
    1 for no structure, 2–3 for lines of text)."""

    angle: float
    sharpness: float
    #: how far the best slant stands out from the others: its sharpness over the median of
    #: the coarse scan's (about 2 on a page of text; near 1 when nothing is in lines — a
    #: last page holding little but a seal and a signature — and the angle means nothing)
    peak: float = 0.0


def otsu_threshold(grey: np.ndarray) -> int:
    """The grey level that best splits ink from paper (Otsu's between-class variance)."""
    return otsu_from_histogram(np.bincount(grey.ravel(), minlength=256))


def otsu_from_histogram(counts: np.ndarray | list[int]) -> int:
    """Otsu's threshold from the 256 counts of an 8-bit histogram."""
    hist = np.asarray(counts, dtype=np.float64)[:256]
    total = hist.sum()
    if total == 0:
        return 127
    p = hist / total
    weight = np.cumsum(p)
    mean = np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean[-1] * weight - mean) ** 2 / (weight * (1.0 - weight))
    between[~np.isfinite(between)] = 0.0
    return int(between.argmax())


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Dark pixels of a small grey page, without the border strips and solid bands."""
    mask = grey <= otsu_threshold(grey)
    h, w = mask.shape
    my, mx = round(h * _MARGIN), round(w * _MARGIN)
    mask[:my], mask[h - my :], mask[:, :mx], mask[:, w - mx :] = False, False, False, False
    if h and w:
        mask[:, mask.mean(axis=0) > _BAND_INK] = False
        mask[mask.mean(axis=1) > _BAND_INK] = False
    return mask


def ink_points(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the ink pixels as float32, thinned to at most _MAX_POINTS."""
    ys, xs = np.nonzero(mask)
    step = max(1, len(ys) // _MAX_POINTS)
    return ys[::step].astype(np.float32), xs[::step].astype(np.float32)


def _bounds(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float, float]:
    if len(ys) == 0:
        return 0.0, 0.0, 0.0
    return float(ys.min()), float(xs.min()), float(xs.max())


def profile(
    ys: np.ndarray,
    xs: np.ndarray,
    angle: float,
    bounds: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Ink per row once lines tilted by `angle` (counter-clockwise) are made level.
    `bounds` (min row, min and max column) saves recomputing them in a scan of angles."""
    # A line tilted counter-clockwise rises to the right: y + x·tan(angle) is constant on it.
    # (float32 and truncation after a positive offset: this runs ~60 times a page.)
    y_min, x_min, x_max = bounds if bounds is not None else _bounds(ys, xs)
    slope = np.float32(np.tan(np.radians(angle)))
    low = min(0.0, x_min * float(slope), x_max * float(slope))
    offset = np.float32(0.5 - low - y_min)
    return np.bincount((ys + xs * slope + offset).astype(np.int32))


def _sharpness(
    ys: np.ndarray, xs: np.ndarray, angle: float, bounds: tuple[float, float, float]
) -> float:
    hist = profile(ys, xs, angle, bounds).astype(np.float64)
    # Sum of squares against what evenly spread ink would give: 1.0 means no lines at all.
    return float((hist**2).sum() * len(hist) / len(ys) ** 2)


def coarse_fit(ys: np.ndarray, xs: np.ndarray, *, max_angle: float = MAX_SKEW) -> LineFit:
    """The best slant in whole degrees within ±max_angle: enough to compare two axes, and
    where `fit_lines` starts (a line of text stays sharp for about ±0.5° around its slant)."""
    if len(ys) < 50:
        return LineFit(0.0, 1.0)
    angles = np.arange(-max_angle, max_angle + 1e-9, 1.0)
    bounds = _bounds(ys, xs)
    scores = [_sharpness(ys, xs, a, bounds) for a in angles]
    best = int(np.argmax(scores))
    peak = scores[best] / max(float(np.median(scores)), 1e-9)
    return LineFit(float(angles[best]), float(scores[best]), round(peak, 3))


def fit_lines(ys: np.ndarray, xs: np.ndarray, coarse: LineFit | None = None) -> LineFit:
    """The slant (within ±MAX_SKEW) at which the rows of ink are sharpest, to ~0.05°."""
    if len(ys) < 50:
        return LineFit(0.0, 1.0)
    start = coarse if coarse is not None else coarse_fit(ys, xs)
    step = 0.1
    fine = np.arange(start.angle - 1.0, start.angle + 1.0 + 1e-9, step)
    bounds = _bounds(ys, xs)
    scores = np.array([_sharpness(ys, xs, a, bounds) for a in fine])
    i = int(np.argmax(scores))
    angle = float(fine[i])
    if 0 < i < len(fine) - 1:
        # The peak between samples, from a parabola through the best three.
        left, mid, right = scores[i - 1], scores[i], scores[i + 1]
        denom = left - 2 * mid + right
        if denom < 0:
            angle += step * 0.5 * (left - right) / denom
    angle = round(max(-MAX_SKEW, min(MAX_SKEW, angle)), 2) + 0.0
    return LineFit(angle, float(scores[i]), start.peak)
