"""A "glyphless" font for invisible OCR text, built in memory.

Same design as Tesseract's PDF renderer (pdfrenderer.cpp) and OCRmyPDF: a Type0
font with Identity-H encoding, so every character code is a 2-byte CID that we
choose to be the UTF-16 code unit of the character; a CIDFontType2 descendant
whose CIDToGIDMap sends every CID to glyph 1, a blank glyph; and a ToUnicode
CMap that maps each CID back to the same code unit, so copy/search yields the
text. Glyph 1 rather than 0 because Acrobat refuses to extract a font whose
only used glyph is .notdef (Ken Sharp's note in pdfrenderer.cpp).

Nothing is read from disk: the TrueType program is made with fontTools'
FontBuilder once per process.
"""

from __future__ import annotations

import io
import zlib
from functools import lru_cache

import pikepdf
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from pikepdf import Array, Dictionary, Name

FONT_NAME = "GlyphLessFont"
UNITS_PER_EM = 1000
# Advance width (per 1000 em) of every CID. Half an em, like Tesseract: callers
# stretch words to their boxes with Tz, so only the ratio to the font size
# matters.
CHAR_WIDTH = 500

_REPLACEMENT = 0xFFFD
# Fixed timestamps (seconds since 1904) so the font, and thus every PDF we
# write, is byte-for-byte reproducible.
_FONT_TIMESTAMP = 3_600_000_000


@lru_cache(maxsize=1)
def glyphless_ttf() -> bytes:
    """Return a tiny TrueType font whose glyphs draw nothing (.notdef and a blank)."""
    fb = FontBuilder(UNITS_PER_EM, isTTF=True)
    glyph_order = [".notdef", "blank"]
    fb.setupGlyphOrder(glyph_order)
    # The PDF never uses this cmap (CIDToGIDMap decides), but font parsers
    # such as FreeType want a well-formed cmap table.
    fb.setupCharacterMap({0x20: "blank"})
    # The blank glyph is one zero-area contour, a diagonal of the em box: it
    # paints nothing, yet gives the glyph a bounding box. pdfium drops text
    # objects whose glyph boxes have no width (one-letter words such as "5" or
    # "-" vanished from its extraction) and sizes selection boxes from them.
    # Tesseract's own pdf.ttf uses a filled box instead, relying on mode 3 alone.
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((CHAR_WIDTH, UNITS_PER_EM))
    pen.closePath()
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "blank": pen.glyph()})
    fb.setupHorizontalMetrics({name: (CHAR_WIDTH, 0) for name in glyph_order})
    fb.setupHorizontalHeader(ascent=UNITS_PER_EM, descent=0)
    fb.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    fb.setupOS2(
        sTypoAscender=UNITS_PER_EM,
        sTypoDescender=0,
        usWinAscent=UNITS_PER_EM,
        usWinDescent=0,
        achVendID="NONE",
    )
    fb.setupPost()
    fb.updateHead(created=_FONT_TIMESTAMP, modified=_FONT_TIMESTAMP)
    buf = io.BytesIO()
    fb.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=1)
def _cid_to_gid_map() -> bytes:
    # 65536 big-endian GIDs, all 1; compresses to a few hundred bytes.
    return zlib.compress(b"\x00\x01" * 65536, 9)


@lru_cache(maxsize=1)
def _to_unicode_cmap() -> bytes:
    # Identity CID -> UTF-16 mapping, written as one bfrange per 256-code block:
    # the CMap spec wants a range to vary only in its last byte, and some
    # readers mis-handle the single <0000> <FFFF> range Tesseract writes.
    # Surrogate code units are left unmapped: encode_text never emits them.
    ranges = [
        f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF
    ]
    chunks = []
    for start in range(0, len(ranges), 100):  # at most 100 entries per block
        part = ranges[start : start + 100]
        chunks.append(f"{len(part)} beginbfrange\n" + "\n".join(part) + "\nendbfrange\n")
    text = (
        "/CIDInit /ProcSet findresource begin\n"
        "12 dict begin\n"
        "begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n"
        "/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + "".join(chunks) + "endcmap\n"
        "CMapName currentdict /CMap defineresource pop\n"
        "end\n"
        "end\n"
    )
    return text.encode("ascii")


def encode_text(text: str) -> tuple[bytes, int]:
    """Encode text as 2-byte CIDs for the glyphless font; return (bytes, glyph count).

    Characters outside the Basic Multilingual Plane would need surrogate pairs,
    which a 2-byte Identity CMap cannot map back to one character, so they
    become U+FFFD. (Vietnamese is entirely in the BMP.)
    """
    codes = bytearray()
    count = 0
    for ch in text:
        cp = ord(ch)
        if cp > 0xFFFF or 0xD800 <= cp <= 0xDFFF:
            cp = _REPLACEMENT
        codes += cp.to_bytes(2, "big")
        count += 1
    return bytes(codes), count


def add_glyphless_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """Create the glyphless Type0 font's objects in `pdf`; return the font dictionary."""
    ttf = glyphless_ttf()
    font_file = pdf.make_stream(zlib.compress(ttf, 9))
    font_file.Filter = Name.FlateDecode
    font_file.Length1 = len(ttf)
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=Name("/" + FONT_NAME),
            Flags=5,  # FixedPitch | Symbolic
            FontBBox=Array([0, 0, CHAR_WIDTH, UNITS_PER_EM]),
            ItalicAngle=0,
            Ascent=UNITS_PER_EM,
            # Must be negative; ~0 puts the text's box bottom on the baseline,
            # which is where readers (pdfminer, pdfium) then place it.
            Descent=-1,
            CapHeight=UNITS_PER_EM,
            StemV=80,
            FontFile2=font_file,
        )
    )
    cid_to_gid = pdf.make_stream(_cid_to_gid_map())
    cid_to_gid.Filter = Name.FlateDecode
    cid_font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=Name("/" + FONT_NAME),
            CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=descriptor,
            DW=CHAR_WIDTH,
            CIDToGIDMap=cid_to_gid,
        )
    )
    to_unicode = pdf.make_stream(zlib.compress(_to_unicode_cmap(), 9))
    to_unicode.Filter = Name.FlateDecode
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + FONT_NAME),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([cid_font]),
            ToUnicode=to_unicode,
        )
    )
