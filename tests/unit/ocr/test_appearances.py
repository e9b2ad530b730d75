"""Text drawn by annotations read as part of the page: e-office numbers and days in signature
widgets, blanks under them, annotation bombs and broken appearances."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from ocr.appearances import (
    MAX_ANNOTATIONS,
    drop_covered_blanks,
    flatten_appearances,
    text_from_words,
)
from ocr.pdfchars import words_from_chars
from ocr.pdfsource import PdfSource
from tests.data.eoffice import Stamp, add_widgets, write_eoffice_pdf
from tests.data.specs import get_spec

MAX_PIXELS = 250_000_000


def _char(text: str, x0: float, x1: float, top: float = 100.0) -> dict[str, object]:
    return {"text": text, "x0": x0, "x1": x1, "top": top, "bottom": top + 12, "upright": True,
            "doctop": top, "width": x1 - x0, "height": 12, "size": 12}  # fmt: skip


def test_blanks_under_a_drawn_number_do_not_cut_it() -> None:
    chars = [_char("S", 10, 17), _char("ố", 17, 24), _char(":", 24, 27)]
    chars += [_char(" ", x, x + 3) for x in range(28, 58, 3)]  # the printed blank
    chars += [_char("1", 30, 37), _char("8", 37, 44), _char("5", 44, 51)]  # the widget's
    chars += [_char("/", 58, 62), _char("Q", 62, 70), _char("Đ", 70, 78)]
    kept = drop_covered_blanks(chars)
    # the spaces beside the number stay (x = 28, 52, 55), those under it go
    assert [c["x0"] for c in kept if not str(c["text"]).strip()] == [28, 52, 55]
    words = [w["text"] for w in words_from_chars(kept)]  # type: ignore[arg-type]
    assert "185" in words


def test_blanks_of_other_lines_stay() -> None:
    chars = [_char("a", 10, 17), _char(" ", 17, 20), _char("b", 20, 27)]
    chars += [_char("9", 16, 22, top=140)]  # a glyph on another line, above the space
    assert drop_covered_blanks(chars) == chars
    assert drop_covered_blanks([]) == []


def test_text_from_words_reads_lines_in_order() -> None:
    words = [
        {"text": "/KH-UBND", "x0": 60, "x1": 100, "top": 101, "bottom": 113},
        {"text": "Số:", "x0": 10, "x1": 27, "top": 102, "bottom": 114},
        {"text": "251", "x0": 30, "x1": 55, "top": 99.5, "bottom": 112},
        {"text": "KẾ", "x0": 10, "x1": 30, "top": 130, "bottom": 142},
    ]
    assert text_from_words(words) == "Số: 251 /KH-UBND\nKẾ"
    assert text_from_words([]) == ""


@pytest.fixture(scope="module")
def eoffice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eoffice") / "ke-hoach.pdf"
    write_eoffice_pdf(path, get_spec("kh-251-ubnd"))
    return path


def test_the_number_and_day_of_widgets_join_the_page(eoffice: Path) -> None:
    with pikepdf.open(eoffice) as pdf:  # the page itself has only the blanks
        assert b"251" not in pdf.pages[0].obj.Contents.read_bytes()
    source = PdfSource(eoffice, max_pixels=MAX_PIXELS)
    try:
        assert source.flattened is not None and source.flattened.pages == {1}
        layer = source.text_layer(1)
        assert layer is not None
        assert "Số: 251 /KH-UBND" in layer.text
        assert "ngày 29 tháng 5 năm 2023" in layer.text
        words = [w["text"] for w in words_from_chars(source.chars(1))]
        assert "251" in words and "29" in words
    finally:
        source.close()
    assert not source.flattened.path.exists()  # the copy goes with the source
    with pikepdf.open(eoffice) as pdf:  # the original is untouched
        assert len(pdf.pages[0].obj.Annots) == 2


def test_a_document_without_annotations_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "plain.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(path)
    assert flatten_appearances(path, tmp_path / "copy.pdf") is None
    assert not (tmp_path / "copy.pdf").exists()


def test_an_annotation_bomb_is_read_without_its_annotations(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(path)
    stamps = [Stamp(str(i % 10), (10, 10, 20, 20)) for i in range(MAX_ANNOTATIONS + 1)]
    add_widgets(path, stamps)
    assert flatten_appearances(path, tmp_path / "copy.pdf") is None
    source = PdfSource(path, max_pixels=MAX_PIXELS)
    try:
        assert source.flattened is None
        assert source.text_layer(1) is None  # read as it is: a blank page
    finally:
        source.close()


def test_a_broken_appearance_stream_does_not_stop_the_page(eoffice: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    with pikepdf.open(eoffice) as pdf:
        widget = pdf.pages[0].obj.Annots[0]
        widget.AP.N.write(
            b"BT /F9 12 Tf (12) Tj ET q 1 0 0 1 0 0 cm /Missing Do Q (((", filter=None
        )
        del widget.AP.N.Resources
        pdf.Root.AcroForm.Fields.append(pikepdf.Dictionary(FT=pikepdf.Name.Sig))  # no widget
        pdf.save(path)
    source = PdfSource(path, max_pixels=MAX_PIXELS)
    try:
        layer = source.text_layer(1)
        assert layer is not None and "ngày 29 tháng 5" in layer.text  # the sound widget
        assert "/KH-UBND" in layer.text
    finally:
        source.close()


def test_annotations_that_are_hidden_or_links_are_not_drawn(tmp_path: Path) -> None:
    path = tmp_path / "links.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(path)
    add_widgets(path, [Stamp("77", (100, 700, 140, 720))])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        widget = pdf.pages[0].obj.Annots[0]
        widget.F = 2  # hidden
        link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                  Rect=[0, 0, 10, 10])  # fmt: skip
        pdf.pages[0].obj.Annots.append(pdf.make_indirect(link))
        pdf.save(path)
    assert flatten_appearances(path, tmp_path / "copy.pdf") is None
