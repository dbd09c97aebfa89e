"""Retry timing: exponential back-off with full jitter, capped (AWS architecture blog's "full jitter")."""

from __future__ import annotations

import random


class Backoff:
    """Delays for successive retries of one piece of work; ``reset`` after a success."""

    def __init__(self, initial_secs: float, max_secs: float, rng: random.Random | None = None) -> None:
        if initial_secs <= 0 or max_secs < initial_secs:
            raise ValueError("need 0 < initial_secs <= max_secs")
        self.initial_secs = initial_secs
        self.max_secs = max_secs
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """A uniform draw from [0, min(max, initial * 2**attempt)]; each call counts an attempt."""
        ceiling = min(self.max_secs, self.initial_secs * (2 ** min(self.attempt, 62)))
        self.attempt += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempt = 0
