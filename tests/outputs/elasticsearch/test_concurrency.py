"""ConcurrencyController (AIMD on RTT and back-pressure) and ConcurrencyLimiter."""

from __future__ import annotations

import asyncio

from logferry.outputs.elasticsearch.concurrency import (
    ConcurrencyController,
    ConcurrencyLimiter,
)


def _steady(c: ConcurrencyController, windows: int, rtt: float = 0.1, start: float = 0.0) -> float:
    now = start
    for _ in range(windows):
        c.note_in_flight(c.limit)
        now += rtt
        c.observe(now, rtt, back_pressure=False)
    return now


class TestConcurrencyController:
    def test_grows_while_latency_is_steady(self) -> None:
        """With steady RTTs and a full limit the limit climbs by one per window up to the maximum."""
        c = ConcurrencyController(8)
        _steady(c, 3)
        assert c.limit == 4
        _steady(c, 20, start=1.0)
        assert c.limit == 8

    def test_cut_on_back_pressure(self) -> None:
        """A 429 in a window multiplies the limit by 0.9 (floored, at least 1)."""
        c = ConcurrencyController(50)
        now = _steady(c, 29)
        assert c.limit == 30
        c.observe(now + 0.1, 0.1, back_pressure=True)
        assert c.limit == 27

    def test_cut_on_latency_spike(self) -> None:
        """A window whose RTT is far above the baseline lowers the limit."""
        c = ConcurrencyController(50)
        now = _steady(c, 10)
        before = c.limit
        c.observe(now + 2.0, 2.0, back_pressure=False)
        assert c.limit < before

    def test_no_growth_when_limit_not_reached(self) -> None:
        """If requests never queued against the limit, it stays where it is."""
        c = ConcurrencyController(8)
        c.observe(0.1, 0.1, False)
        c.observe(0.3, 0.1, False)
        assert c.limit == 1

    def test_fixed_when_not_adaptive(self) -> None:
        """adaptive=False pins the limit at the configured maximum."""
        c = ConcurrencyController(6, adaptive=False)
        c.observe(1.0, 1.0, back_pressure=True)
        assert c.limit == 6


class TestConcurrencyLimiter:
    async def test_waits_for_a_free_slot(self) -> None:
        """A second acquire under limit 1 waits until the first slot is released."""
        lim = ConcurrencyLimiter(ConcurrencyController(1, adaptive=False))
        t0 = await lim.acquire()
        second = asyncio.ensure_future(lim.acquire())
        await asyncio.sleep(0)
        assert not second.done()
        lim.release(t0, back_pressure=False)
        await asyncio.wait_for(second, 1)
        assert lim.in_flight == 1
