"""Read a small area of a page again, line by line: the signer's name under a seal.

On a scan the page's OCR reads the name below the signature together with the seal's and
the pen's marks and loses words of it. Cut out alone, with red and blue ink faded, the area
reads better; each line that may hold words is then cut out once more and read as a single
line (`--psm 7`), tight and with a little more room above and below: a few small images per
document, never a page. What the lines say is left to the caller (`classify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from ocr.dropout import drop_colour_ink
from ocr.handwritten import upright_crop
from ocr.hocr import parse_hocr
from ocr.tesseract import _run, read_words_each

#: at most this many lines of the area are read again, the lowest first (the name is last)
MAX_LINES = 3
#: room above and below a line, in heights of the line, for its single-line readings
LINE_PADS = (0.25, 0.5)


@dataclass(frozen=True)
class LineRead:
    """One reading of one line of the area: its text and Tesseract's lowest word confidence."""

    text: str
    confidence: float
    single: bool  # read as a line alone (`--psm 7`), not as part of the area


def _wordy(text: str) -> bool:
    """A word that may be part of a name: a capital, then small letters (`Gấu`, `Đông`)."""
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 2 and letters[0].isupper() and "".join(letters[1:]).islower()


def read_lines(grey: Image.Image, *, lang: str, dpi: float) -> list[LineRead]:
    """Read `grey` (an area, colour ink already out) as a block, then its lowest lines that
    hold a word alone."""
    block = parse_hocr(_run(grey, "hocr", lang, f"--dpi {round(dpi)} --psm 6")["hocr"])
    out: list[LineRead] = []
    lines = [ln for ln in block.lines if any(_wordy(w.text) for w in ln.words)]
    chosen = lines[-MAX_LINES:]
    bands = []
    for line in chosen:
        y0 = min(w.bbox[1] for w in line.words)
        y1 = max(w.bbox[3] for w in line.words)
        for pad in LINE_PADS:
            top, bottom = max(0, y0 - pad * (y1 - y0)), min(grey.height, y1 + pad * (y1 - y0))
            bands.append(grey.crop((0, round(top), grey.width, round(bottom))))
    # every band read as a single line (`--psm 7`) by one Tesseract process
    singles = iter(read_words_each(bands, lang=lang, dpi=dpi, psm=7))
    for line in chosen:
        confs = [w.confidence for w in line.words if w.confidence is not None]
        text = " ".join(w.text for w in line.words)
        out.append(LineRead(text, min(confs, default=0.0), single=False))
        for _pad in LINE_PADS:
            words = next(singles)
            text = " ".join(word for word, _ in words)
            if text.strip():
                out.append(LineRead(text, min((c for _, c in words), default=0.0), single=True))
    return out


def reread_area(
    image: Image.Image,
    box: tuple[float, float, float, float],
    *,
    frame: tuple[int, int],
    rotation: int = 0,
    skew: float = 0.0,
    lang: str = "vie",
    dpi: float = 300.0,
) -> Sequence[LineRead]:
    """The lines of the area `box` (upright page coordinates, as the word boxes) of `image`,
    the page as stored (`frame` its size in the boxes' pixels), read again."""
    crop = upright_crop(image, box, frame=frame, rotation=rotation, skew=skew)
    grey = drop_colour_ink(crop, dpi).image
    return read_lines(grey, lang=lang, dpi=dpi)
