"""Draw laid-out pages: as Pillow images (scans) and on a reportlab canvas (born-digital)."""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen.canvas import Canvas

from tests.data.layout import PAGE_H, PAGE_W, PageLayout, layout_document
from tests.data.specs import DocumentSpec
from tests.data.typeset import FONT_DIR, FONT_FILES, font_name, register_fonts

INK = (0, 0, 0)
SIGNATURE_INK = (24, 38, 120)

Box = tuple[int, int, int, int]


@dataclass
class RenderedPage:
    """One page image (RGB) with the exact text drawn on it, block by block in reading order.

    Reading order is top to bottom; where two blocks share a band (the header table, the
    recipients and the signature) the left one comes first.
    """

    image: Image.Image
    blocks: list[list[str]]
    number: int
    dpi: int
    boxes: list[Box]  # pixel box (left, top, right, bottom) of each block
    signature_box: Box | None = None  # the room left for the signature and seal
    seal_text: str = ""  # what the issuer's seal says around its edge

    @property
    def text(self) -> str:
        """Lines joined by "\\n", blocks by "\\n\\n"."""
        return "\n\n".join("\n".join(block) for block in self.blocks)

    @property
    def stamp_centre(self) -> tuple[int, int] | None:
        """Where a seal goes: over the left third of the signature, as officials do."""
        if self.signature_box is None:
            return None
        x0, y0, x1, y1 = self.signature_box
        return (x0 + (x1 - x0) // 3, (y0 + y1) // 2)


@lru_cache(maxsize=64)
def _font(style: str, px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(
        str(FONT_DIR / FONT_FILES[style]), size=px, layout_engine=ImageFont.Layout.BASIC
    )


def page_pixels(dpi: int) -> tuple[int, int]:
    """Width and height in pixels of an A4 page at `dpi`."""
    return round(PAGE_W / 72 * dpi), round(PAGE_H / 72 * dpi)


def _scaled(box: tuple[float, float, float, float], scale: float) -> Box:
    x0, y0, x1, y1 = box
    return (
        math.floor(x0 * scale),
        math.floor(y0 * scale),
        math.ceil(x1 * scale),
        math.ceil(y1 * scale),
    )


def _signature(draw: ImageDraw.ImageDraw, box: Box, seed: int, scale: float) -> None:
    """A looping pen stroke in blue ink: a signature is never text, but OCR sees it."""
    rng = random.Random(seed)
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = (x1 - x0) * 0.55, (y1 - y0) * 0.32
    freqs = [rng.uniform(2.5, 4.5), rng.uniform(6.0, 9.0)]
    phase = rng.uniform(0, math.tau)
    points = []
    for i in range(160):
        t = i / 159
        x = cx - w / 2 + w * t + 0.12 * w * math.sin(freqs[1] * math.tau * t + phase)
        y = cy + h * math.sin(freqs[0] * math.tau * t + phase) * (1 - 0.6 * t)
        points.append((x, y))
    draw.line(points, fill=SIGNATURE_INK, width=max(1, round(0.9 * scale)), joint="curve")
    tail = [(cx - w / 2, cy + h * 0.9), (cx + w / 2, cy + h * 0.4)]
    draw.line(tail, fill=SIGNATURE_INK, width=max(1, round(0.7 * scale)))


def draw_page_image(layout: PageLayout, dpi: int, signature: bool = True, seed: int = 0):
    """Rasterize one laid-out page on white paper, in RGB."""
    scale = dpi / 72
    image = Image.new("RGB", page_pixels(dpi), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for block in layout.blocks:
        for line in block:
            font = _font(line.style, line.size * scale)
            if line.word_space:
                for x, word in line.word_positions():
                    draw.text(
                        (x * scale, line.baseline * scale), word, font=font, fill=INK, anchor="ls"
                    )
            else:
                draw.text(
                    (line.x * scale, line.baseline * scale),
                    line.text,
                    font=font,
                    fill=INK,
                    anchor="ls",
                )
    for rule in layout.rules:
        width = max(1, round(rule.width * scale))
        xy = (rule.x0 * scale, rule.y0 * scale, rule.x1 * scale, rule.y1 * scale)
        if rule.box:
            draw.rectangle(xy, outline=INK, width=width)
        else:
            draw.line(xy, fill=INK, width=width)
    if signature and layout.signature_box:
        _signature(draw, _scaled(layout.signature_box, scale), seed, scale)
    return image


def _seed(spec: DocumentSpec, page: int) -> int:
    return zlib.crc32(f"{spec.key}:{page}".encode())


def render_pages(
    spec: DocumentSpec, dpi: int = 300, max_pages: int | None = None, signature: bool = True
) -> list[RenderedPage]:
    """Draw every page of `spec` as a clean scan at `dpi`, with its ground truth."""
    scale = dpi / 72
    pages = []
    for layout in layout_document(spec, max_pages):
        image = draw_page_image(layout, dpi, signature, _seed(spec, layout.number))
        image.info["dpi"] = (dpi, dpi)
        pages.append(
            RenderedPage(
                image=image,
                blocks=layout.text_blocks,
                number=layout.number,
                dpi=dpi,
                boxes=[
                    _scaled(layout.block_box(i), scale) for i, b in enumerate(layout.blocks) if b
                ],
                seal_text=f"{' '.join(spec.issuer.split())} • TP. HÀ NỘI •",
                signature_box=(
                    _scaled(layout.signature_box, scale) if layout.signature_box else None
                ),
            )
        )
    return pages


def draw_page_pdf(canvas: Canvas, layout: PageLayout) -> None:
    """Draw one laid-out page as real text on a reportlab canvas (embedded TTF subsets).

    Blocks are drawn in reading order, so `extract_text(use_text_flow=True)` gives them back
    block by block; justified lines use the PDF word spacing (Tw), so spaces stay spaces.
    """
    register_fonts()
    for block in layout.blocks:
        for line in block:
            text = canvas.beginText(line.x, PAGE_H - line.baseline)
            text.setFont(font_name(line.style), line.size)
            text.setWordSpace(line.word_space)
            text.textOut(line.text)
            canvas.drawText(text)
    for rule in layout.rules:
        canvas.setLineWidth(rule.width)
        if rule.box:
            canvas.rect(rule.x0, PAGE_H - rule.y1, rule.x1 - rule.x0, rule.y1 - rule.y0)
        else:
            canvas.line(rule.x0, PAGE_H - rule.y0, rule.x1, PAGE_H - rule.y1)
