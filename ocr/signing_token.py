"""A signing key on a PKCS#11 token (a USB token of a Vietnamese CA, an HSM, SoftHSM2)."""

from __future__ import annotations

import contextlib

import pkcs11
from pkcs11 import PKCS11Error
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.general import SigningError as HankoSigningError
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

from ocr.signing import SigningError
from schemas.deliverable_errors import DeliverableErrorCode
from schemas.settings import Settings


def open_token_signer(
    settings: Settings,
) -> tuple[PKCS11Signer, contextlib.closing[pkcs11.Session]]:
    """A signer on the configured token with its key and certificate found, and the session
    to close when done. Every failure (library, token, PIN, key, certificate) is a
    `signing_token_unavailable` SigningError that says which."""
    if not settings.sign_pkcs11_key:
        raise SigningError(
            DeliverableErrorCode.signing_misconfigured,
            "SOHOA_SIGN_PKCS11_KEY (the label of the key on the token) is not set",
        )
    pin = settings.sign_pkcs11_pin.get_secret_value() if settings.sign_pkcs11_pin else None
    criteria = TokenCriteria(label=settings.sign_pkcs11_token or None)
    module = str(settings.sign_pkcs11_module)
    try:
        session = open_pkcs11_session(module, token_criteria=criteria, user_pin=pin)
    except (OSError, RuntimeError, PKCS11Error, pkcs11.PKCS11Error) as exc:
        raise _unavailable(f"{module}: {type(exc).__name__} {exc}".strip()) from exc
    closing = contextlib.closing(session)
    signer = PKCS11Signer(
        session,
        key_label=settings.sign_pkcs11_key,
        cert_label=settings.sign_pkcs11_cert or settings.sign_pkcs11_key,
    )
    try:
        _ = signer.signing_cert  # finds the key and the certificate now, not at first signature
    except (PKCS11Error, HankoSigningError, pkcs11.PKCS11Error) as exc:
        closing.__exit__(None, None, None)
        raise _unavailable(f"{type(exc).__name__} {exc}".strip()) from exc
    return signer, closing


def _unavailable(why: str) -> SigningError:
    return SigningError(DeliverableErrorCode.signing_token_unavailable, why)
