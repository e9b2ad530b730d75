"""Write sample files (scanned, born-digital and mixed PDFs, TIFF, JPEG, PNG) with their truth.

Defects are named by short strings, applied in the order given, e.g.
`("stamp", "skew:-2.5", "grey:200", "jpeg:40", "rotate:90@2")`:

| name | effect |
|---|---|
| `stamp` | red seal over the signature (`defects.red_stamp`) |
| `skew:D` | rotated by D degrees, counter-clockwise positive |
| `noise:A` | Gaussian noise, A x 255 standard deviation, plus specks |
| `blur:R` | Gaussian blur of radius R pixels |
| `jpeg:Q` | JPEG at quality Q (the file's own JPEG when the writer stores JPEG) |
| `grey:DPI` | rescanned in grey at DPI (never above the page's own dpi) |
| `photocopy` | contrast, grey paper, toner specks |
| `rotate:D` | turned clockwise by D (90, 180, 270) |

A suffix `@N` applies a defect to page N only.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import img2pdf
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from classify.signer import strip_honorifics
from classify.subject import record_subject
from tests.data import defects as fx
from tests.data.layout import PAGE_H, PAGE_W, PageLayout, layout_document
from tests.data.render import RenderedPage, draw_page_pdf, render_pages
from tests.data.specs import DocumentSpec


@dataclass
class Sample:
    """A written sample file and what a perfect digitizer would get out of it."""

    path: Path
    kind: str  # scanned-pdf, digital-pdf, mixed-pdf, tiff, jpeg, png, png-named-pdf
    media_type: str  # the real type of the bytes
    pages: list[str]  # ground-truth text per page (RenderedPage.text)
    methods: list[str]  # per page: "ocr" or "text-layer"
    defects: tuple[str, ...] = ()
    rotations: list[int] = field(default_factory=list)  # clockwise degrees per page
    dpi: int = 300  # resolution of the page images (72 for a born-digital PDF)
    spec_key: str = ""
    document: dict[str, str | None] = field(default_factory=dict)  # expected metadata

    @property
    def text(self) -> str:
        """All pages, separated by form feeds as in the record's `text`."""
        return "\f".join(self.pages)

    def to_json(self, root: Path) -> dict:
        """The manifest entry (`truth.json`), path relative to `root`."""
        data = asdict(self)
        data["path"] = self.path.relative_to(root).as_posix()
        data["defects"] = list(self.defects)
        return data

    @classmethod
    def from_json(cls, data: dict, root: Path) -> Sample:
        """Inverse of `to_json`."""
        data = dict(data)
        data["path"] = root / data["path"]
        data["defects"] = tuple(data["defects"])
        return cls(**data)


def expected_document(spec: DocumentSpec) -> dict[str, str | None]:
    """The metadata a classifier should find on page 1."""
    return {
        "type": spec.doc_type,
        "number": spec.number,
        "issued_on": spec.issued_on.isoformat() if spec.issued_on else None,
        "place": spec.place,
        "issuer": " ".join(spec.issuer.split()),
        "subject": record_subject(spec.subject),
        "signer": strip_honorifics(spec.signer_name) if spec.signer_name else None,
        "urgency": spec.urgency,
        "secrecy": spec.secrecy,
    }


def _parse(defect: str) -> tuple[str, str | None, int | None]:
    name, _, page = defect.partition("@")
    name, _, arg = name.partition(":")
    return name, arg or None, int(page) if page else None


def check_defects(defects: Sequence[str]) -> None:
    """Raise ValueError on an unknown defect name."""
    known = {"stamp", "skew", "noise", "blur", "jpeg", "grey", "photocopy", "rotate"}
    for defect in defects:
        if _parse(defect)[0] not in known:
            raise ValueError(f"unknown defect {defect!r}")


