"""Scanned PDF pages whose text layer is not the page's text, and a mix of every kind.

| writer | the page | its text layer | a digitizer should |
|---|---|---|---|
| `write_stamped_scan` | a scan | only a digital-signature stamp (`Ký bởi: …`), visible | OCR |
| `write_ocr_layer_scan(quality="poor")` | a scan | invisible OCR that lost every diacritic | OCR |
| `write_ocr_layer_scan(quality="good")` | a scan | invisible OCR equal to the truth | use it |
| `write_ocr_layer_scan(under=True)` | a scan | that text drawn under the page image | as above |
| `write_labelled_scan` | a scan | a one-line 6 pt label in the bottom margin | OCR |
| `write_unmapped_pdf` | born-digital | fonts without a Unicode map (ToUnicode removed) | OCR |
| `write_text_layer_mix` | a page of each kind, with TCVN3, VNI and plain pages | | per page |

The signature stamp is red, drawn over the top margin like the tools do, and like the red
seal it is not in the truth (OCR drops red ink); the label is black text on the page, so it is
in the truth, as the page's last block.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from tests.data.layout import MM, PAGE_H, PAGE_W, Line, layout_document
from tests.data.legacy_pdf import draw_line, write_legacy_pdf
from tests.data.render import render_pages
from tests.data.specs import DocumentSpec, get_spec
from tests.data.typeset import font_name, register_fonts
from tests.data.writers import Sample, expected_document, write_digital_pdf

STAMP_LINES = [
    "Ký bởi: Ủy ban nhân dân quận Bắc Từ Liêm",
    "Email: ubnd.bactuliem@hanoi.gov.vn",
    "Cơ quan: Thành phố Hà Nội",
    "Thời gian ký: 29.05.2023 16:20:05 +07:00",
]


def fold(text: str) -> str:
    """What English OCR makes of Vietnamese: every diacritic lost, đ read as d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _scan_canvas(path: Path, spec: DocumentSpec, dpi: int, under: bool = False):
    """A canvas with page 1 of `spec` drawn as a JPEG scan, and that page's truth blocks.

    With `under`, the image is drawn by the returned `finish()` instead, so text drawn
    before it lies under the image."""
    page = render_pages(spec, dpi=dpi, max_pages=1)[0]
    buf = io.BytesIO()
    page.image.save(buf, "JPEG", quality=85, dpi=(dpi, dpi))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    canvas.setCreator("sohoa tests/data (text layers)")

    def draw_image() -> None:
        canvas.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, PAGE_W, PAGE_H)

    if not under:
        draw_image()
    return canvas, page.blocks, draw_image


def _sample(path: Path, spec: DocumentSpec, kind: str, text: str, method: str, dpi: int):
    return Sample(
        path=path,
        kind=kind,
        media_type="application/pdf",
        pages=[text],
        methods=[method],
        rotations=[0],
        dpi=dpi,
        spec_key=spec.key,
        document=expected_document(spec),
    )


def _text(blocks: list[list[str]]) -> str:
    return "\n\n".join("\n".join(block) for block in blocks if block)


def write_stamped_scan(path: Path, spec: DocumentSpec, *, dpi: int = 200) -> Sample:
    """A scan whose only text is the stamp a government CA signing tool puts on it."""
    register_fonts()
    canvas, blocks, _ = _scan_canvas(path, spec, dpi)
    x, top, size = PAGE_W - 15 * MM - 190, 8.0, 7.0
    canvas.setStrokeColorRGB(0.8, 0.1, 0.1)
    canvas.rect(x - 4, PAGE_H - top - 4 * size * 1.3 - 6, 196, 4 * size * 1.3 + 6)
    canvas.setFillColorRGB(0.8, 0.1, 0.1)
    for row, line in enumerate(STAMP_LINES):
        canvas.setFont(font_name("regular"), size)
        canvas.drawString(x, PAGE_H - top - size - row * size * 1.3, line)
    canvas.showPage()
    canvas.save()
    return _sample(path, spec, "stamped-scan", _text(blocks), "ocr", dpi)


