"""The OCR queue shared between units: a document's message priority grows with how many of
its unit's documents already wait, so one ward's 2,000 files do not hold back another ward's
ten.

Redis serves priority 0 first (then 1, …, 9); the k-th waiting document of a unit gets level
about log2(k): a unit's first document is level 0, its 3rd–4th level 2, its 257th–512th and
beyond level 9. The embedded filesystem broker ignores priorities (one machine, one queue).
"""

from __future__ import annotations

import logging

from store import unit_of_work
from store.records.documents import unit_backlog
from store.services import Services
from worker.app import LEVELS

log = logging.getLogger(__name__)

#: when the backlog cannot be read, a document waits among the big uploads, not ahead of all
UNKNOWN = 5


def level_for_backlog(waiting: int) -> int:
    """The priority of a unit's document when `waiting` of its documents are queued (itself
    included)."""
    return min(LEVELS[-1], max(0, waiting - 1).bit_length())


def fair_priority(svc: Services, document_id: str) -> int:
    try:
        with unit_of_work(svc.sessions) as session:
            return level_for_backlog(unit_backlog(session, document_id))
    except Exception as exc:  # the send itself matters more than its place in the queue
        log.warning("cannot count the backlog of %s's unit: %s", document_id, exc)
        return UNKNOWN
