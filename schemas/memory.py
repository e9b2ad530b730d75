"""How much memory one worker process may use, and what that allows a page to be.

The bound comes from `SOHOA_WORKER_MEMORY_MB` when set, else from the container's cgroup
limit (`memory.max`), else 1536 MiB (the Kubernetes worker's limit). A page is never
rendered, decoded or given to Tesseract beyond the pixels that bound allows: measured on a
15,000² PNG, a page costs about ten bytes a pixel across the worker (decoding, grey copy,
preprocessing arrays) and Tesseract together, over a base of about 400 MB (Python, pdfium,
the handwriting model).
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_MB = 1536
#: what a worker holds before any page: the interpreter, libraries, the recognizer's model
BASE_BYTES = 400 * 2**20
#: bytes a page pixel costs, the worker and Tesseract together
BYTES_PER_PIXEL = 10
#: never below this: an A4 page at 300 dpi must always be readable
MIN_PIXELS = 12_000_000
_CGROUP_FILES = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def cgroup_limit(files: tuple[Path, ...] = _CGROUP_FILES) -> int | None:
    """The container's memory limit in bytes, None when there is none."""
    for path in files:
        try:
            value = path.read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 2**60:  # cgroup v1 says "no limit" with 2**63
            return int(value)
    return None


def worker_memory_bytes(setting_mb: int | None, files: tuple[Path, ...] = _CGROUP_FILES) -> int:
    if setting_mb:
        return setting_mb * 2**20
    return cgroup_limit(files) or DEFAULT_MB * 2**20


def pixel_budget(memory_bytes: int, max_image_pixels: int) -> int:
    """The most pixels one page may have in a worker with `memory_bytes`."""
    fits = (memory_bytes - BASE_BYTES) // BYTES_PER_PIXEL
    return int(min(max_image_pixels, max(MIN_PIXELS, fits)))