def scan_page(
    page: RenderedPage, defects: Sequence[str] = (), seed: int = 0
) -> tuple[Image.Image, int, int]:
    """Apply `defects` to one page; return (image, dpi, clockwise rotation)."""
    img, dpi, rotation = page.image, page.dpi, 0
    for k, defect in enumerate(defects):
        name, arg, only = _parse(defect)
        if only is not None and only != page.number:
            continue
        s = zlib.crc32(f"{seed}:{page.number}:{k}".encode())
        if name == "stamp" and page.stamp_centre:
            cx, cy = page.stamp_centre
            centre = (round(cx * dpi / page.dpi), round(cy * dpi / page.dpi))
            img = fx.red_stamp(img, centre, text=page.seal_text or fx.SEAL_TEXT, seed=s)
        elif name == "skew":
            img = fx.skew(img, float(arg or 2))
        elif name == "noise":
            img = fx.add_noise(img, float(arg or 0.08), seed=s)
        elif name == "blur":
            img = fx.blur(img, float(arg or 1.2))
        elif name == "jpeg":
            img = fx.jpeg_artifacts(img, int(arg or 40))
        elif name == "grey":
            target = min(dpi, int(arg or 200))  # a rescan never adds detail
            img = fx.downsample(img, dpi, target)
            dpi = target
        elif name == "photocopy":
            img = fx.photocopy(img, seed=s)
        elif name == "rotate":
            img = fx.rotate(img, int(arg or 90))
            rotation = (rotation + int(arg or 90)) % 360
    img.info["dpi"] = (dpi, dpi)
    return img, dpi, rotation


def _scan(
    spec: DocumentSpec, dpi: int, max_pages: int | None, defects: Sequence[str], seed: int
) -> tuple[list[RenderedPage], list[tuple[Image.Image, int, int]]]:
    check_defects(defects)
    pages = render_pages(spec, dpi=dpi, max_pages=max_pages)
    return pages, [scan_page(p, defects, seed) for p in pages]


def _jpeg_last(defects: Sequence[str], quality: int) -> tuple[tuple[str, ...], int]:
    """When the last defect is `jpeg:Q` and the writer stores JPEG anyway, store it at Q
    instead of compressing twice."""
    if defects:
        name, arg, only = _parse(defects[-1])
        if name == "jpeg" and only is None:
            return tuple(defects[:-1]), int(arg or 40)
    return tuple(defects), quality


