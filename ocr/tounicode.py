"""Give the legacy-encoded fonts of a PDF (TCVN3, VNI) a Unicode map.

Old Word files typed in `.VnTime` or `VNI-Times` make PDFs whose text extracts as mojibake in
every reader. ocr.pdftext decodes it for the record; this makes the searchable PDF itself
searchable: each such simple font gets a ToUnicode CMap sending every code to what the legacy
encoding means by it (a TCVN3 letter, in capitals for the "H" fonts; for VNI a letter or the
combining marks its byte adds to the letter before). The page still looks the same: only the
text that readers extract changes.

Left alone: fonts whose map already gives Vietnamese letters; fonts that are not embedded
(a new map would change the substitute glyphs some viewers draw; those pages keep extracting
as mojibake elsewhere, though ocr.pdftext still decodes them); Type0 fonts (the legacy fonts
are 8-bit). /Differences glyph names are not read: the codes are taken as WinAnsi.
"""

from __future__ import annotations

import io
import zlib

import pikepdf
from pdfminer.cmapdb import CMapParser, FileUnicodeMap
from pikepdf import Dictionary, Name

from ocr.legacy import detect_legacy, font_encoding, glyph_unicode, is_capitals_font

_SIMPLE = ("/TrueType", "/Type1", "/MMType1")


def fix_legacy_fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Give every TCVN3/VNI font of `pdf` a ToUnicode map; return the fonts' names."""
    fixed = []
    for font in pdf.objects:
        if not isinstance(font, Dictionary) or font.get("/Type") != Name.Font:
            continue
        if str(font.get("/Subtype", "")) not in _SIMPLE:
            continue
        name = str(font.get("/BaseFont", "")).lstrip("/")
        encoding = font_encoding(name)
        if encoding is None or not _embedded(font):
            continue
        codes = _code_chars(font)
        if not codes or detect_legacy("".join(codes.values()), [name]) is None:
            continue  # no codes, or a map that already gives Unicode Vietnamese
        capitals = is_capitals_font(name)
        mapping = {
            code: glyph_unicode(ch, encoding, capitals=capitals) for code, ch in codes.items()
        }
        stream = pdf.make_stream(zlib.compress(_cmap(mapping)))
        stream.Filter = Name.FlateDecode
        font.ToUnicode = stream
        fixed.append(name)
    return fixed


def _embedded(font: Dictionary) -> bool:
    # A viewer draws an unembedded simple font with a substitute, and pdfium picks the
    # substitute's glyphs through the ToUnicode map: a new map would change how the page
    # looks there. Embedded programs are drawn by code, whatever the map says.
    descriptor = font.get("/FontDescriptor")
    return isinstance(descriptor, Dictionary) and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
    )


def _code_chars(font: Dictionary) -> dict[int, str]:
    """Each code of a simple font and the character readers take it for now."""
    existing = font.get("/ToUnicode")
    if isinstance(existing, pikepdf.Stream):
        try:
            parsed = FileUnicodeMap()
            CMapParser(parsed, io.BytesIO(existing.read_bytes())).run()
            return {int(c): u for c, u in parsed.cid2unichr.items() if u and u != "\x00"}
        except Exception:  # a broken map: fall back to the encoding, as readers do
            pass
    first, last = int(font.get("/FirstChar", 32)), int(font.get("/LastChar", 255))
    codes = {}
    for code in range(max(0, first), min(255, last) + 1):
        try:
            codes[code] = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:  # the five codes Windows-1252 leaves empty
            codes[code] = chr(code)
    return codes


def _cmap(mapping: dict[int, str]) -> bytes:
    entries = [
        f"<{code:02X}> <{text.encode('utf-16-be').hex().upper()}>"
        for code, text in sorted(mapping.items())
    ]
    blocks = "".join(
        f"{len(part)} beginbfchar\n" + "\n".join(part) + "\nendbfchar\n"
        for part in (entries[i : i + 100] for i in range(0, len(entries), 100))
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n" + blocks + "endcmap\n"
        "CMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
