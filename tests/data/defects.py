"""Scanner and paper defects, as pure seeded functions of a PIL image.

Every function returns a new image and leaves its input alone; the same arguments and seed
give the same pixels. None of them changes the ground-truth text: a seal or a signature is
not text of the document, and an OCR engine that reads them invents text.
"""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tests.data.typeset import FONT_DIR, FONT_FILES

WHITE = 255
SEAL_RED = (214, 32, 40)
SEAL_TEXT = "ỦY BAN NHÂN DÂN QUẬN BẮC TỪ LIÊM • TP. HÀ NỘI •"


def _keep_dpi(out: Image.Image, src: Image.Image) -> Image.Image:
    if "dpi" in src.info:
        out.info["dpi"] = src.info["dpi"]
    return out


def _white(img: Image.Image) -> int | tuple[int, ...]:
    return (255, 255, 255) if img.mode == "RGB" else WHITE


def skew(img: Image.Image, degrees: float) -> Image.Image:
    """Rotate by a small angle (positive: counter-clockwise), as a page fed crooked; same size."""
    out = img.rotate(
        degrees, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=_white(img)
    )
    return _keep_dpi(out, img)


def add_noise(img: Image.Image, amount: float = 0.08, seed: int = 0) -> Image.Image:
    """Gaussian sensor noise of standard deviation `amount` x 255, plus as many dust specks."""
    rng = np.random.default_rng(seed)
    arr = np.array(img, dtype=np.float32)
    noise = rng.standard_normal(arr.shape[:2], dtype=np.float32) * np.float32(amount * 255.0)
    arr += noise[..., None] if arr.ndim == 3 else noise
    out_arr = np.clip(arr, 0, 255, out=arr).astype(np.uint8)
    # Sparse black specks (dust on the glass): a fraction amount/50 of the pixels.
    specks = rng.random(out_arr.shape[:2]) < amount / 50
    out_arr[specks] = 0
    return _keep_dpi(Image.fromarray(out_arr, img.mode), img)


def blur(img: Image.Image, radius: float = 1.2) -> Image.Image:
    """Out-of-focus or moving-sheet blur."""
    return _keep_dpi(img.filter(ImageFilter.GaussianBlur(radius)), img)


def jpeg_artifacts(img: Image.Image, quality: int = 40) -> Image.Image:
    """Round-trip through JPEG at `quality` (blocking and ringing around letters)."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return _keep_dpi(out.convert(img.mode), img)


def downsample(img: Image.Image, dpi_from: int, dpi_to: int, grey: bool = True) -> Image.Image:
    """Rescan at a lower resolution (box filter, like a scanner's optics), in grey by default."""
    size = (round(img.width * dpi_to / dpi_from), round(img.height * dpi_to / dpi_from))
    out = (img.convert("L") if grey else img).resize(size, Image.Resampling.BOX)
    out.info["dpi"] = (dpi_to, dpi_to)
    return out


def rotate(img: Image.Image, degrees: int) -> Image.Image:
    """Turn the page clockwise by 90, 180 or 270 degrees (a sheet fed sideways or upside down)."""
    ops = {
        0: None,
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    if degrees % 360 not in ops:
        raise ValueError(f"rotation must be a multiple of 90 degrees, not {degrees}")
    op = ops[degrees % 360]
    out = img.copy() if op is None else img.transpose(op)
    return _keep_dpi(out, img)


def photocopy(img: Image.Image, seed: int = 0) -> Image.Image:
    """A copy of a copy: grey paper, hard contrast, toner specks, a dark band at one edge."""
    rng = np.random.default_rng(seed)
    arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    arr = np.clip((arr - 0.25) / 0.65, 0, 1) ** 1.6  # crush the greys, thicken strokes
    h, w = arr.shape
    paper = 0.90 + 0.05 * np.sin(np.linspace(0, math.pi, w))[None, :]  # uneven lamp
    out = arr * paper
    toner = rng.random((h, w)) < 0.0015
    out[toner] = rng.uniform(0.0, 0.4, int(toner.sum()))
    band = max(2, w // 60)
    out[:, :band] *= np.linspace(0.15, 1.0, band)[None, :]
    result = Image.fromarray((np.clip(out, 0, 1) * 255).astype(np.uint8), "L")
    result = result.filter(ImageFilter.GaussianBlur(0.6))
    return _keep_dpi(result, img)


def _seal_mask(radius: int, text: str, seed: int) -> Image.Image:
    """The seal's ink as an L mask: two rings, the name around the edge, a star inside."""
    size = 2 * radius + 4
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    c = size / 2
    ring = max(3, radius // 28)
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=255, width=ring)
    inner = radius * 0.68
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=255, width=max(2, ring // 2))
    text_r = (radius + inner) / 2
    step = 2 * math.pi / len(text)
    letter = min(radius * 0.2, text_r * step * 1.25)  # long names get smaller letters
    font = ImageFont.truetype(str(FONT_DIR / FONT_FILES["bold"]), size=letter)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 + i * step  # clockwise from the top
        glyph = Image.new("L", (int(radius * 0.3),) * 2, 0)
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), ch, font=font, fill=255, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = c + text_r * math.cos(angle) - glyph.width / 2
        y = c + text_r * math.sin(angle) - glyph.height / 2
        mask.paste(255, (round(x), round(y)), glyph)
    star = [
        (
            c + (inner * (0.45 if k % 2 == 0 else 0.18)) * math.cos(-math.pi / 2 + k * math.pi / 5),
            c + (inner * (0.45 if k % 2 == 0 else 0.18)) * math.sin(-math.pi / 2 + k * math.pi / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=255)
    # Uneven ink: the seal never prints solid.
    rng = np.random.default_rng(seed)
    ink = np.asarray(mask, dtype=np.float32) * rng.uniform(0.55, 1.0, (size, size))
    return Image.fromarray(ink.astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(1))


def red_stamp(
    img: Image.Image,
    centre: tuple[int, int],
    radius: int | None = None,
    text: str = SEAL_TEXT,
    opacity: float = 0.8,
    seed: int = 0,
) -> Image.Image:
    """Press a round red seal at `centre` (pixels); ink multiplies, so black text stays black.

    `radius` defaults to 18 mm at the image's dpi (a 36 mm seal). The result is RGB.
    """
    dpi = img.info.get("dpi", (300, 300))[0]
    radius = radius or round(18 / 25.4 * dpi)
    rng = random.Random(seed)
    mask = _seal_mask(radius, text, seed).rotate(
        rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC
    )
    out = img.convert("RGB")
    box = (centre[0] - mask.width // 2, centre[1] - mask.height // 2)
    box = (*box, box[0] + mask.width, box[1] + mask.height)
    region = np.asarray(out.crop(box), dtype=np.float32)  # only the seal's square is inked
    m = np.asarray(mask, dtype=np.float32)[..., None] / 255.0 * opacity
    colour = np.array(SEAL_RED, dtype=np.float32) / 255.0
    inked = region * (1.0 - m * (1.0 - colour))
    out.paste(Image.fromarray(np.clip(inked, 0, 255).astype(np.uint8), "RGB"), box[:2])
    return _keep_dpi(out, img)
