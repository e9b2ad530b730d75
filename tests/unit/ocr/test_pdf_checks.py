"""A PDF's end, its security handler and its filled form fields, checked before reading."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ocr.errors import ExtractionError
from ocr.pdfsource import PdfSource
from ocr.textlayer import judge
from schemas.errors import ErrorCode

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
MAX_PIXELS = 50_000_000
LINES = [
    "ỦY BAN NHÂN DÂN PHƯỜNG CỔ NHUẾ 1",
    "QUYẾT ĐỊNH về việc công nhận kết quả rà soát hộ nghèo năm 2024",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
]


def _font() -> str:
    if "LibSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("LibSerif", FONT))
    return "LibSerif"


def _text_pdf(lines: list[str], pages: int = 1, size: tuple[float, float] = A4) -> bytes:
    """Born-digital pages typeset in Liberation Serif (subset TrueType, with /ToUnicode)."""
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=size)
    for number in range(1, pages + 1):
        canvas.setFont(_font(), 12)
        for index, line in enumerate([*lines, f"Trang {number}"]):
            canvas.drawString(20, size[1] - 30 - 18 * index, line)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _source(tmp_path: Path, data: bytes, name: str = "in.pdf") -> PdfSource:
    path = tmp_path / name
    path.write_bytes(data)
    return PdfSource(path, max_pixels=MAX_PIXELS)


def _refusal(tmp_path: Path, data: bytes) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        _source(tmp_path, data)
    return caught.value


# --- the end of the file ---------------------------------------------------------------


@pytest.mark.parametrize(
    "padding",
    [b"\x00" * 8192, b"\x00" * 200_000, b"\r\n" + b" " * 5000 + b"\x00" * 3000, b"\n\x0c\t"],
    ids=["8KiB-nul", "200KB-nul", "blanks-and-nul", "eol"],
)
def test_padding_after_the_end_is_accepted(tmp_path: Path, padding: bytes) -> None:
    source = _source(tmp_path, _text_pdf(LINES, pages=2) + padding)
    assert source.page_count == 2
    source.close()


@pytest.mark.parametrize(
    "junk",
    [b"\r\n" + random.Random(2).randbytes(300), b"\x1a", b"\r\n\x00\x00  ", b"<html></html>\n"],
    ids=["300-random-bytes", "ctrl-z", "crlf-nul-spaces", "mail-gateway"],
)
def test_a_short_junk_tail_is_accepted(tmp_path: Path, junk: bytes) -> None:
    assert b"obj" not in junk and b"stream" not in junk and b"xref" not in junk
    source = _source(tmp_path, _text_pdf(LINES) + junk)
    assert source.page_count == 1
    source.close()


def _with_update(base: bytes) -> bytes:
    """`base` with an incremental update appending a second page (as edits and signatures
    are saved)."""
    pdf = pdfium.PdfDocument(base)
    pdf.import_pages(pdfium.PdfDocument(_text_pdf(["Phụ lục: danh sách hồ sơ bổ sung"])))
    out = io.BytesIO()
    pdf.save(out, flags=pdfium_c.FPDF_INCREMENTAL)
    pdf.close()
    return out.getvalue()


def test_an_intact_incremental_update_is_read_whole(tmp_path: Path) -> None:
    base = _text_pdf(LINES)
    full = _with_update(base)
    assert full.startswith(base) and len(full) > len(base)
    source = _source(tmp_path, full + b"\x00" * 6000)
    assert source.page_count == 2
    assert "Phụ lục" in source.text_layer(2).text
    source.close()


@pytest.mark.parametrize("into", [12, 300, 3000])
def test_a_cut_incremental_update_is_refused(tmp_path: Path, into: int) -> None:
    base = _text_pdf(LINES)
    cut = _with_update(base)[: len(base) + into]
    assert b"%%EOF" in cut[-4096:]  # the earlier revision's marker is still near the end
    error = _refusal(tmp_path, cut + b"\x00" * 100)
    assert error.code is ErrorCode.corrupt_pdf
    assert error.message == (
        "the PDF is truncated (an update appended after its last end marker is cut off)"
    )


def test_an_update_cut_far_from_the_earlier_marker_is_refused(tmp_path: Path) -> None:
    base = _text_pdf(LINES)
    full = _with_update(base)
    cut = full[: len(base) + (len(full) - len(base)) * 9 // 10]
    error = _refusal(tmp_path, cut)
    assert error.code is ErrorCode.corrupt_pdf
    assert "truncated" in error.message


def test_a_cut_just_before_the_last_marker_is_refused(tmp_path: Path) -> None:
    full = _with_update(_text_pdf(LINES))
    error = _refusal(tmp_path, full[: full.rindex(b"%%EOF")])
    assert error.code is ErrorCode.corrupt_pdf
    assert "truncated" in error.message


def test_a_file_cut_far_from_any_marker_is_refused(tmp_path: Path) -> None:
    data = _text_pdf(LINES, pages=40)
    error = _refusal(tmp_path, data[: len(data) // 2])
    assert error.code is ErrorCode.corrupt_pdf
    assert error.message == "the PDF is truncated (no end marker)"


def test_nothing_but_padding_is_refused(tmp_path: Path) -> None:
    error = _refusal(tmp_path, b"%PDF-1.7\n" + b"\x00" * 100_000)
    assert error.code is ErrorCode.corrupt_pdf


# --- security handlers ----------------------------------------------------------------


def _encrypted(R: int = 4, **swap: tuple[bytes, bytes]) -> bytes:
    """A password-encrypted PDF, then `swap`'s old bytes of its /Encrypt replaced."""
    with pikepdf.open(io.BytesIO(_text_pdf(LINES))) as pdf:
        buf = io.BytesIO()
        pdf.save(
            buf,
            encryption=pikepdf.Encryption(owner="chu", user="nguoi-dung", R=R, aes=True),
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
    data = buf.getvalue()
    for old, new in swap.values():
        assert old in data
        data = data.replace(old, new, 1)
    return data


@pytest.mark.parametrize("R", [4, 6])
def test_certificate_encryption_is_encrypted_not_corrupt(tmp_path: Path, R: int) -> None:
    data = _encrypted(R, f=(b"/Filter /Standard", b"/Filter /Adobe.PubSec"))
    error = _refusal(tmp_path, data)
    assert error.code is ErrorCode.encrypted_pdf
    assert "certificate" in error.message and "Adobe.PubSec" in error.message
    assert str(tmp_path) not in error.message


def test_another_security_handler_is_encrypted(tmp_path: Path) -> None:
    error = _refusal(tmp_path, _encrypted(f=(b"/Filter /Standard", b"/Filter /FOPN#5Ffoweb")))
    assert error.code is ErrorCode.encrypted_pdf
    assert "security handler" in error.message and "FOPN_foweb" in error.message


def test_an_unsupported_algorithm_is_encrypted(tmp_path: Path) -> None:
    error = _refusal(tmp_path, _encrypted(v=(b"/V 4", b"/V 3")))
    assert error.code is ErrorCode.encrypted_pdf
    assert "/R or /V" in error.message and "offset" not in error.message


def test_a_user_password_still_asks_for_the_password(tmp_path: Path) -> None:
    error = _refusal(tmp_path, _encrypted())
    assert error.code is ErrorCode.encrypted_pdf
    assert error.message == "the PDF needs a password to open"


def test_damage_outside_the_encryption_stays_corrupt(tmp_path: Path) -> None:
    data = _text_pdf(LINES).replace(b"/Root", b"/Rxxt")
    error = _refusal(tmp_path, data)
    assert error.code is ErrorCode.corrupt_pdf


# --- filled form fields ---------------------------------------------------------------

#: field name -> (value, box in points: left, bottom, right, top)
FIELDS = {
    "ho_ten": ("Nguyễn Thị Hồng Nhung", (300.0, 640.0, 560.0, 664.0)),
    "noi_cu_tru": ("Số 12 ngõ 68 đường Phú Diễn", (300.0, 600.0, 560.0, 624.0)),
}
HIDDEN = ("ghi_chu", "Trường ẩn không in ra", (300.0, 560.0, 560.0, 584.0))


def _appearance(pdf: pikepdf.Pdf, value: str, box: tuple[float, ...]) -> pikepdf.Object:
    """A widget's normal appearance: `value` in Liberation Serif, as a form XObject."""
    width, height = box[2] - box[0], box[3] - box[1]
    drawn = io.BytesIO()
    canvas = Canvas(drawn, pagesize=(width, height))
    canvas.setFont(_font(), 13)
    canvas.drawString(2, 6, value)
    canvas.showPage()
    canvas.save()
    with pikepdf.open(io.BytesIO(drawn.getvalue())) as src:
        return pdf.copy_foreign(src.pages[0].as_form_xobject())


def form_pdf(labels: list[str]) -> bytes:
    """A page with `labels` typed and text fields filled in with Vietnamese values."""
    pdf = pikepdf.open(io.BytesIO(_text_pdf(labels) if labels else _blank_pdf()))
    page = pdf.pages[0]
    widgets = []
    fields = [(name, value, box, 4) for name, (value, box) in FIELDS.items()]
    for name, value, box, flags in [*fields, (*HIDDEN, 4 | 2)]:
        widget = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String(name),
                V=pikepdf.String(value),
                Rect=pikepdf.Array(box),
                F=flags,
                P=page.obj,
                AP=pikepdf.Dictionary(N=_appearance(pdf, value, box)),
            )
        )
        widgets.append(widget)
    page.obj.Annots = pikepdf.Array(widgets)
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=pikepdf.Array(widgets), DA=pikepdf.String("/Helv 0 Tf 0 g")
    )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _blank_pdf() -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _dark_pixels(image: Image.Image, box: tuple[float, ...], dpi: float) -> int:
    """Pixels darker than mid-grey inside `box` (points, from the page's bottom left)."""
    grey = image.convert("L")
    scale = dpi / 72.0
    crop = (
        box[0] * scale,
        grey.height - box[3] * scale,
        box[2] * scale,
        grey.height - box[1] * scale,
    )
    return sum(
        1 for value in grey.crop(tuple(round(v) for v in crop)).get_flattened_data() if value < 128
    )


