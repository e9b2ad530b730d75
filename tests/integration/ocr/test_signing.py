"""The digitizing body's signature: PAdES from a PKCS#12 file (made by openssl) or a SoftHSM2
token, a timestamp from a TSA on 127.0.0.1, checked by pyHanko's validator offline; the file
stays PDF/A-2b; bad keys and bad PDFs stop with a code and leave nothing behind."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import ImageChops
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from ocr.pdfa_check import pdfa_problems
from ocr.searchable import build_searchable_pdf
from ocr.signing import VIETNAM_TIME, SigningError
from ocr.signing_keys import load_signer
from schemas.deliverable_errors import DeliverableErrorCode as Code
from schemas.settings import Settings
from tests.data.samples import get_spec, write_scanned_pdf
from tests.pki import (
    BODY,
    KEY_LABEL,
    PASSWORD,
    SOFTHSM_MODULE,
    TOKEN_LABEL,
    TOKEN_PIN,
    Pki,
    make_pki,
    make_token,
    running_tsa,
)

AT = datetime(2025, 7, 1, 9, 30, 5, tzinfo=VIETNAM_TIME)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def digitized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer PDF/A-2b as the pipeline writes it: a 200 dpi scan of a Kế hoạch."""
    folder = tmp_path_factory.mktemp("digitized")
    scan = write_scanned_pdf(folder / "scan.pdf", get_spec("kh-251-ubnd"), dpi=200)
    out = folder / "searchable.pdf"
    assert build_searchable_pdf(scan.path, "application/pdf", lambda n: None, 2, out) == []
    return out


def _file_settings(pki: Pki, **changes: object) -> Settings:
    return Settings(**{"sign_pkcs12": pki.pkcs12, "sign_password": PASSWORD, **changes})


def _validate(path: Path, pki: Pki):  # type: ignore[no-untyped-def]
    context = ValidationContext(
        trust_roots=[pki.root_certificate()], allow_fetching=False, revocation_mode="soft-fail"
    )
    with open(path, "rb") as f:
        signatures = PdfFileReader(f).embedded_signatures
        assert len(signatures) == 1
        return validate_pdf_signature(
            signatures[0], signer_validation_context=context, ts_validation_context=context
        )


