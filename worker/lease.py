"""A worker's lease on the document it processes: renewed by a thread every third of
`SOHOA_LEASE_SECONDS`, so a killed worker's document is re-queued seconds after it died, while
a long page (Tesseract can take a minute) keeps its lease."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from store import unit_of_work
from store.records.documents import renew_lease
from store.services import Services

log = logging.getLogger(__name__)


def renew_every(svc: Services) -> float:
    return max(1.0, svc.settings.lease_seconds / 3)


@contextmanager
def keep_lease(svc: Services, document_id: str) -> Iterator[None]:
    """Renew the document's lease while the block runs (a failed renewal, e.g. the database
    restarting, is only logged: the next one may succeed, and if none does the lease expires
    as it should)."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(renew_every(svc)):
            try:
                with unit_of_work(svc.sessions) as session:
                    renew_lease(session, document_id)
            except Exception as exc:
                log.warning("cannot renew the lease of %s: %s", document_id, exc)

    thread = threading.Thread(target=renew, name=f"lease-{document_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
