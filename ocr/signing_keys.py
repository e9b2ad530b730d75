"""The digitizing body's key, from a PKCS#12 file or a PKCS#11 token, as the settings say.

`load_signer` returns None when no key is configured (nothing is signed, and the caller can
say so), a ready `DigitizingBodySigner` otherwise, or raises `SigningError` with a code that
tells a missing file, an unreadable one and a wrong password apart.
"""

from __future__ import annotations

from pathlib import Path

from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps import HTTPTimeStamper

from ocr.signing import DigitizingBodySigner, SigningError
from schemas.deliverable_errors import DeliverableErrorCode
from schemas.settings import Settings

_TSA_TIMEOUT = 20  # seconds; a TSA on the office network answers in well under one


def load_signer(settings: Settings) -> DigitizingBodySigner | None:
    """The configured key, ready to sign; None when none is configured."""
    if settings.sign_pkcs12 is not None and settings.sign_pkcs11_module is not None:
        raise SigningError(
            DeliverableErrorCode.signing_misconfigured,
            "both SOHOA_SIGN_PKCS12 and SOHOA_SIGN_PKCS11_MODULE are set: choose one",
        )
    timestamper = (
        HTTPTimeStamper(settings.sign_tsa_url, timeout=_TSA_TIMEOUT)
        if settings.sign_tsa_url
        else None
    )
    if settings.sign_pkcs12 is not None:
        password = settings.sign_password.get_secret_value() if settings.sign_password else None
        simple = _pkcs12_signer(settings.sign_pkcs12, password)
        return DigitizingBodySigner(simple, _body(settings, simple.signing_cert), timestamper)
    if settings.sign_pkcs11_module is not None:
        from ocr.signing_token import open_token_signer  # python-pkcs11 loads only for tokens

        signer, session = open_token_signer(settings)
        try:
            body = _body(settings, signer.signing_cert)
        except BaseException:
            session.__exit__(None, None, None)
            raise
        return DigitizingBodySigner(signer, body, timestamper, on_close=session)
    return None


def _pkcs12_signer(path: Path, password: str | None) -> SimpleSigner:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise SigningError(
            DeliverableErrorCode.signing_key_missing, f"{path}: no such file"
        ) from exc
    except OSError as exc:
        raise SigningError(DeliverableErrorCode.signing_key_unreadable, f"{path}: {exc}") from exc
    secret = password.encode("utf-8") if password is not None else None
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
    except ValueError as exc:
        # cryptography says the same for both: tell them apart by the file's own structure
        if _is_pkcs12(data):
            raise SigningError(
                DeliverableErrorCode.signing_wrong_password, f"{path}: wrong password"
            ) from exc
        raise SigningError(
            DeliverableErrorCode.signing_key_unreadable, f"{path}: not a PKCS#12 file"
        ) from exc
    if key is None or cert is None:
        raise SigningError(
            DeliverableErrorCode.signing_key_unreadable,
            f"{path}: holds no private key and certificate",
        )
    signer: SimpleSigner = SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=secret)
    return signer


def _is_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return bool(
            pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native == "data"
        )
    except (ValueError, TypeError, KeyError):
        return False


def _body(settings: Settings, cert: x509.Certificate) -> str:
    """The name shown: the setting, else the certificate's organisation, else its name."""
    if settings.sign_name:
        return settings.sign_name
    subject = cert.subject.native
    return subject.get("organization_name") or subject.get("common_name") or "?"
