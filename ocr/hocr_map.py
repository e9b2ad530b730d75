"""Bring the hOCR of a turned, deskewed or rescaled page image back to the original image.

Tesseract reads an image made for it (ocr.preprocess); the hOCR kept with a page must describe
the page as stored, because the searchable PDF lays the invisible text over the original image
and a viewer highlights words on it. The rewrite is done on the hOCR text itself, so every
other property and element Tesseract wrote stays as it was.

Boxes become the axis-aligned box around their mapped corners (exact for quarter turns; a
little larger for deskewed lines). A line's baseline is mapped as a segment: its direction
sets `textangle` (the nearest quarter turn, so a page read sideways gets vertical lines) and
what is left of it the baseline slope, relative to the new box as hOCR defines it.
"""

from __future__ import annotations

import contextlib
import math
import re

from ocr.geometry import Affine, apply, box_image, plan_page, scale_of
from ocr.hocr import parse_hocr

LINE_CLASSES = frozenset({"ocr_line", "ocr_caption", "ocr_header", "ocr_textfloat"})
_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
_TITLE = re.compile(r"""(\btitle\s*=\s*)(?:'([^']*)'|"([^"]*)")""")
_CLASS = re.compile(r"""\bclass\s*=\s*(?:'([^']*)'|"([^"]*)")""")
# Lengths in pixels that scale with the image (Tesseract's font metrics of a line).
_LENGTHS = ("x_size", "x_descenders", "x_ascenders")

Box = tuple[float, float, float, float]


def _props(title: str) -> list[tuple[str, list[str]]]:
    out = []
    for part in title.split(";"):
        tokens = part.split()
        if tokens:
            out.append((tokens[0], tokens[1:]))
    return out


