"""``throttle`` transform: at most ``threshold`` events (or ``threshold_bytes`` of message) per
window, per value of ``key_field``.

``when_exceeded: drop`` drops the excess and counts it (reason ``throttled``);
``when_exceeded: backpressure`` makes the pipeline wait for the next window instead, so the
source slows down and nothing is lost (one key then holds back all keys: use it without
``key_field`` or with few keys).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from msgspec import Meta

from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Batch, Event
from logferry.transforms.fields import FieldPath, group_key


class ThrottleConfig(TransformConfig):
    threshold: Annotated[int, Meta(ge=1, description="Most events per window and key.")] | None = None
    threshold_bytes: Annotated[int, Meta(ge=1, description="Most message bytes per window and key.")] | None = None
    window_secs: Annotated[float, Meta(gt=0, description="Length of a window.")] = 1.0
    key_field: Annotated[str, Meta(description="Limit each value of this field separately.")] | None = None
    when_exceeded: Annotated[Literal["drop", "backpressure"],
                             Meta(description="Drop the excess (counted), or wait for the next window.")] = "drop"

    def __post_init__(self) -> None:
        if (self.threshold is None) == (self.threshold_bytes is None):
            raise ValueError("set exactly one of threshold or threshold_bytes")
        if self.key_field is not None:
            FieldPath(self.key_field)

    def build(self, ctx: BuildContext) -> Transform:
        return Throttle(self)


class Throttle(Transform):
    def __init__(self, cfg: ThrottleConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.key = FieldPath(cfg.key_field) if cfg.key_field else None
        self.limit = cfg.threshold if cfg.threshold is not None else cfg.threshold_bytes
        self.by_bytes = cfg.threshold is None
        self.clock = clock
        self._window_start = clock()
        self._used: dict[Any, int] = {}

    def _cost(self, e: Event) -> int:
        if not self.by_bytes:
            return 1
        m = e.get("message", "")
        return len(m.encode("utf-8", "surrogatepass")) if isinstance(m, str) else len(str(m))

    def _roll(self) -> None:
        now = self.clock()
        if now - self._window_start >= self.cfg.window_secs:
            self._window_start = now
            self._used.clear()

    def pace(self, batch: Batch) -> float:
        """Backpressure mode: seconds to wait before this batch fits in the budget (0 = go)."""
        if self.cfg.when_exceeded != "backpressure":
            return 0.0
        self._roll()
        assert self.limit is not None
        need = sum(self._cost(e) for e in batch.events) if self.by_bytes else len(batch)
        used = sum(self._used.values())
        if used == 0 or used + need <= self.limit:
            return 0.0
        return max(0.0, self._window_start + self.cfg.window_secs - self.clock())

    def process(self, batch: Batch) -> Batch | None:
        self._roll()
        assert self.limit is not None
        limit = self.limit
        used = self._used
        if self.cfg.when_exceeded == "backpressure":
            # pace() already waited for room; account for the batch and let it through whole.
            for e in batch.events:
                k = self._key(e)
                used[k] = used.get(k, 0) + self._cost(e)
            return batch
        kept: list[Event] = []
        for e in batch.events:
            k = self._key(e)
            cost = self._cost(e)
            u = used.get(k, 0)
            if u + cost <= limit:
                used[k] = u + cost
                kept.append(e)
        return self.drop_events(batch, kept, "throttled")

    def _key(self, e: Event) -> Any:
        return None if self.key is None else group_key(self.key.get(e))
