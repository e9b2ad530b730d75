"""Plane geometry of a page image: the affine maps between the original scan and the image
Tesseract reads (turned by a quarter, deskewed, rescaled).

Coordinates are continuous pixel coordinates, y pointing down, (0, 0) the top-left corner of
the top-left pixel; a pixel box (x0, y0, x1, y1) spans x0 ≤ x < x1. An `Affine` is the tuple
(a, b, c, d, e, f) of x' = a·x + b·y + c, y' = d·x + e·y + f, which is also the form Pillow's
`Image.transform(..., AFFINE, data)` takes (there: output pixel → input pixel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Affine = tuple[float, float, float, float, float, float]
Point = tuple[float, float]

IDENTITY: Affine = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def apply(m: Affine, x: float, y: float) -> Point:
    """The image of (x, y) under `m`."""
    a, b, c, d, e, f = m
    return a * x + b * y + c, d * x + e * y + f


def compose(outer: Affine, inner: Affine) -> Affine:
    """outer ∘ inner: first `inner`, then `outer`."""
    a1, b1, c1, d1, e1, f1 = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (
        a1 * a2 + b1 * d2,
        a1 * b2 + b1 * e2,
        a1 * c2 + b1 * f2 + c1,
        d1 * a2 + e1 * d2,
        d1 * b2 + e1 * e2,
        d1 * c2 + e1 * f2 + f1,
    )


def invert(m: Affine) -> Affine:
    """The inverse map; raises ValueError for a degenerate one."""
    a, b, c, d, e, f = m
    det = a * e - b * d
    if abs(det) < 1e-12:
        raise ValueError("the affine map is not invertible")
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))


def scale_of(m: Affine) -> float:
    """How much `m` stretches lengths (the square root of its area factor)."""
    a, b, _, d, e, _ = m
    return math.sqrt(abs(a * e - b * d))


def quarter_turn(rotation: int, width: float, height: float) -> Affine:
    """The map of a width×height image onto itself turned clockwise by `rotation`
    (0, 90, 180 or 270 degrees)."""
    turns = {
        0: IDENTITY,
        90: (0.0, -1.0, height, 1.0, 0.0, 0.0),
        180: (-1.0, 0.0, width, 0.0, -1.0, height),
        270: (0.0, 1.0, 0.0, -1.0, 0.0, width),
    }
    if rotation % 360 not in turns:
        raise ValueError(f"not a quarter turn: {rotation}")
    return turns[rotation % 360]


def box_image(
    m: Affine, box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """The axis-aligned box around the image of `box`'s four corners."""
    x0, y0, x1, y1 = box
    pts = [apply(m, x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class PagePlan:
    """How the original page (`size`) becomes the image OCR reads (`out_size`).

    `forward` maps original pixels to OCR pixels; `backward` the other way (which is what
    Pillow needs to draw the OCR image, and what brings word boxes home)."""

    size: tuple[int, int]
    out_size: tuple[int, int]
    rotation: int  # clockwise quarter turn applied first
    skew: float  # then turned clockwise by this many degrees (the page's tilt, ccw positive)
    scale: float  # then scaled by this factor
    forward: Affine
    backward: Affine

    @property
    def is_identity(self) -> bool:
        return self.rotation == 0 and self.skew == 0 and self.scale == 1.0


def plan_page(
    size: tuple[int, int], *, rotation: int = 0, skew: float = 0.0, scale: float = 1.0
) -> PagePlan:
    """Turn clockwise by `rotation`, straighten lines tilted `skew` degrees counter-clockwise
    (about the centre, the canvas grown so no corner is cut off), then scale by `scale`."""
    width, height = size
    turn = quarter_turn(rotation, width, height)
    w, h = (float(height), float(width)) if rotation % 180 else (float(width), float(height))
    m = turn
    if skew:
        t = math.radians(skew)
        cos, sin = math.cos(t), math.sin(t)
        new_w = abs(w * cos) + abs(h * sin)
        new_h = abs(w * sin) + abs(h * cos)
        cx, cy, ncx, ncy = w / 2, h / 2, new_w / 2, new_h / 2
        # Clockwise by t with y down: (dx, dy) -> (dx·cos − dy·sin, dx·sin + dy·cos).
        rot: Affine = (cos, -sin, ncx - cx * cos + cy * sin, sin, cos, ncy - cx * sin - cy * cos)
        m = compose(rot, m)
        w, h = new_w, new_h
    if scale != 1.0:
        m = compose((scale, 0.0, 0.0, 0.0, scale, 0.0), m)
        w, h = w * scale, h * scale
    out_size = (max(1, round(w)), max(1, round(h)))
    return PagePlan(
        size=(width, height),
        out_size=out_size,
        rotation=rotation % 360,
        skew=skew,
        scale=scale,
        forward=m,
        backward=invert(m),
    )
