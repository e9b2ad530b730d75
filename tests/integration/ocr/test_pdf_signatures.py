"""Digital signatures of uploaded PDFs read offline with pyHanko: who, when, what they cover,
intact or not, trust only against configured roots; damaged signatures recorded as what they
are, the document still read."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from ocr.pdfsignatures import load_trusted_roots, read_signatures, signature_reasons
from schemas.review import ReviewCode
from tests.data.eoffice import write_eoffice_pdf
from tests.data.specs import get_spec
from tests.pki import PASSWORD, Pki, make_pki

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signed(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An e-office công văn signed by the issuer in a field of its own."""
    folder = tmp_path_factory.mktemp("signed")
    write_eoffice_pdf(folder / "plain.pdf", get_spec("cv-12-ubnd-vx"))
    signer = signers.SimpleSigner.load_pkcs12(pki.pkcs12, passphrase=PASSWORD.encode())
    assert signer is not None
    out = folder / "signed.pdf"
    with (folder / "plain.pdf").open("rb") as src, out.open("wb") as dst:
        writer = IncrementalPdfFileWriter(src)
        fields.append_signature_field(writer, fields.SigFieldSpec("ChuKyBanHanh", box=None))
        signers.sign_pdf(
            writer,
            signers.PdfSignatureMetadata(field_name="ChuKyBanHanh"),
            signer=signer,
            output=dst,
        )
    return out


def _roots(pki: Pki, tmp_path: Path) -> list[object]:
    folder = tmp_path / "roots"
    folder.mkdir()
    shutil.copy(pki.root, folder / "root.pem")
    (folder / "notes.txt").write_text("không phải chứng thư", encoding="utf-8")
    return load_trusted_roots(folder)


def test_a_signature_is_read_and_not_trusted_without_roots(signed: Path) -> None:
    found = read_signatures(signed)
    assert len(found) == 1
    sig = found[0]
    assert sig.field == "ChuKyBanHanh" and sig.signer and sig.signed_at is not None
    assert sig.intact is True and sig.coverage == "whole_file" and not sig.modified_after
    assert sig.trust == "not_checked" and sig.problem is None
    assert signature_reasons(found) == []


def test_trust_only_from_configured_roots(signed: Path, pki: Pki, tmp_path: Path) -> None:
    roots = _roots(pki, tmp_path)
    assert len(roots) == 1  # the text file is skipped
    assert read_signatures(signed, roots)[0].trust == "trusted"
    other = make_pki(tmp_path / "other")
    assert read_signatures(signed, load_trusted_roots(other.root.parent))[0].trust == "untrusted"


def test_a_changed_byte_is_flagged_and_sends_to_review(signed: Path, tmp_path: Path) -> None:
    data = bytearray(signed.read_bytes())
    at = data.index(b"/KH-UBND") if b"/KH-UBND" in data else data.index(b"stream") + 40
    data[at + 1] ^= 0x01
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(data))
    found = read_signatures(changed)
    assert found and found[0].intact is False and found[0].problem
    assert [r.code for r in signature_reasons(found)] == [ReviewCode.signature_modified]


def test_a_byte_range_that_lies_is_not_intact(signed: Path, tmp_path: Path) -> None:
    data = signed.read_bytes()
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert match
    first_len = match.group(2)
    shorter = str(int(first_len) - 10).rjust(len(first_len)).encode()
    lying = data[: match.start(2)] + shorter + data[match.end(2) :]
    path = tmp_path / "lying.pdf"
    path.write_bytes(lying)
    found = read_signatures(path)
    assert len(found) == 1 and (found[0].intact is not True or found[0].problem)
    assert signature_reasons(found)


def test_damaged_signatures_are_recorded_not_fatal(signed: Path, tmp_path: Path) -> None:
    data = signed.read_bytes()
    contents = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", data)
    assert contents
    garbage = data[: contents.start(1)] + b"0" * len(contents.group(1)) + data[contents.end(1) :]
    broken = tmp_path / "no-cms.pdf"
    broken.write_bytes(garbage)
    found = read_signatures(broken)
    assert len(found) == 1 and found[0].problem and found[0].intact is not True
    assert signature_reasons(found)

    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    for sig in read_signatures(truncated):  # whatever is left is recorded, nothing raises
        assert sig.problem or sig.intact is not True


def test_a_file_without_signatures_has_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.pdf"
    write_eoffice_pdf(path, get_spec("kh-251-ubnd"))  # unsigned signature fields only
    assert read_signatures(path) == []


def test_the_record_carries_the_signatures(signed: Path, tmp_path: Path) -> None:
    import json

    from schemas import Record
    from tests.integration.cli.test_cli import sohoa

    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(signed, inbox / "cong-van.pdf")
    data = bytearray(signed.read_bytes())
    data[data.index(b"stream") + 40] ^= 0x01
    (inbox / "sua-sau-khi-ky.pdf").write_bytes(bytes(data))
    work = tmp_path / "work"
    work.mkdir()
    done = sohoa(["digitize", str(inbox), "--out", "out"], work)
    assert done.returncode in (0, 3), done.stderr
    records = {
        name: Record.model_validate(json.loads((work / "out" / f"{name}.json").read_text()))
        for name in ("cong-van.pdf", "sua-sau-khi-ky.pdf")
    }
    good = records["cong-van.pdf"]
    assert [s.field for s in good.signatures] == ["ChuKyBanHanh"]
    assert good.signatures[0].intact and good.signatures[0].trust == "not_checked"
    assert good.document.number == "12/UBND-VX"
    changed = records["sua-sau-khi-ky.pdf"]
    assert changed.status.value == "needs_review"
    assert changed.signatures[0].intact is False
    assert ReviewCode.signature_modified in {r.code for r in changed.review}
