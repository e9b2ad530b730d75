"""PDF/A-2b for the searchable PDFs, with pikepdf alone (no Ghostscript).

`make_pdfa` edits an open PDF in place:

- XMP metadata with pdfaid part 2, conformance B, mirroring the Info dictionary (whose
  `/Trapped`, which has no XMP equivalent PDF/A-2 predefines, is dropped);
- an sRGB output intent (GTS_PDFA1) from an ICC profile LittleCMS builds through Pillow,
  unless the file already has a PDF/A output intent;
- what PDF/A-2 forbids and can be removed without changing how a page looks: JavaScript and
  other forbidden actions (document, page and annotation), embedded files and file
  attachment annotations, XFA forms, `NeedAppearances`, image `Interpolate`, `Alternates` and
  `OPI`, transfer functions and halftones in graphics states, `AS` in optional content
  configurations; annotation flags are set to "print" and never "hidden";
- LZW-compressed streams are decoded and recompressed with Flate (lossless: the pixels and
  content stay the same; other image data is never recompressed, colour is kept).

Saving without encryption and with a document ID, and an uncompressed metadata stream, is up
to the caller's `pdf.save` (qpdf writes both by default; see ocr.searchable).

What it cannot repair is returned as notes, and the file is then only PDF/A-shaped: fonts that
are not embedded (old born-digital files; the invisible OCR font is always embedded),
DeviceCMYK colour under an RGB intent, LZW inside inline images, PostScript XObjects, and
transparency groups blending in DeviceCMYK. PDF/A-2 allows transparency itself.
"""

from __future__ import annotations

import logging
import re
import zlib
from functools import lru_cache

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import ImageCms

log = logging.getLogger(__name__)

PRODUCER = "sohoa (pikepdf)"
_SRGB_ID = "sRGB IEC61966-2.1"
_FORBIDDEN_ACTIONS = frozenset(
    {"/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/JavaScript", "/Hide",
     "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView"}
)  # fmt: skip
_ALLOWED_NAMED = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
_GENERAL_FILTERS = frozenset({"/LZWDecode", "/FlateDecode", "/ASCIIHexDecode",
                              "/ASCII85DecodeN", "/ASCII85Decode", "/RunLengthDecode"})  # fmt: skip
# Annotation flags: Print on; Hidden, Invisible, NoView and ToggleNoView off.
_PRINT, _FORBIDDEN_FLAGS = 4, 1 | 2 | 32 | 256


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB display profile (ICC v4), made by LittleCMS: no file to ship or download."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # Declare 4.2 (ICC.1:2004-10), the version PDF 1.7, the base of PDF/A-2, cites; the
    # profile uses only tags of that version and carries no profile ID to recompute.
    data[8:12] = bytes([4, 0x20, 0, 0])
    return bytes(data)


def make_pdfa(pdf: pikepdf.Pdf) -> list[str]:
    """Give `pdf` the shape of PDF/A-2b in place; return what could not be made conforming."""
    notes: list[str] = []
    _clean_catalog(pdf, notes)
    for obj in pdf.objects:
        if isinstance(obj, Dictionary | pikepdf.Stream):
            _clean_object(pdf, obj, notes)
    notes += [f"font {name} is not embedded" for name in unembedded_fonts(pdf)]
    _output_intent(pdf, notes)
    _metadata(pdf)
    for note in dict.fromkeys(notes):
        log.info("PDF/A: %s", note)
    return list(dict.fromkeys(notes))


#: the link targets a searchable PDF served inline may keep: `javascript:`, `data:`, `file:`
#: and the like run or open something in the reader's browser
_SAFE_URI = re.compile(r"^\s*(https?|mailto):", re.IGNORECASE)


def _bad_action(action: object, depth: int = 0) -> bool:
    """An action PDF/A forbids, a link to anything but http(s) or mail, or a chain of
    actions (`/Next`) holding one."""
    if isinstance(action, pikepdf.Array):
        return any(_bad_action(a, depth + 1) for a in list(action)[:50])
    if not isinstance(action, Dictionary):
        return False
    if depth > 8:  # a chain this long is not a document's link
        return True
    kind = str(action.get("/S", ""))
    if kind in _FORBIDDEN_ACTIONS:
        return True
    if kind == "/URI" and not _SAFE_URI.match(_text(action.get("/URI"))):
        return True
    if kind == "/SubmitForm" and not _SAFE_URI.match(_text(_url(action.get("/F")))):
        return True
    if kind == "/Named" and str(action.get("/N", "")) not in _ALLOWED_NAMED:
        return True
    return _bad_action(action.get("/Next"), depth + 1)


