"""Exponential backoff with jitter, for retries against an unreachable ledger."""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from ``base`` up to ``cap`` seconds, each drawn from the upper half of
    its range ("equal jitter"): hundreds of readers that lost the server at the same moment
    spread their retries out instead of all hitting it again at once when it comes back."""

    def __init__(self, base: float = 0.5, cap: float = 60.0, rng: random.Random | None = None):
        if not 0 < base <= cap:
            raise ValueError(f"backoff: need 0 < base ({base}) <= cap ({cap})")
        self.base, self.cap = base, cap
        self._rng = rng or random.Random()
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.failures = 0
