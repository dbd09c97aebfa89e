"""The sample transform: rates within statistical bounds, key consistency, keep conditions, dynamic mode."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from logferry.agent.event import Batch
from logferry.transforms.sample import Sample, SampleConfig


def sample(cfg: SampleConfig, events: list[dict]) -> list[dict]:
    out = Sample(cfg).process(Batch.from_events(events))
    return [] if out is None else out.events


def within(kept: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    mean = n * p
    return abs(kept - mean) <= sigmas * math.sqrt(n * p * (1 - p))


class TestStaticRate:
    def test_keyless_rate_is_exact(self) -> None:
        """Without a key field exactly one event in N is kept, each marked with the rate."""
        kept = sample(SampleConfig(type="sample", inputs=["x"], rate=10), [{"message": str(i)} for i in range(1000)])
        assert len(kept) == 100
        assert all(e["sample.rate"] == 10 for e in kept)

    def test_keyed_rate_within_statistical_bounds(self) -> None:
        """Hashing 100,000 distinct keys keeps about 1 in N of them (within 5 sigma)."""
        events = [{"trace.id": f"{i:032x}"} for i in range(100_000)]
        kept = sample(SampleConfig(type="sample", inputs=["x"], rate=20, key_field="trace.id"), events)
        assert within(len(kept), 100_000, 1 / 20)

    def test_all_lines_of_a_request_share_the_decision(self) -> None:
        """Events with the same key are kept or dropped together."""
        events = [{"trace.id": f"t{i % 500}", "n": i} for i in range(5000)]
        kept = sample(SampleConfig(type="sample", inputs=["x"], rate=5, key_field="trace.id"), events)
        kept_ids = {e["trace.id"] for e in kept}
        assert kept_ids
        assert len(kept) == 10 * len(kept_ids)

    def test_keep_condition_always_keeps(self) -> None:
        """Events matching `keep` survive whatever the rate, marked with rate 1."""
        events = [{"log.level": "error" if i % 100 == 0 else "info"} for i in range(1000)]
        kept = sample(SampleConfig(type="sample", inputs=["x"], rate=1000,
                                   keep='log.level in ["warn", "error"]'), events)
        errors = [e for e in kept if e["log.level"] == "error"]
        assert len(errors) == 10
        assert all(e["sample.rate"] == 1 for e in errors)

    def test_same_decisions_in_another_process(self) -> None:
        """Two processes (two hosts) make identical keyed decisions."""
        keys = [f"req-{i}" for i in range(2000)]
        here = [e["trace.id"] for e in sample(
            SampleConfig(type="sample", inputs=["x"], rate=7, key_field="trace.id"), [{"trace.id": k} for k in keys])]
        code = (
            "import json,sys\n"
            "from logferry.agent.event import Batch\n"
            "from logferry.transforms.sample import Sample, SampleConfig\n"
            "keys=json.load(sys.stdin)\n"
            "b=Sample(SampleConfig(type='sample',inputs=['x'],rate=7,key_field='trace.id'))"
            ".process(Batch.from_events([{'trace.id':k} for k in keys]))\n"
            "print(json.dumps([e['trace.id'] for e in b.events]))\n"
        )
        r = subprocess.run([sys.executable, "-c", code], input=json.dumps(keys), capture_output=True,
                           text=True, check=True, env={"PYTHONHASHSEED": "123"})
        assert 0 < len(here) < len(keys)  # a real decision was made, not all or nothing
        assert json.loads(r.stdout) == here


class TestDynamic:
    def test_chatty_keys_are_sampled_harder_than_rare_ones(self) -> None:
        """After one window a chatty key is thinned toward the target while a rare key is kept whole."""
        now = [0.0]
        s = Sample(SampleConfig(type="sample", inputs=["x"], key_field="log.logger",
                                target_events_per_sec=10, window_secs=10), clock=lambda: now[0])
        first = [{"log.logger": "chatty"}] * 10_000 + [{"log.logger": "rare"}] * 50
        s.process(Batch.from_events([dict(e) for e in first]))
        now[0] = 10.0
        out = s.process(Batch.from_events([dict(e) for e in first]))
        assert out is not None
        chatty = [e for e in out.events if e["log.logger"] == "chatty"]
        rare = [e for e in out.events if e["log.logger"] == "rare"]
        assert len(rare) == 50
        assert chatty[0]["sample.rate"] == 100  # 1000 events/s against a target of 10/s
        assert len(chatty) == 100


class TestConfig:
    def test_dynamic_needs_a_key(self) -> None:
        """Dynamic mode without key_field is a config error."""
        with pytest.raises(ValueError, match="key_field"):
            SampleConfig(type="sample", inputs=["x"], target_events_per_sec=5)
