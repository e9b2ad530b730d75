"""The digitizing body's signature on every searchable PDF a worker publishes (Decree
30/2020 Appendix I, Circular 05/2025 Art. 8).

The key is loaded once per process and kept: a token's session stays open between
documents, and a PKCS#12 file is not parsed again for each one. A change of the signing
settings (tests) loads the key again.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path

from ocr.signing import AppliedSignature, DigitizingBodySigner
from ocr.signing_keys import load_signer
from schemas.settings import Settings

_lock = threading.Lock()
_loaded: tuple[tuple[object, ...], DigitizingBodySigner] | None = None


def _key_of(settings: Settings) -> tuple[object, ...]:
    return tuple(
        getattr(settings, name) for name in Settings.model_fields if name.startswith("sign_")
    )


def _signer(settings: Settings) -> DigitizingBodySigner | None:
    global _loaded
    key = _key_of(settings)
    with _lock:
        if _loaded is not None and _loaded[0] == key:
            return _loaded[1]
        if _loaded is not None:
            _loaded[1].close()
            _loaded = None
        signer = load_signer(settings)  # SigningError when the key cannot be used
        if signer is not None:
            _loaded = (key, signer)
        return signer


def sign_copy(settings: Settings, source: Path, out: Path) -> AppliedSignature | None:
    """Sign the PDF/A `source` into `out` in the digitizing body's name; None when no key is
    configured. Raises ocr.signing.SigningError when the key or the file does not allow it."""
    signer = _signer(settings)
    return signer.sign(source, out) if signer is not None else None


@atexit.register
def _close() -> None:
    global _loaded
    if _loaded is not None:
        _loaded[1].close()
        _loaded = None
