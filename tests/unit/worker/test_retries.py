"""The worker's one retry policy."""

from __future__ import annotations

import random

from worker.retries import backoff_seconds


def test_each_wait_lies_between_half_and_all_of_its_doubling_ceiling() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(300.0, 2.0 * 2 ** (attempt - 1))
        waits = [backoff_seconds(attempt, base=2.0, cap=300.0, rng=rng) for _ in range(300)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # spread, not one fixed value


def test_a_wait_is_never_shorter_than_the_longest_wait_before_it() -> None:
    for attempt in range(2, 10):
        shortest_now = 10.0 * 2 ** (attempt - 1) / 2
        longest_before = 10.0 * 2 ** (attempt - 2)
        assert shortest_now >= longest_before
        assert backoff_seconds(attempt, base=10.0, cap=1e9, rng=random.Random(0)) >= (shortest_now)


def test_nonsense_attempts_give_a_sane_wait() -> None:
    assert 0.5 <= backoff_seconds(0, base=1.0, cap=60.0) <= 1.0
    assert 0.5 <= backoff_seconds(-3, base=1.0, cap=60.0) <= 1.0
    assert backoff_seconds(500, base=1.0, cap=60.0) <= 60.0
