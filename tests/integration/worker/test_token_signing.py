"""The digitizing body's signature from a PKCS#11 token, through the whole pipeline: a file
uploaded over the API, digitized by the worker with SOHOA_SIGN_PKCS11_* pointing at a
SoftHSM2 token, and the stored copy's signature checked by pyHanko's validator offline (and
broken by one modified byte). A token that refuses its PIN publishes the copy unsigned and
sends the record to review (not_signed), nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from api.app import app
from ocr.pdfa_check import pdfa_problems
from store import unit_of_work
from store.platform.models import DocumentRow
from store.services import Services
from tests.conftest import bearer
from tests.data.classify_eval import all_specs
from tests.data.writers import write_digital_pdf
from tests.integration.api.test_uploads import serving
from tests.pki import (
    BODY,
    KEY_LABEL,
    SOFTHSM_MODULE,
    TOKEN_LABEL,
    TOKEN_PIN,
    Pki,
    make_pki,
    make_token,
)

pytestmark = pytest.mark.slow

WARD = "phuong-co-nhue-1"


@dataclass(frozen=True)
class SigningToken:
    pki: Pki
    folder: Path


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningToken]:
    """One SoftHSM2 token for the module: the library is loaded once per process, and the
    worker keeps its token session open between documents (and between the databases)."""
    folder = tmp_path_factory.mktemp("token")
    pki = make_pki(folder / "pki")
    make_token(folder / "hsm", pki)
    yield SigningToken(pki, folder)


def _validate(path: Path, pki: Pki) -> PdfSignatureStatus:
    """pyHanko's verdict on the file's one signature, trusting the test root only, offline."""
    context = ValidationContext(
        trust_roots=[pki.root_certificate()], allow_fetching=False, revocation_mode="soft-fail"
    )
    with path.open("rb") as f:
        signatures = PdfFileReader(f).embedded_signatures
        assert len(signatures) == 1
        return validate_pdf_signature(signatures[0], signer_validation_context=context)


def _flip_a_signed_byte(source: Path, out: Path) -> None:
    """A copy of `source` with one byte of its first content stream changed: a byte the
    signature covers, in data no PDF reader parses (so the file still opens)."""
    data = bytearray(source.read_bytes())
    with source.open("rb") as f:
        first_range_end = int(PdfFileReader(f).embedded_signatures[0].sig_object["/ByteRange"][1])
    position = data.index(b"stream\n", data.index(b"/Length")) + len(b"stream\n") + 10
    assert position < first_range_end  # inside the signed bytes
    data[position] ^= 0x01
    out.write_bytes(bytes(data))


def test_a_copy_digitized_with_a_token_carries_a_valid_signature(
    svc: Services, tmp_path: Path, token: SigningToken
) -> None:
    svc.settings.sign_pkcs11_module = SOFTHSM_MODULE
    svc.settings.sign_pkcs11_token = TOKEN_LABEL
    svc.settings.sign_pkcs11_key = KEY_LABEL
    svc.settings.sign_pkcs11_pin = SecretStr(TOKEN_PIN)
    specs = all_specs(generated=10)
    pdfs = [
        write_digital_pdf(tmp_path / f"{i}.pdf", s, max_pages=1).path
        for i, s in enumerate(specs[:2])
    ]
    with serving(svc, tmp_path, eager=True), TestClient(app, headers=bearer(svc)) as client:

        def upload(path: Path) -> dict:  # type: ignore[type-arg]  # the record's JSON
            sent = [("files", (path.name, path.read_bytes(), "application/pdf"))]
            answer = client.post("/api/v1/batches", files=sent, data={"unit": WARD})
            assert answer.status_code == 202, answer.text
            record_id = answer.json()["entries"][0]["record_id"]
            return client.get(f"/api/v1/records/{record_id}").json()

        signed = upload(pdfs[0])
        assert signed["status"] == "digitized", signed.get("review")
        # the body's name comes from the certificate on the token (no SOHOA_SIGN_NAME)
        assert signed["archive"]["signed_by"] == BODY
        assert signed["archive"]["signed_at"].endswith("+07:00")
        served = client.get(f"/api/v1/records/{signed['id']}/pdf")
        assert served.status_code == 200

        # what a client downloads is the copy in storage, and pyHanko trusts it
        copy = tmp_path / "signed.pdf"
        copy.write_bytes(served.content)
        assert copy.read_bytes() == svc.objects.get_bytes(f"records/{signed['id']}/searchable.pdf")
        status = _validate(copy, token.pki)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.coverage.name == "ENTIRE_FILE"
        assert pdfa_problems(copy) == []

        modified = tmp_path / "modified.pdf"
        _flip_a_signed_byte(copy, modified)
        broken = _validate(modified, token.pki)
        assert not broken.intact and not broken.bottom_line

        # a token that refuses the PIN: the copy is published unsigned, a person is told why
        svc.settings.sign_pkcs11_pin = SecretStr("000000")
        unsigned = upload(pdfs[1])
    assert unsigned["status"] == "needs_review"
    reasons = {r["code"]: r["detail"] for r in unsigned["review"]}
    assert "signing_token_unavailable" in reasons["not_signed"]
    assert not (unsigned["archive"] or {}).get("signed_by")
    with unit_of_work(svc.sessions) as session:
        row = session.get(DocumentRow, unsigned["id"])
        assert row is not None and row.status == "needs_review"
    stored = svc.objects.get_bytes(f"records/{unsigned['id']}/searchable.pdf")
    assert b"/ByteRange" not in stored
