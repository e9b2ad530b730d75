"""After a send to the broker fails, further sends are skipped for a few seconds: an upload
of 500 files while Redis is down then costs one failed send, not 500 times Celery's retries.
What is skipped is in the database; the reconciler sends it once the broker is back."""

from __future__ import annotations

import threading
import time

#: seconds during which sends are skipped after one failed
PAUSE = 10.0

_lock = threading.Lock()
_closed_until = 0.0


def open_now() -> bool:
    with _lock:
        return time.monotonic() >= _closed_until


def failed() -> None:
    global _closed_until
    with _lock:
        _closed_until = time.monotonic() + PAUSE


def reset() -> None:
    global _closed_until
    with _lock:
        _closed_until = 0.0
