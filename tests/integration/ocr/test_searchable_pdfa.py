"""Searchable PDFs in the shape of PDF/A-2b: legacy fonts made searchable, what PDF/A
forbids removed without changing the look, image inputs merged from parts."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from PIL import Image, ImageChops

from ocr import open_source
from ocr.pdfa_check import pdfa_problems
from ocr.searchable import build_searchable_pdf
from tests.data.legacy_pdf import write_legacy_pdf
from tests.data.samples import cer, get_spec, write_scanned_pdf
from tests.integration.searchable_helpers import fake_hocr, qpdf_check, render

LIMITS = {"max_pages": 5000, "max_pixels": 250_000_000}
PDF = "application/pdf"


@pytest.mark.parametrize(
    ("encoding", "embedded"), [("tcvn3", True), ("tcvn3", False), ("vni", True)]
)
def test_searchable_pdf_of_legacy_pages_is_searchable_in_unicode(
    tmp_path: Path, encoding: str, embedded: bool
) -> None:
    # Embedded legacy fonts get a Unicode map: any reader, not only ours, finds the
    # Vietnamese. Unembedded ones are left as they are (a map would change the substitute
    # glyphs pdfium draws); our reader still decodes them.
    sample = write_legacy_pdf(
        tmp_path / "in.pdf", get_spec("kh-251-ubnd"), encoding, embedded=embedded, max_pages=2
    )
    out = tmp_path / "out.pdf"
    build_searchable_pdf(sample.path, PDF, lambda n: None, len(sample.pages), out)
    with pdfplumber.open(out) as pdf:
        for page, truth in zip(pdf.pages, sample.pages, strict=True):
            rate = cer(truth, unicodedata.normalize("NFC", page.extract_text()))
            assert rate == 0.0 if embedded else rate > 0.1
    with open_source(out, PDF, **LIMITS) as source:
        layer = source.text_layer(1)
        assert layer is not None and layer.encoding == (None if embedded else encoding)
        assert cer(sample.pages[0], layer.text) == 0.0
    if embedded:  # (pdfium draws unembedded fonts differently from one call to the next)
        assert ImageChops.difference(render(sample.path), render(out)).getbbox() is None


def _lzw(data: bytes) -> bytes:
    """LZW as PDF writes it (EarlyChange 1); enough for a few hundred bytes, no table reset."""
    table = {bytes([i]): i for i in range(256)}
    codes, width, current = [(256, 9)], 9, b""
    for byte in data:
        grown = current + bytes([byte])
        if grown in table:
            current = grown
            continue
        codes.append((table[current], width))
        table[grown] = len(table) + 2  # 256 and 257 are the clear and end codes
        width = 10 if len(table) + 2 >= 511 else width
        current = bytes([byte])
    codes += [(table[current], width), (257, width)]
    bits = "".join(format(code, f"0{size}b") for code, size in codes)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))


def test_searchable_pdf_drops_what_pdfa_forbids_and_looks_the_same(tmp_path: Path) -> None:
    scan = write_scanned_pdf(tmp_path / "scan.pdf", get_spec("cv-12-ubnd-vx"), max_pages=1)
    hostile = tmp_path / "hostile.pdf"
    with pikepdf.open(scan.path) as pdf:
        script = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        )
        attachment = pdf.make_stream(b"secret", Type=pikepdf.Name.EmbeddedFile)
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array(["hello", script])),
            EmbeddedFiles=pikepdf.Dictionary(Names=pikepdf.Array(["a.txt", attachment])),
        )
        pdf.Root.OpenAction = script
        page = pdf.pages[0]
        content = page.Contents.read_bytes()
        assert len(content) < 300  # what _lzw handles
        lzw = pdf.make_stream(_lzw(content))
        lzw.Filter = pikepdf.Name.LZWDecode
        assert lzw.read_bytes() == content  # qpdf decodes our LZW
        page.obj.Contents = lzw
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 20, 20], F=2, A=script
        )
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))
        pdf.save(hostile)
    out = tmp_path / "out.pdf"
    notes = build_searchable_pdf(hostile, PDF, lambda n: fake_hocr("Kính gửi", 1654, 2339), 1, out)
    assert "document JavaScript removed" in notes and any("embedded files" in n for n in notes)
    assert pdfa_problems(out) == []
    qpdf_check(out)
    with pikepdf.open(out) as pdf:
        assert "/OpenAction" not in pdf.Root and "/A" not in pdf.pages[0].Annots[0]
        assert int(pdf.pages[0].Annots[0].F) & 4 and not int(pdf.pages[0].Annots[0].F) & 2
    assert ImageChops.difference(render(scan.path), render(out)).getbbox() is None


def test_searchable_pdf_from_images_is_pdfa_2b(tmp_path: Path) -> None:
    page = Image.new("L", (1654, 2339), 255)
    page.save(tmp_path / "page.png", dpi=(200, 200))
    bw = page.convert("1")
    bw.save(tmp_path / "pages.tif", save_all=True, append_images=[bw] * 11, dpi=(200, 200))
    hocr = fake_hocr("Số: 12/UBND-VX\nKính gửi", 1654, 2339)
    for name, media_type, count in (("page.png", "image/png", 1), ("pages.tif", "image/tiff", 12)):
        out = tmp_path / f"{name}.pdf"
        assert build_searchable_pdf(tmp_path / name, media_type, lambda n: hocr, count, out) == []
        assert pdfa_problems(out) == []  # the 12 frames are merged from parts: still PDF/A
        qpdf_check(out)


def test_links_keep_only_web_and_mail_targets(tmp_path: Path) -> None:
    scan = write_scanned_pdf(tmp_path / "scan.pdf", get_spec("cv-12-ubnd-vx"), max_pages=1)
    hostile = tmp_path / "links.pdf"
    targets = {
        "javascript:alert(document.cookie)": False,
        " JaVaScRiPt:alert(1)": False,
        "data:text/html,<script>alert(1)</script>": False,
        "file:///etc/passwd": False,
        "https://vanban.chinhphu.vn/": True,
        "mailto:vanthu@bactuliem.hanoi.gov.vn": True,
    }
    with pikepdf.open(scan.path) as pdf:
        links = []
        for n, uri in enumerate(targets):
            action = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(uri))
            links.append(pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, F=4,
                Rect=[10 * n, 0, 10 * n + 8, 8], A=action,
            )))  # fmt: skip
        # a safe link whose chained action is not
        chained = pikepdf.Dictionary(
            S=pikepdf.Name.URI, URI=pikepdf.String("https://example.vn/"),
            Next=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("javascript:x()")),
        )  # fmt: skip
        links.append(pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, F=4, Rect=[90, 0, 98, 8],
            A=chained,
        )))  # fmt: skip
        pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array(links))
        pdf.save(hostile)
    out = tmp_path / "out.pdf"
    build_searchable_pdf(hostile, PDF, lambda n: fake_hocr("Kính gửi", 1654, 2339), 1, out)
    with pikepdf.open(out) as pdf:
        annots = list(pdf.pages[0].Annots)
        kept = [bytes(a.A.URI).decode() for a in annots if "/A" in a]
    assert kept == [uri for uri, safe in targets.items() if safe]
    assert pdfa_problems(out) == []