def _url(spec: object) -> object:
    return spec.get("/F") if isinstance(spec, Dictionary) else spec


def _text(value: object) -> str:
    if isinstance(value, pikepdf.String):
        return bytes(value).decode("latin-1", "replace")
    return "" if value is None else str(value)


def _clean_catalog(pdf: pikepdf.Pdf, notes: list[str]) -> None:
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        if "/JavaScript" in names:
            del names["/JavaScript"]
            notes.append("document JavaScript removed")
        if "/EmbeddedFiles" in names:
            del names["/EmbeddedFiles"]
            notes.append("embedded files removed (the original keeps them)")
    if "/AA" in root:
        del root["/AA"]
    if _bad_action(root.get("/OpenAction")):
        del root["/OpenAction"]
    form = root.get("/AcroForm")
    if isinstance(form, Dictionary):
        for key in ("/XFA", "/NeedAppearances"):
            if key in form:
                del form[key]
    ocp = root.get("/OCProperties")
    if isinstance(ocp, Dictionary):
        configs = [ocp.get("/D"), *(ocp.get("/Configs") or [])]
        for index, config in enumerate(configs):
            if isinstance(config, Dictionary):
                if "/AS" in config:
                    del config["/AS"]
                if "/Name" not in config:
                    config.Name = pikepdf.String(f"Layers {index}")
    info = pdf.trailer.get("/Info")
    if isinstance(info, Dictionary) and "/Trapped" in info:
        del info["/Trapped"]


def _clean_object(pdf: pikepdf.Pdf, obj: Dictionary | pikepdf.Stream, notes: list[str]) -> None:
    kind, subtype = str(obj.get("/Type", "")), str(obj.get("/Subtype", ""))
    if "/AA" in obj and kind in ("/Page", "/Annot", ""):
        del obj["/AA"]
    if _bad_action(obj.get("/A")):  # annotations, widgets, outline items
        del obj["/A"]
        notes.append("JavaScript and other forbidden actions removed")
    if kind == "/Annot" or subtype in ("/Widget", "/Link", "/FileAttachment"):
        _clean_annotation(obj, notes)
    if subtype == "/Image":
        for key in ("/Interpolate", "/Alternates", "/OPI"):
            if key in obj:
                del obj[key]
        if obj.get("/ColorSpace") == Name.DeviceCMYK:
            notes.append("DeviceCMYK images under an sRGB output intent")
    elif subtype == "/PS":
        notes.append("a PostScript XObject (not allowed, not removed)")
    elif subtype == "/Form" and "/OPI" in obj:
        del obj["/OPI"]
    if kind == "/ExtGState":
        for key in ("/TR", "/HTP", "/HTO"):
            if key in obj:
                del obj[key]
        if "/TR2" in obj and str(obj.TR2) != "/Default":
            del obj["/TR2"]
    group = obj.get("/Group")
    if isinstance(group, Dictionary) and group.get("/CS") == Name.DeviceCMYK:
        notes.append("a transparency group blends in DeviceCMYK")
    if isinstance(obj, pikepdf.Stream):
        _recompress_lzw(obj, notes)


def _clean_annotation(annot: Dictionary | pikepdf.Stream, notes: list[str]) -> None:
    if str(annot.get("/Subtype", "")) == "/FileAttachment" and "/FS" in annot:
        del annot["/FS"]  # the attached file goes; the annotation's appearance stays
        notes.append("file attachment annotations lost their files")
    if str(annot.get("/Subtype", "")) != "/Popup":
        flags = int(annot.get("/F", 0))
        annot.F = (flags | _PRINT) & ~_FORBIDDEN_FLAGS


def _unembedded_name(font: Dictionary) -> str | None:
    """The name of a font dictionary whose font program is not in the file, else None."""
    subtype = str(font.get("/Subtype", ""))
    if subtype == "/Type3":
        return None  # its glyphs are content streams
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, Array) or not len(descendants):
            return str(font.get("/BaseFont", "?")).lstrip("/")
        first = descendants[0]
        if not isinstance(first, Dictionary):
            return str(font.get("/BaseFont", "?")).lstrip("/")
        return _unembedded_name(first)
    descriptor = font.get("/FontDescriptor")
    if isinstance(descriptor, Dictionary) and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
    ):
        return None
    return str(font.get("/BaseFont", "?")).lstrip("/")


