"""``sample`` transform: keep 1 in N events, deterministically by key, or to a rate target per key.

* Static mode (``rate: N``): with ``key_field`` (e.g. ``trace.id``) the decision is a hash of the
  key's value, so every line of a sampled request is kept together, and every host decides the
  same way. Without a key (or when the event lacks it) a counter keeps every N-th event.
* Dynamic mode (``target_events_per_sec``): per value of ``key_field`` (e.g. ``log.logger``) the
  rate for the next window is ``ceil(events per second in the last window / target)``: rare keys
  are kept whole, chatty keys are sampled harder.
* ``keep``: a condition (the ``filter`` language) whose matches are always kept, e.g.
  ``log.level in ["warn", "error", "critical"]``.

Every kept event records the rate it was sampled at in ``rate_field`` (default ``sample.rate``)
so Kibana can re-weight counts (``sum(sample.rate)`` estimates the original count).
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Annotated, Any

from msgspec import Meta

from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Batch, Event
from logferry.transforms.condition import Predicate, compile_condition
from logferry.transforms.fields import MISSING, FieldPath, group_key


class SampleConfig(TransformConfig):
    rate: Annotated[int, Meta(ge=1, description="Keep 1 in `rate` events (static mode).")] = 10
    key_field: Annotated[str, Meta(description="Field whose value decides (static) or groups (dynamic).")] | None = None
    keep: Annotated[str, Meta(description="Condition; matching events are always kept.")] | None = None
    target_events_per_sec: Annotated[float, Meta(gt=0, description=(
        "Dynamic mode: events/s to keep per key value; rates adapt every window."))] | None = None
    window_secs: Annotated[float, Meta(gt=0, description="Dynamic mode: length of a rate window.")] = 10.0
    rate_field: Annotated[str, Meta(description="Field that records the sample rate on kept events.")] = "sample.rate"
    seed: Annotated[str, Meta(description="Mixed into the hash; equal seeds decide alike on every host.")] = ""

    def __post_init__(self) -> None:
        if self.keep is not None:
            compile_condition(self.keep)
        for f in (self.key_field, self.rate_field):
            if f is not None:
                FieldPath(f)
        if self.target_events_per_sec is not None and self.key_field is None:
            raise ValueError("target_events_per_sec needs key_field (the value sampled per key)")

    def build(self, ctx: BuildContext) -> Transform:
        return Sample(self)


def key_hash(seed: bytes, value: Any) -> int:
    """A stable 64-bit hash of a value: the same on every host and in every process."""
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8, key=seed).digest(), "big")


class Sample(Transform):
    def __init__(self, cfg: SampleConfig, clock: Any = time.monotonic) -> None:
        self.cfg = cfg
        self.key = FieldPath(cfg.key_field) if cfg.key_field else None
        self.keep: Predicate | None = compile_condition(cfg.keep) if cfg.keep else None
        self.rate_field = FieldPath(cfg.rate_field)
        self.seed = hashlib.blake2b(cfg.seed.encode(), digest_size=16).digest()
        self.clock = clock
        self._counter = 0
        # Dynamic mode: per key, events seen this window and the rate in force.
        self._window_start = clock()
        self._seen: dict[Any, int] = {}
        self._rates: dict[Any, int] = {}
        self._dynamic_counters: dict[Any, int] = {}

    def process(self, batch: Batch) -> Batch | None:
        if self.cfg.target_events_per_sec is not None:
            self._roll_window()
        kept: list[Event] = []
        keep_cond = self.keep
        for e in batch.events:
            if keep_cond is not None and keep_cond(e):
                self.rate_field.set(e, 1)
                kept.append(e)
                continue
            rate = self._decide(e)
            if rate:
                self.rate_field.set(e, rate)
                kept.append(e)
        return self.drop_events(batch, kept, "sampled")

    def _decide(self, e: Event) -> int:
        """The rate the event was kept at, or 0 when it is sampled out."""
        value = self.key.get(e) if self.key is not None else MISSING
        if self.cfg.target_events_per_sec is not None:
            group = group_key(value)
            self._seen[group] = self._seen.get(group, 0) + 1
            rate = self._rates.get(group, 1)
            n = self._dynamic_counters.get(group, 0)
            self._dynamic_counters[group] = n + 1
            return rate if n % rate == 0 else 0
        rate = self.cfg.rate
        if value is MISSING:
            self._counter += 1
            return rate if self._counter % rate == 0 else 0
        return rate if key_hash(self.seed, value) % rate == 0 else 0

    def _roll_window(self) -> None:
        now = self.clock()
        elapsed = now - self._window_start
        if elapsed < self.cfg.window_secs:
            return
        target = self.cfg.target_events_per_sec
        assert target is not None
        self._rates = {k: max(1, math.ceil(n / elapsed / target)) for k, n in self._seen.items()}
        self._seen.clear()
        self._dynamic_counters.clear()
        self._window_start = now