def test_filled_fields_are_drawn_into_the_page_image(tmp_path: Path) -> None:
    source = _source(tmp_path, form_pdf([]))
    assert source.text_layer(1) is None  # nothing typed on the page: it is read by OCR
    page = source.render(1, 100)
    for _, box in FIELDS.values():
        assert _dark_pixels(page.image, box, page.dpi) > 150
    assert _dark_pixels(page.image, HIDDEN[2], page.dpi) == 0
    assert _dark_pixels(page.image, (20.0, 20.0, 290.0, 800.0), page.dpi) == 0
    source.close()


def test_filled_fields_are_drawn_after_the_document_is_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ocr.pdfsource._PDFIUM_BUDGET", 1)  # reopened every 8 pages
    source = _source(tmp_path, form_pdf([]))
    box = FIELDS["ho_ten"][1]
    for _ in range(10):
        page = source.render(1, 72)
        assert _dark_pixels(page.image, box, page.dpi) > 50
    source.close()


def test_filled_values_join_the_typed_text_layer(tmp_path: Path) -> None:
    labels = ["TỜ KHAI ĐĂNG KÝ KHAI SINH", "Họ, chữ đệm, tên người yêu cầu:", "Nơi cư trú:"]
    source = _source(tmp_path, form_pdf(labels))
    layer = source.text_layer(1)
    assert layer is not None
    for value, _ in FIELDS.values():
        assert value in layer.text
    assert HIDDEN[1] not in layer.text
    assert layer.text.index("Nơi cư trú:") < layer.text.index(FIELDS["ho_ten"][0])
    assert judge(layer).usable
    source.close()


def test_a_page_without_fields_keeps_its_text_layer(tmp_path: Path) -> None:
    source = _source(tmp_path, _text_pdf(LINES))
    layer = source.text_layer(1)
    assert layer is not None
    assert layer.text.splitlines() == [*LINES, "Trang 1"]
    source.close()