def unembedded_fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Names of fonts without an embedded program that draw visible text on some page.

    PDF/A exempts fonts that are never rendered: a font set with Tf but never shown (as
    reportlab's canvas does with Helvetica), or only shown in render mode 3 (invisible).
    Fonts inside form XObjects count whenever the form is there.
    """
    found: dict[tuple[int, int], str] = {}
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        node: pikepdf.Object = page.obj
        while resources is None and "/Parent" in node:  # inherited from the page tree
            node = node.Parent
            resources = node.get("/Resources")
        if not isinstance(resources, Dictionary):
            continue
        fonts = resources.get("/Font")
        suspects = {
            str(key): (font.objgen, name)
            for key, font in (fonts.items() if isinstance(fonts, Dictionary) else [])
            if isinstance(font, Dictionary) and (name := _unembedded_name(font))
        }
        if set(suspects.values()) - set(found.items()):
            for key in _fonts_shown(page):
                if key in suspects:
                    found.setdefault(*suspects[key])
        xobjects = resources.get("/XObject")
        for xobject in xobjects.values() if isinstance(xobjects, Dictionary) else []:
            form = xobject.get("/Resources") if isinstance(xobject, pikepdf.Stream) else None
            form_fonts = form.get("/Font") if isinstance(form, Dictionary) else None
            for font in form_fonts.values() if isinstance(form_fonts, Dictionary) else []:
                if isinstance(font, Dictionary) and (name := _unembedded_name(font)):
                    found.setdefault(font.objgen, name)
    return list(dict.fromkeys(found.values()))


def _fonts_shown(page: pikepdf.Page) -> set[str]:
    """Resource names of the fonts that show visible glyphs in the page's content."""
    shown: set[str] = set()
    font, mode, saved = "", 0, []
    try:
        operations = pikepdf.parse_content_stream(page, "q Q Tf Tr Tj TJ ' \"")
    except pikepdf.PdfError:
        return shown
    for instruction in operations:
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            saved.append((font, mode))
        elif op == "Q":
            font, mode = saved.pop() if saved else ("", 0)
        elif op == "Tf" and operands:
            font = str(operands[0])
        elif op == "Tr" and operands:
            mode = int(operands[0])
        elif mode not in (3, 7) and font:
            shown.add(font)
    return shown


def _recompress_lzw(stream: pikepdf.Stream, notes: list[str]) -> None:
    filters = stream.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, Array) else [str(filters)]
    if "/LZWDecode" not in names:
        return
    if not set(names) <= _GENERAL_FILTERS:
        notes.append("an LZW stream also compressed with an image filter (kept)")
        return
    data = stream.read_bytes()  # every filter undone: the very same bytes
    stream.write(zlib.compress(data), filter=Name.FlateDecode)
    if "/DecodeParms" in stream:
        del stream["/DecodeParms"]


def _output_intent(pdf: pikepdf.Pdf, notes: list[str]) -> None:
    intents = pdf.Root.get("/OutputIntents")
    if isinstance(intents, Array):
        for intent in intents:
            if intent.get("/S") == Name.GTS_PDFA1 and "/DestOutputProfile" in intent:
                return  # already has one; PDF/A wants one profile, not two
            if "/DestOutputProfile" in intent:
                notes.append("another output intent's profile differs from the sRGB intent")
    profile = pdf.make_stream(zlib.compress(srgb_profile()), N=3)
    profile.Filter = Name.FlateDecode
    intent = pdf.make_indirect(
        Dictionary(
            Type=Name.OutputIntent,
            S=Name.GTS_PDFA1,
            OutputConditionIdentifier=pikepdf.String(_SRGB_ID),
            RegistryName=pikepdf.String("http://www.color.org"),
            Info=pikepdf.String(_SRGB_ID),
            DestOutputProfile=profile,
        )
    )
    if isinstance(intents, Array):
        intents.append(intent)
    else:
        pdf.Root.OutputIntents = Array([intent])


def _metadata(pdf: pikepdf.Pdf) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
        meta.load_from_docinfo(pdf.docinfo, delete_missing=False, raise_failure=False)
        meta["pdf:Producer"] = PRODUCER
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
