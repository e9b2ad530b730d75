"""An offline structural check of PDF/A-2b (veraPDF cannot be installed here)."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from ocr.pdfa import unembedded_fonts


def pdfa_problems(path: Path) -> list[str]:
    """What an offline structural check finds against PDF/A-2b in the file at `path`.

    Not a validator (veraPDF is one): it checks the header, encryption, document ID, the XMP
    identification, the output intent and its ICC profile, embedded fonts, LZW, JavaScript,
    embedded files, and that the Info dictionary agrees with the XMP.
    """
    problems: list[str] = []
    head = Path(path).read_bytes()[:64]
    lines = head.split(b"\n")
    if not re.match(rb"%PDF-1\.[0-7]", lines[0]):
        problems.append(f"header {lines[0][:9]!r} is not %PDF-1.0 to %PDF-1.7")
    if len(lines) < 2 or not lines[1].startswith(b"%") or sum(b > 127 for b in lines[1]) < 4:
        problems.append("no binary comment after the header")
    with pikepdf.open(path) as pdf:
        if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
            problems.append("encrypted")
        ids = pdf.trailer.get("/ID")
        if not isinstance(ids, Array) or len(ids) != 2:
            problems.append("no document ID in the trailer")
        problems += _metadata_problems(pdf)
        problems += _intent_problems(pdf)
        problems += [f"font {name} is not embedded" for name in unembedded_fonts(pdf)]
        for obj in pdf.objects:
            if isinstance(obj, Dictionary | pikepdf.Stream):
                notes: list[str] = []
                filters = obj.get("/Filter") if isinstance(obj, pikepdf.Stream) else None
                if filters is not None and "/LZWDecode" in str(filters):
                    notes.append("an LZW-compressed stream")
                if str(obj.get("/S")) == "/JavaScript":
                    notes.append("a JavaScript action")
                problems += notes
        names = pdf.Root.get("/Names")
        if isinstance(names, Dictionary) and "/EmbeddedFiles" in names:
            problems.append("embedded files")
    return list(dict.fromkeys(problems))


def _metadata_problems(pdf: pikepdf.Pdf) -> list[str]:
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return ["no XMP metadata stream"]
    problems = []
    if "/Filter" in stream:
        problems.append("the XMP metadata stream is compressed")
    if stream.get("/Subtype") != Name.XML or stream.get("/Type") != Name.Metadata:
        problems.append("the metadata stream is not /Type /Metadata /Subtype /XML")
    meta = pdf.open_metadata()
    if meta.get("pdfaid:part") != "2" or meta.get("pdfaid:conformance") != "B":
        problems.append("XMP does not identify PDF/A-2b")
    info = pdf.trailer.get("/Info")
    pairs = {"/Title": "dc:title", "/Author": "dc:creator", "/Producer": "pdf:Producer",
             "/Creator": "xmp:CreatorTool", "/Subject": "dc:description"}  # fmt: skip
    for key, prop in pairs.items():
        if isinstance(info, Dictionary) and key in info:
            value = meta.get(prop)
            value = "; ".join(value) if isinstance(value, list) else value
            if str(info[key]) != str(value):
                problems.append(f"Info {key} differs from XMP {prop}")
    return problems


def _intent_problems(pdf: pikepdf.Pdf) -> list[str]:
    for intent in pdf.Root.get("/OutputIntents") or []:
        profile = intent.get("/DestOutputProfile")
        if intent.get("/S") != Name.GTS_PDFA1 or not isinstance(profile, pikepdf.Stream):
            continue
        icc = profile.read_bytes()
        if len(icc) < 128 or icc[8] > 4 or icc[12:16] not in (b"mntr", b"prtr", b"scnr"):
            return ["the output intent's ICC profile is not one PDF/A accepts"]
        components = {b"RGB ": 3, b"GRAY": 1, b"CMYK": 4}.get(icc[16:20])
        if components != int(profile.get("/N", 0)):
            return ["the output intent's /N does not match its ICC profile"]
        return []
    return ["no PDF/A output intent with an ICC profile"]