def _encode(img: Image.Image, dpi: int, fmt: str, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(
            buf, "JPEG", quality=quality, dpi=(dpi, dpi), optimize=False
        )
    else:
        img.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def _sample(
    path: Path,
    kind: str,
    media_type: str,
    spec: DocumentSpec,
    pages: Sequence[RenderedPage | PageLayout],
    methods: list[str],
    defects: Sequence[str],
    rotations: list[int],
    dpi: int,
) -> Sample:
    return Sample(
        path=path,
        kind=kind,
        media_type=media_type,
        pages=[p.text for p in pages],
        methods=methods,
        defects=tuple(defects),
        rotations=rotations,
        dpi=dpi,
        spec_key=spec.key,
        document=expected_document(spec),
    )


def write_scanned_pdf(
    path: Path,
    spec: DocumentSpec,
    *,
    dpi: int = 300,
    max_pages: int | None = None,
    defects: Sequence[str] = (),
    seed: int = 0,
    image_format: str = "jpeg",
    quality: int = 85,
) -> Sample:
    """An image-only PDF, one JPEG (or PNG) per page, page size from the image dpi."""
    applied, quality = (
        _jpeg_last(defects, quality) if image_format == "jpeg" else (tuple(defects), quality)
    )
    pages, scans = _scan(spec, dpi, max_pages, applied, seed)
    images = [_encode(img, d, image_format, quality) for img, d, _ in scans]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(img2pdf.convert(images, engine=img2pdf.Engine.internal, nodate=True))
    return _sample(
        path,
        "scanned-pdf",
        "application/pdf",
        spec,
        pages,
        ["ocr"] * len(pages),
        defects,
        [r for _, _, r in scans],
        scans[0][1],
    )


def _canvas(path: Path, spec: DocumentSpec) -> Canvas:
    canvas = Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    canvas.setTitle(spec.subject)
    canvas.setAuthor(" ".join(spec.issuer.split()))
    canvas.setCreator("sohoa tests/data")
    return canvas


def write_digital_pdf(path: Path, spec: DocumentSpec, *, max_pages: int | None = None) -> Sample:
    """A born-digital PDF: real Unicode text in embedded Liberation Serif subsets."""
    return write_mixed_pdf(path, spec, scanned=(), max_pages=max_pages)


def write_mixed_pdf(
    path: Path,
    spec: DocumentSpec,
    *,
    scanned: Sequence[int] = (2,),
    dpi: int = 300,
    max_pages: int | None = None,
    defects: Sequence[str] = (),
    seed: int = 0,
    quality: int = 85,
) -> Sample:
    """A PDF whose pages in `scanned` (1-based) are JPEG images and the others real text."""
    check_defects(defects)
    applied, quality = _jpeg_last(defects, quality)
    layouts = layout_document(spec, max_pages)
    rendered = {p.number: p for p in render_pages(spec, dpi, max_pages) if p.number in scanned}
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = _canvas(path, spec)
    methods, rotations = [], []
    for layout in layouts:
        if layout.number in rendered:
            img, d, rot = scan_page(rendered[layout.number], applied, seed)
            reader = ImageReader(io.BytesIO(_encode(img, d, "jpeg", quality)))
            size = (PAGE_H, PAGE_W) if rot in (90, 270) else (PAGE_W, PAGE_H)
            canvas.setPageSize(size)
            canvas.drawImage(reader, 0, 0, width=size[0], height=size[1])
            methods.append("ocr")
            rotations.append(rot)
        else:
            canvas.setPageSize((PAGE_W, PAGE_H))
            draw_page_pdf(canvas, layout)
            methods.append("text-layer")
            rotations.append(0)
        canvas.showPage()
    canvas.save()
    kind = (
        "mixed-pdf"
        if "ocr" in methods and "text-layer" in methods
        else ("digital-pdf" if "ocr" not in methods else "scanned-pdf")
    )
    return _sample(
        path,
        kind,
        "application/pdf",
        spec,
        layouts,
        methods,
        defects if rendered else (),
        rotations,
        dpi if rendered else 72,
    )


def write_tiff(
    path: Path,
    spec: DocumentSpec,
    *,
    dpi: int = 300,
    max_pages: int | None = None,
    defects: Sequence[str] = (),
    seed: int = 0,
    compression: str = "group4",
) -> Sample:
    """A multi-page TIFF: 1-bit CCITT G4 (`group4`) or grey LZW (`tiff_lzw`), dpi set."""
    pages, scans = _scan(spec, dpi, max_pages, defects, seed)
    if compression == "group4":
        images = [
            img.convert("L").point(lambda v: 255 if v >= 150 else 0).convert("1")
            for img, _, _ in scans
        ]
    else:
        images = [img.convert("L") for img, _, _ in scans]
    path.parent.mkdir(parents=True, exist_ok=True)
    out_dpi = scans[0][1]
    images[0].save(
        path,
        "TIFF",
        save_all=True,
        append_images=images[1:],
        compression=compression,
        dpi=(out_dpi, out_dpi),
    )
    return _sample(
        path,
        "tiff",
        "image/tiff",
        spec,
        pages,
        ["ocr"] * len(pages),
        defects,
        [r for _, _, r in scans],
        out_dpi,
    )


def _write_image(
    path: Path,
    spec: DocumentSpec,
    fmt: str,
    dpi: int,
    defects: Sequence[str],
    seed: int,
    quality: int,
) -> Sample:
    applied, quality = _jpeg_last(defects, quality) if fmt == "jpeg" else (defects, quality)
    pages, scans = _scan(spec, dpi, 1, applied, seed)
    img, out_dpi, rotation = scans[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_encode(img, out_dpi, fmt, quality))
    return _sample(path, fmt, f"image/{fmt}", spec, pages, ["ocr"], defects, [rotation], out_dpi)


def write_jpeg(
    path: Path,
    spec: DocumentSpec,
    *,
    dpi: int = 300,
    defects: Sequence[str] = (),
    seed: int = 0,
    quality: int = 85,
) -> Sample:
    """One page (the document shortened to fit it) as a JPEG with its dpi in the JFIF header."""
    return _write_image(path, spec, "jpeg", dpi, defects, seed, quality)


def write_png(
    path: Path, spec: DocumentSpec, *, dpi: int = 300, defects: Sequence[str] = (), seed: int = 0
) -> Sample:
    """One page (the document shortened to fit it) as a PNG with its dpi in pHYs."""
    return _write_image(path, spec, "png", dpi, defects, seed, 0)
