"""Noise: measured cheaply on every page, removed only where it costs Tesseract dearly.

Sensor noise Tesseract's own binarization copes with up to a point (σ ≈ 20 grey levels: CER
0.4 %); beyond it the page turns into thousands of specks that Tesseract reads as dots and
commas, its layout analysis breaks, and one page can take minutes (σ ≈ 50: CER 15–100 %,
up to 400 s a page). A 3×3 median brings such a page back (CER 0.3 %, 2 s) but costs
~0.25 s, so it runs only on pages measured noisy.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

#: measured noise from which a page is median-filtered. The measure reads low (paper at
#: 255 clips half the noise): σ 20 (Gaussian, of 255) measures 9.4, σ 26 11.5, σ 51 23.
#: On the samples a median helped from 11.5 up at 200 and 300 dpi (CER 2.0 % -> 0.7 %,
#: 15 % -> 0.4 %) and hurt below it at 200 dpi (σ 15: 0.7 % -> 1.7 %).
NOISY = 11.0
_ROW_STEP = 16  # rows sampled for the estimate: every 16th is plenty (~1.5 ms a page)


def noise_level(grey: Image.Image) -> float:
    """Standard deviation of the pixel noise, from differences of neighbouring pixels.

    Text edges give large differences but are few: the median of |difference| is set by
    the paper, where it is 0.954 σ for Gaussian noise.
    """
    rows = grey.resize((grey.width, max(1, grey.height // _ROW_STEP)), Image.Resampling.NEAREST)
    arr = np.asarray(rows, dtype=np.int16)
    if arr.shape[1] < 2:
        return 0.0
    diffs = np.abs(np.diff(arr, axis=1)).ravel()
    # Median from a histogram: np.median sorts, ~40 ms here against ~1 ms.
    cumulative = np.cumsum(np.bincount(diffs, minlength=256))
    median = int(np.searchsorted(cumulative, cumulative[-1] / 2))
    return median / 0.954


def denoise(grey: Image.Image) -> Image.Image:
    """A 3×3 median: specks and grain go, strokes (wider than one pixel) stay."""
    return grey.filter(ImageFilter.MedianFilter(3))
