"""The worker's one retry policy: how long to wait before trying again.

Exponential with "equal jitter": the n-th wait lies between half and all of
base·2^(n-1), capped. The jitter spreads senders that failed together (a receiver or the
storage coming back from an outage is not hit by all of them at once); the half that is
kept makes each wait at least as long as the previous one could have been.
Used by the pipeline's tasks (infrastructure errors) and by webhook deliveries; the CLI's
uploader, a separate program, waits through tenacity's `wait_exponential_jitter`.
"""

from __future__ import annotations

import random


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after the `attempt`-th failure (1 for the first; less counts as 1)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling * (rng or random).uniform(0.5, 1.0)
