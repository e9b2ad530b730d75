"""Born-digital PDFs typed in the 8-bit Vietnamese encodings of old Word files.

The text layer of such a PDF reads as mojibake: the font draws Vietnamese letters at byte
values whose Latin-1 meaning is something else. We draw the encoded byte-characters with
Liberation Serif but name the fonts as the real ones are named, so that both the extracted
text and the font names look like those of real files:

- TCVN3 (ABC): `.VnTime` for mixed case; `.VnTimeH` (capitals font: its lower-case codes draw
  capitals) for lines in capitals and, as ABC does, for each capital letter with a tone mark
  inside a mixed-case line (`Ủy` = `ñ` in `.VnTimeH` then `y` in `.VnTime`).
- VNI: `VNI-Times`; a letter is its base plus one byte for its marks (`Ủy` = `UÛy`).

`embedded=True` embeds renamed Liberation Serif subsets (with a ToUnicode map that gives the
byte-characters); `embedded=False` uses unembedded WinAnsi fonts renamed like Word's output,
which readers map through WinAnsiEncoding (TCVN3 `ư`, the soft hyphen 0xAD, reads as `-`).

Each line is drawn at the place and width of the Unicode layout (horizontal scaling absorbs
the different glyph widths), so the truth is the layout's own text.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import pikepdf
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from tests.data.layout import PAGE_H, PAGE_W, Line, PageLayout, layout_document
from tests.data.specs import DocumentSpec
from tests.data.typeset import FONT_DIR, FONT_FILES
from tests.data.writers import Sample, expected_document

# TCVN 5712:1993 table VN3: each letter of the first string is the byte below it.
_VN3_UNICODE = "àảãáạăằẳẵắặâầẩẫấậđèẻẽéẹêềểễếệìỉĩíịòỏõóọôồổỗốộơờởỡớợùủũúụưừửữứựỳỷỹýỵĂÂÊÔƠƯĐ"
_VN3_BYTES = "µ¶·¸¹¨»¼½¾Æ©ÇÈÉÊË®ÌÎÏÐÑªÒÓÔÕÖ×ØÜÝÞßáâãä«åæçèé¬êëìíîïñòóô\xadõö÷øùúûüýþ¡¢£¤¥¦§"
_VN3 = dict(zip(_VN3_UNICODE, _VN3_BYTES, strict=True))

# VNI: the byte for each mark combination, lower case (capitals use the upper-case byte).
_VNI_TONE = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_HAT = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_VNI_BREVE = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
_VNI_I = {"": "i", "\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}
_STYLES = ("regular", "bold", "italic", "bolditalic")
_SUFFIX = {"regular": "", "bold": ",Bold", "italic": ",Italic", "bolditalic": ",BoldItalic"}
_STANDARD = {  # unembedded variant: the standard font drawn, renamed afterwards
    ("", "regular"): "Times-Roman", ("", "bold"): "Times-Bold",
    ("", "italic"): "Times-Italic", ("", "bolditalic"): "Times-BoldItalic",
    ("H", "regular"): "Helvetica", ("H", "bold"): "Helvetica-Bold",
    ("H", "italic"): "Helvetica-Oblique", ("H", "bolditalic"): "Helvetica-BoldOblique",
}  # fmt: skip


def vni_encode(text: str) -> str:
    """Unicode text as VNI byte-characters."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "đĐ":
            out.append("ñ" if ch == "đ" else "Ñ")
            continue
        base, *marks = unicodedata.normalize("NFD", ch)
        lower, tone = base.lower(), "".join(m for m in marks if m in _VNI_TONE)
        if lower == "i":
            code = _VNI_I[tone]
        elif lower == "y" and tone == "\u0323":
            code = "î"
        elif "\u031b" in marks:  # horn: ơ ư are one byte, then the tone
            code = ("ô" if lower == "o" else "ö") + _VNI_TONE.get(tone, "")
        elif "\u0302" in marks:
            code = lower + _VNI_HAT[tone]
        elif "\u0306" in marks:
            code = lower + _VNI_BREVE[tone]
        elif lower in "aeouy" and tone:
            code = lower + _VNI_TONE[tone]
        else:
            out.append(ch)
            continue
        out.append(code.upper() if base.isupper() else code)
    return "".join(out)


