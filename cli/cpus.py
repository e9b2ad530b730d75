"""How many processes this machine's share of CPUs is worth.

`os.cpu_count()` counts the node's cores: in a container limited to one CPU on a 32-core node
it says 32, and a server starting a process per core would start 32, each with its own pool of
database connections. What a process may really use is its CPU affinity (`taskset`, cpusets)
capped by the cgroup's CPU quota (a Kubernetes `limits.cpu`, `docker run --cpus`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (1.5 for `--cpus 1.5`), or None when
    there is none or it cannot be read. cgroup v2 (`cpu.max`), then v1 (`cpu.cfs_*`)."""
    try:
        quota, _, period = (root / "cpu.max").read_text().partition(" ")
        if quota.strip() == "max":
            return None
        return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def usable_cpus(root: Path = CGROUP) -> int:
    """CPUs this process may use: its affinity, capped by the cgroup quota rounded up; at
    least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        count = min(count, math.ceil(limit))
    return max(1, count)
