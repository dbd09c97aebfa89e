"""Adaptive request concurrency (AIMD), after Vector's ``adaptive_concurrency`` controller.

The limit starts at 1 and is reconsidered once per observation window (about one round-trip time):

* back-pressure in the window (a 429, per request or per item, or a failed request), or a window
  mean RTT above ``past mean + deviation_scale * past deviation`` (a latency spike) -> multiply the
  limit by ``decrease_ratio`` (at least 1);
* otherwise, if requests actually queued against the limit and the RTT is steady -> limit + 1,
  up to the configured maximum.

The RTT baseline is an EWMA of window means with an EWMA of absolute deviation; windows that saw
back-pressure do not feed it, so overload never becomes the new normal.
``ConcurrencyController`` is pure (time is passed in); ``ConcurrencyLimiter`` adds the waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable


class ConcurrencyController:
    def __init__(self, max_limit: int, *, adaptive: bool = True, initial: int = 1, decrease_ratio: float = 0.9,
                 ewma_alpha: float = 0.4, deviation_scale: float = 2.5) -> None:
        self.max_limit = max_limit
        self.adaptive = adaptive
        self.limit = min(max_limit, initial) if adaptive else max_limit
        self.decrease_ratio = decrease_ratio
        self.alpha = ewma_alpha
        self.deviation_scale = deviation_scale
        self.past_rtt: float | None = None
        self.past_dev = 0.0
        self._window_start: float | None = None
        self._window_sum = 0.0
        self._window_n = 0
        self._back_pressure = False
        self._reached_limit = False

    def note_in_flight(self, in_flight: int) -> None:
        """Called when a request starts: did we use the whole limit during this window?"""
        if in_flight >= self.limit:
            self._reached_limit = True

    def observe(self, now: float, rtt: float, back_pressure: bool) -> None:
        """One finished request (or failure, counted as back-pressure)."""
        if not self.adaptive:
            return
        if self._window_start is None:
            self._window_start = now - rtt
        self._window_sum += rtt
        self._window_n += 1
        self._back_pressure = self._back_pressure or back_pressure
        window = self.past_rtt if self.past_rtt is not None else rtt
        if now - self._window_start >= window - 1e-9:
            self._adjust()
            self._window_start = now
            self._window_sum = 0.0
            self._window_n = 0
            self._back_pressure = False
            self._reached_limit = False

    def _adjust(self) -> None:
        mean = self._window_sum / max(1, self._window_n)
        past = self.past_rtt
        spike = past is not None and mean > past + self.deviation_scale * self.past_dev + 0.001
        if self._back_pressure or spike:
            self.limit = max(1, math.floor(self.limit * self.decrease_ratio))
        elif self._reached_limit and self.limit < self.max_limit:
            self.limit += 1
        if not self._back_pressure:
            if past is None:
                self.past_rtt = mean
            else:
                self.past_dev = (1 - self.alpha) * self.past_dev + self.alpha * abs(mean - past)
                self.past_rtt = (1 - self.alpha) * past + self.alpha * mean


class ConcurrencyLimiter:
    """Waits for a free slot under the controller's current limit and reports finished requests to it.

    ``release`` is synchronous so it can run in a ``finally`` even while the task is being cancelled.
    """

    def __init__(self, controller: ConcurrencyController, clock: Callable[[], float] = time.monotonic) -> None:
        self.controller = controller
        self.in_flight = 0
        self._clock = clock
        self._waiters: list[asyncio.Future[None]] = []

    async def acquire(self) -> float:
        """Take a slot; returns the start time to pass to ``release``."""
        while self.in_flight >= self.controller.limit:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                if fut in self._waiters:
                    self._waiters.remove(fut)
        self.in_flight += 1
        self.controller.note_in_flight(self.in_flight)
        return self._clock()

    def release(self, started: float, back_pressure: bool) -> float:
        """Give the slot back; returns the request's round-trip time."""
        now = self._clock()
        rtt = now - started
        self.in_flight -= 1
        self.controller.observe(now, rtt, back_pressure)
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        return rtt