def _fmt(value: float, digits: int = 0) -> str:
    text = f"{value:.{digits}f}" if digits else str(round(value))
    if digits:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _clip(box: tuple[float, ...], size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    x0, y0, x1, y1 = box
    x0, x1 = min(max(math.floor(x0), 0), w), min(max(math.ceil(x1), 0), w)
    y0, y1 = min(max(math.floor(y0), 0), h), min(max(math.ceil(y1), 0), h)
    return x0, y0, x1, y1


def _frame(angle: float) -> tuple[float, float, float, float]:
    """Unit vectors (ux, uy, vx, vy) of the text frame of a line at `angle` (degrees,
    counter-clockwise as displayed): u along the reading direction, v towards the feet."""
    t = math.radians(angle)
    return math.cos(t), -math.sin(t), math.sin(t), math.cos(t)


def _corners(box: Box) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    return [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]


def _origin(box: Box, frame: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """(u at the line start, u at its end, v of its bottom) in the text frame."""
    ux, uy, vx, vy = frame
    us = [x * ux + y * uy for x, y in _corners(box)]
    vs = [x * vx + y * vy for x, y in _corners(box)]
    return min(us), max(us), max(vs)


def map_line(
    m: Affine, box: Box, baseline: tuple[float, float] | None, angle: float
) -> tuple[tuple[float, ...], tuple[float, float] | None, float]:
    """The box, baseline (slope, intercept) and textangle of a line after mapping by `m`."""
    ux, uy, vx, vy = _frame(angle)
    u0, u1, v0 = _origin(box, (ux, uy, vx, vy))
    slope, intercept = baseline if baseline is not None else (0.0, 0.0)

    def point(u: float, v: float) -> tuple[float, float]:
        return u * ux + v * vx, u * uy + v * vy

    start = apply(m, *point(u0, v0 + intercept))
    end = apply(m, *point(u1, v0 + intercept + slope * (u1 - u0)))
    if u1 - u0 < 1e-6:  # no length: only the reading direction can be carried over
        base = apply(m, 0.0, 0.0)
        tip = apply(m, ux, uy)
        end = (start[0] + tip[0] - base[0], start[1] + tip[1] - base[1])
    direction = math.degrees(math.atan2(-(end[1] - start[1]), end[0] - start[0]))
    new_angle = (round(direction / 90.0) * 90) % 360
    new_box = box_image(m, box)
    if baseline is None:
        return new_box, None, new_angle
    frame = _frame(new_angle)
    nu0, _, nv0 = _origin(new_box, frame)
    su, sv = start[0] * frame[0] + start[1] * frame[1], start[0] * frame[2] + start[1] * frame[3]
    eu, ev = end[0] * frame[0] + end[1] * frame[1], end[0] * frame[2] + end[1] * frame[3]
    new_slope = (ev - sv) / (eu - su) if abs(eu - su) > 1e-6 else 0.0
    new_intercept = sv + new_slope * (nu0 - su) - nv0
    return new_box, (new_slope, new_intercept), new_angle


def _map_title(
    title: str, classes: set[str], m: Affine, size: tuple[int, int], dpi: float | None
) -> str:
    props = _props(title)
    values = dict(props)
    box_values = values.get("bbox")
    try:
        box = tuple(float(v) for v in box_values) if box_values else None
    except ValueError:
        box = None
    if box is None or len(box) != 4:
        return title
    box4: Box = (box[0], box[1], box[2], box[3])
    new: dict[str, str | None] = {}
    if "ocr_page" in classes:
        new["bbox"] = f"0 0 {size[0]} {size[1]}"
        if "scan_res" in values and dpi is not None:
            new["scan_res"] = f"{round(dpi)} {round(dpi)}"
    elif classes & LINE_CLASSES:
        baseline = None
        try:
            nums = [float(v) for v in values.get("baseline", [])]
            angle = float(values["textangle"][0]) if values.get("textangle") else 0.0
        except (ValueError, IndexError):
            nums, angle = [], 0.0
        if len(nums) == 2:
            baseline = (nums[0], nums[1])
        mapped, new_baseline, new_angle = map_line(m, box4, baseline, angle)
        new["bbox"] = " ".join(str(v) for v in _clip(mapped, size))
        if new_baseline is not None:
            new["baseline"] = f"{_fmt(new_baseline[0], 4)} {_fmt(new_baseline[1])}"
        new["textangle"] = _fmt(new_angle) if new_angle else None
        factor = scale_of(m)
        for key in _LENGTHS:
            if values.get(key):
                with contextlib.suppress(ValueError):
                    new[key] = _fmt(float(values[key][0]) * factor, 2)
    else:
        new["bbox"] = " ".join(str(v) for v in _clip(box_image(m, box4), size))
    parts = []
    for key, args in props:
        if key in new:
            value = new.pop(key)
            if value is not None:
                parts.append(f"{key} {value}")
        else:
            parts.append(" ".join([key, *args]))
    parts += [f"{key} {value}" for key, value in new.items() if value is not None]
    return "; ".join(parts)


def map_hocr(hocr: str, m: Affine, size: tuple[int, int], dpi: float | None = None) -> str:
    """Rewrite every box, baseline and text angle of `hocr` through `m` (OCR image pixels →
    original pixels); the page becomes `size` (width, height), at `dpi` when given."""

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        cls = _CLASS.search(text)
        title = _TITLE.search(text)
        if cls is None or title is None:
            return text
        classes = set((cls.group(1) or cls.group(2) or "").split())
        old = title.group(2) if title.group(2) is not None else title.group(3) or ""
        new = _map_title(old.replace("&quot;", '"'), classes, m, size, dpi)
        quote = "'" if title.group(2) is not None else '"'
        new = new.replace(quote, "&quot;" if quote == '"' else "&#39;")
        return text[: title.start()] + f"{title.group(1)}{quote}{new}{quote}" + text[title.end() :]

    return _TAG.sub(tag, hocr)


def upright_hocr(hocr: str, rotation: int, skew: float | None) -> str:
    """A stored page's hOCR (in the scan's pixels) in the frame it was read in: turned by
    `rotation` and levelled by `skew` as in PageResult, at the scan's scale. For layout
    analysis that wants the header at the top whichever way the sheet was fed."""
    page = parse_hocr(hocr)
    plan = plan_page((page.width, page.height), rotation=rotation, skew=skew or 0.0)
    return map_hocr(hocr, plan.forward, plan.out_size)
