"""E-office PDFs: a born-digital page whose number and day are stamped in by the document
system as the appearances of signature widgets over the blanks of the printed lines.

The page's own text says `Số:        /KH-UBND` and `ngày        tháng 5 năm 2023`; what the
reader sees, the number and the day, is drawn only by the widgets, as in the files the
provinces' e-office systems issue.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pdfplumber
import pikepdf

from tests.data.specs import DocumentSpec
from tests.data.writers import Sample, expected_document, write_digital_pdf

#: spaces printed where the system writes the number or the day in
BLANK = " " * 8


@dataclasses.dataclass(frozen=True)
class Stamp:
    """Text drawn by one widget, and where (PDF points, y up)."""

    text: str
    rect: tuple[float, float, float, float]


def blank_spec(spec: DocumentSpec) -> DocumentSpec:
    """The spec as printed before the system stamps the number and the day in."""
    assert spec.issued_on is not None and spec.place is not None
    symbol = spec.number.split("/", 1)[1]
    month = f"{spec.issued_on.month:02d}" if spec.issued_on.month < 3 else spec.issued_on.month
    return dataclasses.replace(
        spec,
        number=f"{BLANK}/{symbol}",
        date_text=f"ngày{BLANK}tháng {month} năm {spec.issued_on.year}",
    )


def _gaps(path: Path) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(x0, x1, baseline) of the number's blank and of the day's blank on page 1."""
    with pdfplumber.open(path, pages=[1]) as pdf:
        page = pdf.pages[0]
        words = page.extract_words(keep_blank_chars=False)
        height = float(page.height)
    number = next(w for w in words if w["text"] == "Số:")
    symbol = next(w for w in words if w["text"].startswith("/") and w["top"] - number["top"] < 3)
    day = next(w for w in words if w["text"] == "ngày")
    month = next(w for w in words if w["text"] == "tháng" and abs(w["top"] - day["top"]) < 3)
    return (
        (number["x1"], symbol["x0"], height - number["bottom"]),
        (day["x1"], month["x0"], height - day["bottom"]),
    )


def _appearance(pdf: pikepdf.Pdf, text: str, width: float, height: float) -> pikepdf.Stream:
    """A widget's appearance as the e-office systems draw it: a form holding a blank layer
    and a layer with the text."""
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name("/Times-Roman"),
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    bbox = [0, 0, width, height]
    blank = pikepdf.Stream(pdf, b"% DSBlank\n", Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Form, BBox=bbox)  # fmt: skip
    layer = pikepdf.Stream(
        pdf,
        f"BT\n1 0 0 1 1 3 Tm\n/F1 13 Tf\n({text})Tj\nET\n".encode("ascii"),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=bbox,
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
    )
    frm = pikepdf.Stream(
        pdf,
        b"q 1 0 0 1 0 0 cm /n0 Do Q\nq 1 0 0 1 0 0 cm /n2 Do Q\n",
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=bbox,
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(n0=blank, n2=layer)),
    )
    return pikepdf.Stream(
        pdf,
        b"q 1 0 0 1 0 0 cm /FRM Do Q\n",
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=bbox,
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(FRM=frm)),
    )


def add_widgets(path: Path, stamps: list[Stamp], *, page: int = 1) -> None:
    """Add an unsigned signature field per stamp whose widget draws the stamp's text."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        target = pdf.pages[page - 1]
        fields = []
        for index, stamp in enumerate(stamps, start=1):
            x0, y0, x1, y1 = stamp.rect
            widget = pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Widget,
                    FT=pikepdf.Name.Sig,
                    T=pikepdf.String(f"Signature{index}"),
                    Rect=[x0, y0, x1, y1],
                    F=4,
                    P=target.obj,
                    AP=pikepdf.Dictionary(N=_appearance(pdf, stamp.text, x1 - x0, y1 - y0)),
                )
            )
            fields.append(widget)
        annots = target.obj.get("/Annots", pikepdf.Array())
        target.obj.Annots = pdf.make_indirect(pikepdf.Array([*annots, *fields]))
        pdf.Root.AcroForm = pdf.make_indirect(
            pikepdf.Dictionary(Fields=pikepdf.Array(fields), SigFlags=3)
        )
        pdf.save(path)


def write_eoffice_pdf(path: Path, spec: DocumentSpec) -> Sample:
    """A born-digital PDF of `spec` whose number and day only widgets draw."""
    sample = write_digital_pdf(path, blank_spec(spec))
    (n0, n1, n_base), (d0, d1, d_base) = _gaps(path)
    assert spec.issued_on is not None
    number = spec.number.split("/", 1)[0]
    day = f"{spec.issued_on.day:02d}" if spec.issued_on.day < 10 else str(spec.issued_on.day)
    add_widgets(
        path,
        [
            Stamp(number, (n0 + 1, n_base - 3, max(n1 - 1, n0 + 8 * len(number)), n_base + 14)),
            Stamp(day, (d0 + 2, d_base - 3, max(d1 - 2, d0 + 8 * len(day)), d_base + 14)),
        ],
    )
    return dataclasses.replace(sample, kind="eoffice-pdf", document=expected_document(spec))
