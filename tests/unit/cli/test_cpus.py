"""Processes per CPU this process may use: affinity capped by the cgroup quota."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli.cpus import cgroup_cpu_limit, usable_cpus


def _v2(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cpu.max").write_text(text)
    return root


def _v1(root: Path, quota: int, period: int) -> Path:
    (root / "cpu").mkdir(parents=True, exist_ok=True)
    (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


def test_cgroup_v2_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(_v2(tmp_path / "a", "150000 100000\n")) == 1.5
    assert cgroup_cpu_limit(_v2(tmp_path / "b", "max 100000\n")) is None
    assert cgroup_cpu_limit(_v2(tmp_path / "c", "garbage")) is None


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(_v1(tmp_path / "a", 50000, 100000)) == 0.5
    assert cgroup_cpu_limit(_v1(tmp_path / "b", -1, 100000)) is None
    assert cgroup_cpu_limit(tmp_path / "none") is None


def test_a_pod_limited_to_one_cpu_on_a_big_node_starts_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(32)))
    assert usable_cpus(_v2(tmp_path / "one", "100000 100000")) == 1
    assert usable_cpus(_v2(tmp_path / "quarter", "25000 100000")) == 1
    assert usable_cpus(_v2(tmp_path / "one-and-half", "150000 100000")) == 2
    assert usable_cpus(_v2(tmp_path / "unlimited", "max 100000")) == 32
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {3})  # taskset -c 3
    assert usable_cpus(_v2(tmp_path / "four", "400000 100000")) == 1


def test_this_machine() -> None:
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
