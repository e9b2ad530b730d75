"""Readiness checks run at once, each in its own thread, answered within a deadline.

A check that does not finish in time is reported as `error: timeout`; its thread is left to
end on its client's own timeout. While it hangs, later probes of the same part do not start
another thread but report `error: timeout (still waiting)`: a probe every few seconds during
a storage freeze never piles up threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_busy: set[str] = set()
_lock = threading.Lock()


def _run(name: str, check: Callable[[], str], results: dict[str, str]) -> None:
    try:
        results[name] = check()
    except Exception as exc:
        results[name] = f"error: {type(exc).__name__}"
    finally:
        with _lock:
            _busy.discard(name)


def run_checks(checks: dict[str, Callable[[], str]], within: float) -> dict[str, str]:
    """Each check's answer (`ok`, `error: <kind>`…), all within `within` seconds."""
    results: dict[str, str] = {}
    threads: dict[str, threading.Thread] = {}
    for name, check in checks.items():
        with _lock:
            if name in _busy:
                results[name] = "error: timeout (still waiting)"
                continue
            _busy.add(name)
        thread = threading.Thread(
            target=_run, args=(name, check, results), name=f"ready-{name}", daemon=True
        )
        thread.start()
        threads[name] = thread
    deadline = time.monotonic() + within
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, "error: timeout") for name in checks}
