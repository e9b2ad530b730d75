"""A worker process's memory, capped: a file that would need more fails, the worker lives.

The cap is the process's address space (RLIMIT_AS), set when a worker process starts, at
`SOHOA_WORKER_MEMORY_MB` (default: the container's cgroup limit, else 1536 MiB). An
allocation beyond it raises MemoryError in Python, which fails that page as
`image_too_large`; Tesseract, started by the process, inherits the cap and fails its page
the same way. RLIMIT_AS rather than watching the cgroup: it acts at the allocation that
would cross it, in this process only, before the kernel's OOM killer picks a victim (which
would take the whole worker and redeliver the file to the next one).
"""

from __future__ import annotations

import logging
import resource

from schemas.memory import worker_memory_bytes
from schemas.settings import Settings

log = logging.getLogger(__name__)


def cap_memory(settings: Settings) -> int | None:
    """Cap this process's address space; the cap in bytes, or None when it could not be
    set (a hard limit already lower, or a platform without RLIMIT_AS)."""
    limit = worker_memory_bytes(settings.worker_memory_mb)
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY and hard < limit:
            limit = hard
        if soft != resource.RLIM_INFINITY and soft <= limit:
            return soft  # already as strict or stricter
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError, AttributeError) as exc:
        log.warning("worker memory cap not set: %s", exc)
        return None
    return limit