def write_ocr_layer_scan(
    path: Path, spec: DocumentSpec, *, quality: str = "poor", under: bool = False, dpi: int = 200
) -> Sample:
    """A scan carrying another tool's OCR text over each printed line: invisible (render
    mode 3), or with `under` visible but drawn before the page image that hides it.
    `quality="poor"`: the text lost all its diacritics; `"good"`: it is the truth."""
    if quality not in ("poor", "good"):
        raise ValueError(f"quality is 'poor' or 'good', not {quality!r}")
    register_fonts()
    canvas, blocks, draw_image = _scan_canvas(path, spec, dpi, under=under)
    layout = layout_document(spec, 1)[0]
    for block in layout.blocks:
        for line in block:
            text = fold(line.text) if quality == "poor" else line.text
            runs = [(font_name(line.style), text)]
            draw_line(canvas, line, runs, mode=0 if under else 3)
    if under:
        draw_image()
    canvas.showPage()
    canvas.save()
    method = "ocr" if quality == "poor" else "text-layer"
    return _sample(path, spec, f"ocr-layer-{quality}", _text(blocks), method, dpi)


def write_labelled_scan(path: Path, spec: DocumentSpec, *, dpi: int = 200) -> Sample:
    """A scan with the one-line label a scanning station printed in its bottom margin."""
    register_fonts()
    canvas, blocks, _ = _scan_canvas(path, spec, dpi)
    label = f"Số hóa: Lưu trữ quận Bắc Từ Liêm - {path.name} - trang 1/1 - 29/05/2023 16:20"
    line = Line(label, 30 * MM, PAGE_H - 8 * MM, 6.0)
    draw_line(canvas, line, [(font_name("regular"), label)])
    canvas.showPage()
    canvas.save()
    return _sample(path, spec, "labelled-scan", _text([*blocks, [label]]), "ocr", dpi)


def write_unmapped_pdf(path: Path, spec: DocumentSpec) -> Sample:
    """A born-digital page whose fonts lost their Unicode maps (ToUnicode removed)."""
    sample = write_digital_pdf(path, spec, max_pages=1)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                if "/ToUnicode" in font:
                    del font["/ToUnicode"]
        pdf.save(path, deterministic_id=True)
    sample.kind, sample.methods = "unmapped-pdf", ["ocr"]
    return sample


@dataclass
class MixedSample(Sample):
    """A sample whose pages are of different kinds."""

    kinds: list[str] = field(default_factory=list)  # per page: the kind of its source sample


def write_text_layer_mix(path: Path, *, dpi: int = 200) -> MixedSample:
    """One PDF with a page of each kind of text layer, to be judged page by page."""
    parts = path.parent / f".{path.stem}-parts"
    kh, cv, tb, qd = (get_spec(k) for k in ("kh-251-ubnd", "cv-12-ubnd-vx", "tb-45-pnv",
                                             "qd-86-ubnd-cn1"))  # fmt: skip
    samples = [
        write_digital_pdf(parts / "digital.pdf", kh, max_pages=1),
        write_legacy_pdf(parts / "tcvn3.pdf", cv, "tcvn3", max_pages=1),
        write_stamped_scan(parts / "stamp.pdf", tb, dpi=dpi),
        write_ocr_layer_scan(parts / "poor.pdf", qd, quality="poor", dpi=dpi),
        write_legacy_pdf(parts / "vni.pdf", tb, "vni", max_pages=1),
        write_labelled_scan(parts / "label.pdf", kh, dpi=dpi),
        write_ocr_layer_scan(parts / "good.pdf", cv, quality="good", dpi=dpi),
        write_unmapped_pdf(parts / "unmapped.pdf", qd),
        write_legacy_pdf(parts / "tcvn3-winansi.pdf", qd, "tcvn3", embedded=False, max_pages=1),
    ]
    with pikepdf.new() as merged:
        for sample in samples:
            with pikepdf.open(sample.path) as part:
                merged.pages.append(part.pages[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        merged.save(path, deterministic_id=True)
    return MixedSample(
        path=path,
        kind="text-layer-mix",
        media_type="application/pdf",
        pages=[s.pages[0] for s in samples],
        methods=[s.methods[0] for s in samples],
        rotations=[0] * len(samples),
        dpi=dpi,
        spec_key="",
        document={},
        kinds=[s.kind for s in samples],
    )
