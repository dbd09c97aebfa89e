"""The throttle transform: per-key limits, byte budgets, drop counting and backpressure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from logferry.agent.config.common import ApiConfig
from logferry.agent.config.model import LoadedConfig
from logferry.agent.event import Batch
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.testing import CollectingOutput, CollectingOutputConfig, MemorySourceConfig
from logferry.agent.topology.builder import build_topology
from logferry.agent.topology.running import RunningTopology
from logferry.transforms.throttle import Throttle, ThrottleConfig
from tests.transforms.util import dropped


class TestDrop:
    def test_per_key_limit_per_window(self) -> None:
        """Each key gets `threshold` events per window, the excess counted as dropped; the budget refills next window."""
        now = [0.0]
        t = Throttle(ThrottleConfig(type="throttle", inputs=["x"], threshold=3, key_field="k"), clock=lambda: now[0])
        t.metrics = ComponentMetrics("throttle-per-key", "transform", "throttle")
        events = [{"k": "a"}] * 5 + [{"k": "b"}] * 2
        out = t.process(Batch.from_events([dict(e) for e in events]))
        assert out is not None and [e["k"] for e in out.events] == ["a", "a", "a", "b", "b"]
        assert dropped(t, "throttled") == 2
        now[0] = 1.5
        out = t.process(Batch.from_events([{"k": "a"}] * 4))
        assert out is not None and len(out.events) == 3
        assert dropped(t, "throttled") == 3

    def test_byte_budget(self) -> None:
        """threshold_bytes limits the message bytes let through per window."""
        t = Throttle(ThrottleConfig(type="throttle", inputs=["x"], threshold_bytes=10), clock=lambda: 0.0)
        out = t.process(Batch.from_events([{"message": "12345"}, {"message": "12345"}, {"message": "1"}]))
        assert out is not None and len(out.events) == 2
        # UTF-8 bytes, not characters: 4 characters of 2 bytes each leave room for 2 more bytes, not 6.
        t = Throttle(ThrottleConfig(type="throttle", inputs=["x"], threshold_bytes=10), clock=lambda: 0.0)
        out = t.process(Batch.from_events([{"message": "éééé"}, {"message": "abc"}, {"message": "ab"}]))
        assert out is not None and [e["message"] for e in out.events] == ["éééé", "ab"]

    def test_exactly_one_threshold(self) -> None:
        """Giving both or neither of threshold and threshold_bytes is a config error."""
        with pytest.raises(ValueError, match="exactly one"):
            ThrottleConfig(type="throttle", inputs=["x"])


class TestBackpressure:
    async def test_backpressure_delays_instead_of_dropping(self, tmp_path: Path) -> None:
        """In backpressure mode every event arrives, spread over windows, and the source waits."""
        CollectingOutput.instances.clear()
        cfg = LoadedConfig(
            path="t.yaml", data_dir=tmp_path, api=ApiConfig(enabled=False),
            sources={"src": MemorySourceConfig(type="memory", batches=6, events_per_batch=10)},
            transforms={"t": ThrottleConfig(type="throttle", inputs=["src"], threshold=20, window_secs=0.1,
                                            when_exceeded="backpressure")},
            outputs={"o": CollectingOutputConfig(type="collect", inputs=["t"])},
        )
        built = build_topology(cfg, once=True, host_name="h")
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with asyncio.timeout(20):
            async with asyncio.TaskGroup() as tg:
                RunningTopology(built).start(tg)
        elapsed = loop.time() - start
        assert len(CollectingOutput.instances[0].events) == 60
        # 60 events at 20 per 0.1 s window need at least two window boundaries.
        assert elapsed >= 0.2
