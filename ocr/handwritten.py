"""A second recognizer for short fields written by hand: the number and the day on the header.

Tesseract reads a handwritten `01` as `2#` or `Íð`. PP-OCRv4's line recognition model (a CTC
network trained on far more varied writing) reads these short fields much better; it ships
inside the `rapidocr-onnxruntime` wheel, and onnxruntime runs it on the CPU. Only the model
file is used: the wheel's own pipeline (detection, OpenCV) is never imported.

The session is made once per process, lazily, with one thread (the worker's cores already
run one task each), and reads a few small crops per document, never whole pages.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ocr.geometry import box_image, plan_page

#: the model's input height; the width follows the crop's aspect
HEIGHT = 48
#: a crop wider than this (in model pixels) is a page region, not a field: cut, never read
MAX_WIDTH = 1600
_PACKAGE = "rapidocr_onnxruntime"
_MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"

_lock = threading.Lock()
_session: Any = None
_alphabet: list[str] = []


class RecognizerMissing(RuntimeError):
    """The model's package is not installed."""


@dataclass(frozen=True)
class FieldText:
    """What the recognizer read in a crop, and its confidence per character (0–1)."""

    text: str
    scores: tuple[float, ...]

    @property
    def confidence(self) -> float:
        return min(self.scores) if self.scores else 0.0

    @property
    def digit_score(self) -> float:
        """The lowest score of the digits read (0 when none): what a number or day rests on."""
        digits = [s for ch, s in zip(self.text, self.scores, strict=False) if ch.isdigit()]
        return min(digits, default=0.0)


def model_path() -> Path:
    """The model file inside the installed wheel (the package is located, not imported)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RecognizerMissing(f"{_PACKAGE} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / _MODEL
    if not path.is_file():
        raise RecognizerMissing(f"{path.name} is missing from {_PACKAGE}")
    return path


def available() -> bool:
    try:
        model_path()
    except RecognizerMissing:
        return False
    return True


def _load() -> Any:
    global _session, _alphabet
    with _lock:
        if _session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(model_path()), options, providers=["CPUExecutionProvider"]
            )
            meta = session.get_modelmeta().custom_metadata_map
            _alphabet = ["", *meta["character"].splitlines(), " "]
            _session = session
    return _session


def _tensor(image: Image.Image) -> np.ndarray:
    rgb = image.convert("RGB")
    w, h = rgb.size
    width = min(MAX_WIDTH, max(16, round(HEIGHT * w / max(1, h))))
    resized = rgb.resize((width, HEIGHT), Image.Resampling.BILINEAR)
    arr = np.asarray(resized, dtype=np.float32) / 255.0
    return ((arr - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis]


def read_field(image: Image.Image) -> FieldText:
    """Read one crop of a line (a field and a little around it)."""
    if image.width < 2 or image.height < 2:
        return FieldText("", ())
    session = _load()
    probs = session.run(None, {session.get_inputs()[0].name: _tensor(image)})[0][0]
    best = probs.argmax(axis=-1)
    text, scores, previous = [], [], -1
    for t, index in enumerate(best):
        index = int(index)
        if index != previous and index != 0 and index < len(_alphabet):
            text.append(_alphabet[index])
            scores.append(float(probs[t, index]))
        previous = index
    return FieldText("".join(text), tuple(scores))


def upright_crop(
    image: Image.Image,
    box: tuple[float, float, float, float],
    *,
    frame: tuple[int, int],
    rotation: int = 0,
    skew: float = 0.0,
) -> Image.Image:
    """The region `box` of the page as read upright (turned by `rotation`, levelled by
    `skew`, as `ocr.hocr_map.upright_hocr` maps word boxes), cut from `image`, the page as
    stored; `frame` is the stored page's size in the boxes' pixels (the hOCR's)."""
    plan = plan_page(frame, rotation=rotation, skew=skew)
    a, b, c, d, e, f = plan.backward
    sx, sy = image.width / max(1, frame[0]), image.height / max(1, frame[1])
    x0, y0, x1, y1 = box
    w, h = max(1, round(x1 - x0)), max(1, round(y1 - y0))
    # only the region under the crop is converted: a page is tens of megabytes in RGB
    bx0, by0, bx1, by1 = box_image(plan.backward, box)
    left = max(0, int(bx0 * sx) - 2)
    top = max(0, int(by0 * sy) - 2)
    right = min(image.width, int(bx1 * sx) + 3)
    bottom = min(image.height, int(by1 * sy) + 3)
    if right <= left or bottom <= top:
        return Image.new("RGB", (w, h), (255, 255, 255))
    region = image.crop((left, top, right, bottom)).convert("RGB")
    # output pixel (u, v) -> upright (x0 + u, y0 + v) -> stored frame -> region pixels
    data = (
        sx * a, sx * b, sx * (a * x0 + b * y0 + c) - left,
        sy * d, sy * e, sy * (d * x0 + e * y0 + f) - top,
    )  # fmt: skip
    return region.transform(
        (w, h), Image.Transform.AFFINE, data, Image.Resampling.BILINEAR, fillcolor=(255, 255, 255)
    )