def tcvn3_runs(text: str, capitals_line: bool) -> list[tuple[bool, str]]:
    """Unicode text as TCVN3 runs of (capitals font?, byte-characters)."""
    runs: list[tuple[bool, str]] = []
    for ch in unicodedata.normalize("NFC", text):
        lower = ch.lower()
        if capitals_line:
            caps, code = True, _VN3.get(lower, ch)
        elif ch in _VN3:
            caps, code = False, _VN3[ch]
        elif ch != lower and lower in _VN3:  # a capital VN3 lacks: the "H" font draws it
            caps, code = True, _VN3[lower]
        else:
            caps, code = False, ch
        if runs and runs[-1][0] == caps:
            runs[-1] = (caps, runs[-1][1] + code)
        else:
            runs.append((caps, code))
    return runs


def _legacy_name(encoding: str, capitals: bool, style: str) -> str:
    family = ".VnTimeH" if capitals else ".VnTime"
    return (family if encoding == "tcvn3" else "VNI-Times") + _SUFFIX[style]


@cache
def _embedded_font(name: str, style: str) -> str:
    """Register Liberation Serif under the legacy font `name`; return reportlab's name."""
    font = TTFont(f"legacy:{name}", str(FONT_DIR / FONT_FILES[style]))
    font.face.name = name.encode("ascii")  # the PDF BaseFont becomes "AAAAAA+<name>"
    pdfmetrics.registerFont(font)
    return font.fontName


def _font(encoding: str, capitals: bool, style: str, embedded: bool) -> str:
    name = _legacy_name(encoding, capitals, style)
    if embedded:
        return _embedded_font(name, style)
    return _STANDARD[("H" if capitals else "", style)]


def _runs(line: Line, encoding: str, embedded: bool) -> list[tuple[str, str]]:
    if encoding == "vni":
        return [(_font("vni", False, line.style, embedded), vni_encode(line.text))]
    caps_line = line.text == line.text.upper() and any(c.isalpha() for c in line.text)
    return [
        (_font("tcvn3", caps, line.style, embedded), code)
        for caps, code in tcvn3_runs(line.text, caps_line)
    ]


def draw_line(canvas: Canvas, line: Line, runs: list[tuple[str, str]], mode: int = 0) -> None:
    """Draw `runs` (font, text) where `line` sits, scaled to the line's own width."""
    spaces = sum(text.count(" ") for _, text in runs)
    natural = sum(pdfmetrics.stringWidth(t, f, line.size) for f, t in runs)
    natural += line.word_space * spaces
    obj = canvas.beginText(line.x, PAGE_H - line.baseline)
    obj.setTextRenderMode(mode)
    obj.setHorizScale(100.0 * line.width / natural if natural else 100.0)
    obj.setWordSpace(line.word_space)
    for font, text in runs:
        obj.setFont(font, line.size)
        obj.textOut(text)
    canvas.drawText(obj)


def _draw_rules(canvas: Canvas, layout: PageLayout) -> None:
    for rule in layout.rules:
        canvas.setLineWidth(rule.width)
        if rule.box:
            canvas.rect(rule.x0, PAGE_H - rule.y1, rule.x1 - rule.x0, rule.y1 - rule.y0)
        else:
            canvas.line(rule.x0, PAGE_H - rule.y0, rule.x1, PAGE_H - rule.y1)


def _rename_standard_fonts(path: Path, encoding: str) -> None:
    renames = {
        f"/{std}": "/" + _legacy_name(encoding, caps == "H", style)
        for (caps, style), std in _STANDARD.items()
    }
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                if str(font.get("/BaseFont")) in renames:
                    font.BaseFont = pikepdf.Name(renames[str(font.BaseFont)])
        pdf.save(path, deterministic_id=True)


def write_legacy_pdf(
    path: Path,
    spec: DocumentSpec,
    encoding: str = "tcvn3",
    *,
    embedded: bool = True,
    max_pages: int | None = None,
) -> Sample:
    """A born-digital PDF whose text is TCVN3 (`encoding="tcvn3"`) or VNI (`"vni"`)."""
    if encoding not in ("tcvn3", "vni"):
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    layouts = layout_document(spec, max_pages)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    canvas.setCreator("sohoa tests/data (legacy encodings)")
    for layout in layouts:
        for block in layout.blocks:
            for line in block:
                draw_line(canvas, line, _runs(line, encoding, embedded))
        _draw_rules(canvas, layout)
        canvas.showPage()
    canvas.save()
    if not embedded:
        _rename_standard_fonts(path, encoding)
    return Sample(
        path=path,
        kind=f"{encoding}-pdf",
        media_type="application/pdf",
        pages=[layout.text for layout in layouts],
        methods=["text-layer"] * len(layouts),
        dpi=72,
        spec_key=spec.key,
        document=expected_document(spec),
    )
