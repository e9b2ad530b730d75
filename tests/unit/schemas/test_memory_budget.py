"""The memory one worker may use, and the pixels that allows a page."""

from __future__ import annotations

from pathlib import Path

from schemas.memory import (
    BASE_BYTES,
    DEFAULT_MB,
    MIN_PIXELS,
    cgroup_limit,
    pixel_budget,
    worker_memory_bytes,
)
from schemas.settings import Settings, page_pixel_budget


def test_the_limit_comes_from_the_setting_then_the_cgroup(tmp_path: Path) -> None:
    v2, v1 = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    assert cgroup_limit((v2, v1)) is None  # neither file: no container limit
    v2.write_text("max\n")  # cgroup v2 without a limit
    v1.write_text(f"{2**63 - 4096}\n")  # cgroup v1 says "none" with a huge number
    assert cgroup_limit((v2, v1)) is None
    assert worker_memory_bytes(None, (v2, v1)) == DEFAULT_MB * 2**20
    v2.write_text(f"{1024 * 2**20}\n")
    assert worker_memory_bytes(None, (v2, v1)) == 1024 * 2**20
    assert worker_memory_bytes(2048, (v2, v1)) == 2048 * 2**20  # the setting wins


def test_the_budget_follows_memory_within_bounds() -> None:
    big = pixel_budget(1536 * 2**20, 250_000_000)
    assert 100_000_000 < big < 130_000_000  # a 15,000² image (225 Mpx) does not fit
    assert pixel_budget(BASE_BYTES, 250_000_000) == MIN_PIXELS  # an A4 page always does
    assert pixel_budget(64 * 2**30, 250_000_000) == 250_000_000  # never above the setting
    settings = Settings(worker_memory_mb=1536, max_image_pixels=250_000_000)
    assert page_pixel_budget(settings) == big
