"""The digital signatures of an uploaded PDF, read with pyHanko, never trusted blindly.

For every signature field: who signed (the certificate's common name and organisation), who
issued the certificate, when (the signer's claim, or a time-stamping authority's token), what
the signature covers (the whole file, or an earlier revision with later additions), whether
the signed bytes still hash to what was signed, and whether the file was changed afterwards
beyond what signing and form filling allow. Nothing is fetched from the network (no OCSP,
CRL or AIA): a chain is judged only against roots the operator configured
(`SOHOA_TRUSTED_ROOTS`), and without them the trust is `not_checked`, never valid.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from schemas.record import Signature, SignatureCoverage, SignatureTrust
from schemas.review import ReviewCode, ReviewReason

log = logging.getLogger(__name__)

#: signatures examined in one file: an e-office file carries a few, a hostile one thousands
MAX_SIGNATURES = 32
#: a certificate folder holds PEM files; larger files are not certificates
_MAX_PEM_BYTES = 1 << 20
_QUIET = ("pyhanko", "pyhanko_certvalidator")


def load_trusted_roots(folder: Path | None) -> list[Any]:
    """The certificates (asn1crypto) of every PEM or DER file in `folder`; unreadable files
    are skipped with a warning, so one bad file does not void the others."""
    if folder is None:
        return []
    from asn1crypto import pem, x509

    roots = []
    for path in sorted(folder.glob("*")):
        if not path.is_file() or path.stat().st_size > _MAX_PEM_BYTES:
            continue
        data = path.read_bytes()
        try:
            blocks = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(
                data
            ) else [data]  # fmt: skip
            for der in blocks:
                cert = x509.Certificate.load(der)
                cert.native  # noqa: B018 — parse now: a broken one fails here, not later
                roots.append(cert)
        except (ValueError, TypeError) as exc:
            log.warning("trusted root %s is not a certificate: %s", path.name, exc)
    return roots


@contextmanager
def _quiet() -> Iterator[None]:
    """pyHanko logs every chain it cannot build (always, without roots) with a traceback."""
    loggers = [logging.getLogger(name) for name in _QUIET]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def read_signatures(path: Path, trusted_roots: Sequence[Any] = ()) -> list[Signature]:
    """One `Signature` per signature field of the PDF at `path`; [] for a file with none.

    A file whose signature structure cannot be read at all gives one Signature with its
    `problem`; each signature that cannot be checked is recorded as what it is.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not _has_signature_fields(path):
        return []  # pyHanko reads the whole cross-reference: not for the many unsigned files
    found: list[Signature] = []
    with _quiet(), path.open("rb") as handle:
        try:
            reader = PdfFileReader(handle, strict=False)
            embedded = list(reader.embedded_signatures)
        except (PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            return [Signature(intact=None, problem=f"signatures cannot be read: {exc}"[:500])]
        for sig in embedded[:MAX_SIGNATURES]:
            found.append(_read_one(sig, trusted_roots))
        if len(embedded) > MAX_SIGNATURES:
            found.append(
                Signature(problem=f"{len(embedded) - MAX_SIGNATURES} more signatures not checked")
            )
    return found


def _has_signature_fields(path: Path) -> bool:
    """Whether the form has a signature field (fields nested under /Kids included)."""
    try:
        import pikepdf

        with pikepdf.open(path) as pdf:
            form = pdf.Root.get("/AcroForm")
            pending = list(form.get("/Fields", [])) if form is not None else []
            seen = 0
            while pending and seen < 10_000:  # bounded: a hostile form can nest forever
                field = pending.pop()
                seen += 1
                if not isinstance(field, pikepdf.Dictionary):
                    continue
                if str(field.get("/FT", "")) == "/Sig":
                    return True
                pending.extend(field.get("/Kids", []))
            return False
    except Exception:  # a file pikepdf cannot open has no fields it can tell of
        return False


def _read_one(sig: Any, trusted_roots: Sequence[Any]) -> Signature:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    field = _text(getattr(sig, "field_name", None))
    values: dict[str, Any] = {"field": field}
    try:
        cert = sig.signer_cert
        subject = cert.subject.native
        values["signer"] = _text(subject.get("common_name"))
        values["organization"] = _text(subject.get("organization_name"))
        values["certificate_issuer"] = _text(cert.issuer.native.get("common_name"))
    except Exception as exc:  # a certificate that does not parse is recorded as such
        return Signature(field=field, problem=f"the certificate cannot be read: {exc}"[:500])
    values["signed_at"] = _claimed_time(sig)
    context = ValidationContext(
        trust_roots=list(trusted_roots), allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = validate_pdf_signature(sig, context)
    except (SignatureValidationError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return Signature(**values, intact=False, problem=f"cannot be checked: {exc}"[:500])
    timestamp = getattr(status, "timestamp_validity", None)
    if timestamp is not None and getattr(timestamp, "timestamp", None) is not None:
        values["signed_at"] = timestamp.timestamp
        values["timestamped"] = True
    values["coverage"] = _coverage(status.coverage)
    values["intact"] = bool(status.intact)
    level = getattr(status, "modification_level", None)
    values["modified_after"] = level is not None and level.name == "OTHER"
    values["trust"] = _trust(status, trusted_roots)
    problems = []
    if not status.intact:
        problems.append("the signed bytes were changed")
    elif not status.valid:
        problems.append("the signature does not verify (or uses a disallowed algorithm)")
    if values["modified_after"]:
        problems.append("the file was changed after signing beyond what signing allows")
    return Signature(**values, problem="; ".join(problems) or None)


def _claimed_time(sig: Any) -> datetime | None:
    try:
        value = sig.self_reported_timestamp
    except Exception:  # an unparsable signing-time attribute: no claimed time
        return None
    return value if isinstance(value, datetime) else None


def _coverage(level: Any) -> SignatureCoverage:
    name = getattr(level, "name", "")
    if name == "ENTIRE_FILE":
        return "whole_file"
    if name == "ENTIRE_REVISION":
        return "earlier_revision"
    return "unclear"


def _trust(status: Any, trusted_roots: Sequence[Any]) -> SignatureTrust:
    if not trusted_roots:
        return "not_checked"
    return "trusted" if status.trusted else "untrusted"


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = " ".join(str(value).split())
    return text[:300] or None


def signature_reasons(signatures: Sequence[Signature]) -> list[ReviewReason]:
    """Why signatures send a record to review: signed bytes changed, the file changed after
    signing, or a signature that cannot be read at all. A signature that is merely not
    trusted (no roots configured) or uses an old algorithm is recorded, not reviewed."""
    reasons = []
    for sig in signatures:
        where = sig.field or sig.signer
        if sig.intact is False or sig.modified_after:
            reasons.append(
                ReviewReason(code=ReviewCode.signature_modified, field="signatures",
                             detail=f"{where}: {sig.problem}" if where else sig.problem)
            )  # fmt: skip
        elif sig.intact is None and sig.problem:
            reasons.append(
                ReviewReason(code=ReviewCode.signature_unreadable, field="signatures",
                             detail=f"{where}: {sig.problem}" if where else sig.problem)
            )  # fmt: skip
    return reasons