def _render_top_right(path: Path):  # type: ignore[no-untyped-def]
    pdf = pdfium.PdfDocument(str(path))
    pdf.init_forms()
    image = pdf[0].render(scale=2, may_draw_forms=True).to_pil().convert("L")
    width, height = image.size
    return image.crop((width // 2, 0, width, height // 12))  # the top 7 mm of the right half


def test_pkcs12_signature_is_valid_visible_and_keeps_pdfa(
    pki: Pki, digitized: Path, tmp_path: Path
) -> None:
    out = tmp_path / "signed.pdf"
    with load_signer(_file_settings(pki)) as signer:
        applied = signer.sign(digitized, out, at=AT)
    assert (applied.body, applied.signed_at, applied.timestamped) == (BODY, AT, False)

    status = _validate(out, pki)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signer_reported_dt == AT

    original, signed = digitized.read_bytes(), out.read_bytes()
    assert signed.startswith(original)  # an incremental update: the PDF/A file is kept whole
    assert pdfa_problems(out) == []
    with pikepdf.open(out) as pdf:
        widget = pdf.pages[0].Annots[0]
        assert str(widget.FT) == "/Sig" and str(widget.T) == "ChuKySoHoa"
        assert int(widget.F) & 4 and not int(widget.F) & (1 | 2 | 32)  # printed, never hidden
        assert set(widget.AP.keys()) == {"/N"}
        x0, _, _, y1 = (float(v) for v in widget.Rect)
        page_width, page_height = (float(v) for v in pdf.pages[0].mediabox[2:])
        assert x0 > page_width / 2 and y1 > page_height - 72 * 20 / 25.4  # top right, in the margin
        appearance = widget.AP.N.read_bytes().decode("latin-1")
        assert re.search(r"/F\d+ 10 Tf", appearance) and "0 0 0 rg" in appearance
        font = next(iter(widget.AP.N.Resources.Font.values())).DescendantFonts[0]
        assert "LiberationSerif" in str(font.BaseFont) and "/FontFile2" in font.FontDescriptor
        widths = list(font.W)
        assert all(0 < w <= 1000 for run in widths[1::2] for w in run)  # thousandths of an em
        assert "/NeedAppearances" not in pdf.Root.AcroForm
        assert pdf.trailer.ID[0] == pikepdf.open(digitized).trailer.ID[0]
        assert pdf.open_metadata()["pdfaid:part"] == "2"
        assert _actual_text(widget.AP.N) == [BODY, "2025-07-01T09:30:05+07:00"]
    before, after = _render_top_right(digitized), _render_top_right(out)
    assert ImageChops.difference(before, after).getbbox() is not None  # the stamp shows


def _actual_text(appearance: pikepdf.Stream) -> list[str]:
    """The lines of a stamp, from the /ActualText of its marked content."""
    return [
        str(operands[1].ActualText)
        for operands, operator in pikepdf.parse_content_stream(appearance)
        if str(operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary)
    ]


def test_a_modified_byte_breaks_the_signature(pki: Pki, digitized: Path, tmp_path: Path) -> None:
    out = tmp_path / "signed.pdf"
    with load_signer(_file_settings(pki)) as signer:
        signer.sign(digitized, out, at=AT)
    data = bytearray(out.read_bytes())
    image = data.index(b"/DCTDecode")  # a byte of the first page image, inside the signed range
    position = data.index(b"stream", image) + 200
    data[position] ^= 0x01
    out.write_bytes(bytes(data))
    status = _validate(out, pki)
    assert not status.intact and not status.bottom_line


def test_name_shown_comes_from_the_setting_over_the_certificate(
    pki: Pki, digitized: Path, tmp_path: Path
) -> None:
    settings = _file_settings(pki, sign_name="Trung tâm Lưu trữ lịch sử Hà Nội")
    with load_signer(settings) as signer:
        applied = signer.sign(digitized, tmp_path / "signed.pdf", at=AT)
    assert applied.body == "Trung tâm Lưu trữ lịch sử Hà Nội"
    with pikepdf.open(tmp_path / "signed.pdf") as pdf:
        lines = _actual_text(pdf.pages[0].Annots[0].AP.N)
    assert lines[0] == "Trung tâm Lưu trữ lịch sử Hà Nội"


def test_timestamp_from_a_local_tsa(pki: Pki, digitized: Path, tmp_path: Path) -> None:
    out = tmp_path / "signed.pdf"
    with running_tsa(pki) as url, load_signer(_file_settings(pki, sign_tsa_url=url)) as signer:
        applied = signer.sign(digitized, out)
    assert applied.timestamped
    status = _validate(out, pki)
    assert status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
    assert abs((status.timestamp_validity.timestamp - applied.signed_at).total_seconds()) < 60
    assert pdfa_problems(out) == []


def test_a_tsa_that_does_not_answer_stops_signing(
    pki: Pki, digitized: Path, tmp_path: Path
) -> None:
    with running_tsa(pki) as url:
        pass  # the port it had is closed again: nothing listens there
    signer = load_signer(_file_settings(pki, sign_tsa_url=url))
    with signer, pytest.raises(SigningError) as caught:
        signer.sign(digitized, tmp_path / "signed.pdf")
    assert caught.value.code == Code.timestamp_failed
    assert list(tmp_path.iterdir()) == []


def test_token_signature_with_softhsm2(pki: Pki, digitized: Path, tmp_path: Path) -> None:
    make_token(tmp_path / "hsm", pki)
    token = {
        "sign_pkcs11_module": SOFTHSM_MODULE,
        "sign_pkcs11_token": TOKEN_LABEL,
        "sign_pkcs11_key": KEY_LABEL,
        "sign_pkcs11_pin": TOKEN_PIN,
    }
    settings = Settings(**token)
    out = tmp_path / "signed.pdf"
    with load_signer(settings) as signer:
        applied = signer.sign(digitized, out, at=AT)
    assert applied.body == BODY  # the organisation of the certificate on the token
    status = _validate(out, pki)
    assert status.intact and status.valid and status.trusted
    assert pdfa_problems(out) == []

    for wrong in ({"sign_pkcs11_pin": "000000"}, {"sign_pkcs11_token": "khong-co"},
                  {"sign_pkcs11_key": "khong-co"}):  # fmt: skip
        with pytest.raises(SigningError) as caught:
            load_signer(Settings(**{**token, **wrong}))
        assert caught.value.code == Code.signing_token_unavailable, wrong


def test_no_key_configured_signs_nothing() -> None:
    assert load_signer(Settings()) is None


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong password", Code.signing_wrong_password),
        ("not a key file", Code.signing_key_unreadable),
        ("missing file", Code.signing_key_missing),
        ("file and token", Code.signing_misconfigured),
    ],
)
def test_bad_keys_stop_with_a_code(pki: Pki, tmp_path: Path, case: str, code: Code) -> None:
    settings = {
        "wrong password": _file_settings(pki, sign_password="sai-mật-khẩu"),
        "not a key file": Settings(sign_pkcs12=pki.cert, sign_password=PASSWORD),
        "missing file": Settings(sign_pkcs12=tmp_path / "khong-co.p12"),
        "file and token": _file_settings(pki, sign_pkcs11_module=SOFTHSM_MODULE),
    }[case]
    with pytest.raises(SigningError) as caught:
        load_signer(settings)
    assert caught.value.code == code
    assert caught.value.message and PASSWORD not in str(caught.value)


def test_a_pdf_that_is_not_pdfa_or_is_damaged_is_not_signed(
    pki: Pki, digitized: Path, tmp_path: Path
) -> None:
    plain = write_scanned_pdf(tmp_path / "plain.pdf", get_spec("cv-12-ubnd-vx"), dpi=150).path
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 16)
    with load_signer(_file_settings(pki)) as signer:
        for source, code in ((plain, Code.document_not_pdfa), (damaged, Code.document_damaged)):
            with pytest.raises(SigningError) as caught:
                signer.sign(source, tmp_path / "signed.pdf")
            assert caught.value.code == code
            assert source.name in caught.value.message
    assert not (tmp_path / "signed.pdf").exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_signing_again_adds_a_second_signature(pki: Pki, digitized: Path, tmp_path: Path) -> None:
    once, twice = tmp_path / "once.pdf", tmp_path / "twice.pdf"
    with load_signer(_file_settings(pki)) as signer:
        signer.sign(digitized, once, at=AT)
        applied = signer.sign(once, twice)
    assert applied.field == "ChuKySoHoa2"
    with open(twice, "rb") as f:
        assert len(PdfFileReader(f).embedded_signatures) == 2
    assert pdfa_problems(twice) == []
    shutil.rmtree(tmp_path, ignore_errors=True)
