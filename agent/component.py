"""What a source, a transform and an output are, and what they get to work with.

* A **source** implements ``async run(ctx)``: read, wrap lines in batches,
  ``await ctx.out.send(batch)`` (which waits when downstream is full), stop
  when ``ctx.shutdown`` is set. ``finalize()`` runs after every output has
  finished, so it is where checkpoints are written for the last time.
* A **transform** is synchronous and CPU-only: ``process(batch)`` returns the
  batch (changed in place or new), or ``None`` when nothing is left. Routing
  transforms override ``route``. Dropping events is done with ``drop_events``
  so it is counted.
* An **output** implements ``async run(ctx)``: read batches from ``ctx.inbox``
  until it returns ``None`` and settle each batch's ack after delivery.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logferry.agent.acks import AckStatus
from logferry.agent.event import Batch, Event
from logferry.agent.telemetry import ComponentMetrics

if TYPE_CHECKING:
    from logferry.agent.topology.channel import Channel
    from logferry.agent.topology.fanout import Fanout


@dataclass
class BuildContext:
    """What ``Config.build`` may use: identity, storage and host facts."""

    component_id: str
    data_dir: Path
    host_name: str
    metrics: ComponentMetrics
    once: bool = False
    acknowledgements: bool = True
    globals: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceContext:
    component_id: str
    out: Fanout
    shutdown: asyncio.Event
    data_dir: Path
    metrics: ComponentMetrics
    acknowledgements: bool = True
    once: bool = False


@dataclass
class OutputContext:
    component_id: str
    inbox: Channel
    data_dir: Path
    metrics: ComponentMetrics
    health: Health


class Health:
    """An output's health as /health reports it; outputs flip it, the API reads it."""

    def __init__(self) -> None:
        self.healthy = True
        self.reason = ""

    def ok(self) -> None:
        self.healthy = True
        self.reason = ""

    def fail(self, reason: str) -> None:
        self.healthy = False
        self.reason = reason


class Source(ABC):
    @abstractmethod
    async def run(self, ctx: SourceContext) -> None: ...

    async def finalize(self) -> None:
        """Called once after every output has finished: persist positions here."""

    def statistics(self) -> dict[str, Any]:
        return {}


class Transform(ABC):
    """Synchronous batch transform. Set up everything config-dependent in ``__init__``."""

    #: Named outputs besides the default one (route), used as ``inputs: [id.name]``.
    named_outputs: tuple[str, ...] = ()
    metrics: ComponentMetrics | None = None

    @abstractmethod
    def process(self, batch: Batch) -> Batch | None: ...

    def route(self, batch: Batch) -> list[tuple[str | None, Batch]]:
        """Batches per output name (``None`` = the default output)."""
        out = self.process(batch)
        return [] if out is None or len(out) == 0 else [(None, out)]

    def flush(self) -> list[tuple[str | None, Batch]]:
        """Anything held back, at shutdown."""
        return []

    def pace(self, batch: Batch) -> float:
        """Seconds the runner should wait before ``process(batch)``; how a transform applies
        backpressure (throttle) while staying synchronous. 0 means go now."""
        return 0.0

    def drop_events(self, batch: Batch, keep: list[Event], reason: str) -> Batch | None:
        """Replace the batch's events with ``keep``, counting the rest as dropped."""
        dropped = len(batch) - len(keep)
        if dropped and self.metrics is not None:
            self.metrics.dropped(dropped, reason)
        if not keep:
            return None
        batch.events = keep
        return batch


class EventTransform(Transform):
    """A transform written per event: return the event, or ``None`` to drop it."""

    drop_reason = "filtered"

    @abstractmethod
    def transform_event(self, event: Event) -> Event | None: ...

    def process(self, batch: Batch) -> Batch | None:
        fn = self.transform_event
        keep = [r for r in map(fn, batch.events) if r is not None]
        if len(keep) != len(batch):
            return self.drop_events(batch, keep, self.drop_reason)
        batch.events = keep
        return batch


class Output(ABC):
    @abstractmethod
    async def run(self, ctx: OutputContext) -> None: ...

    async def healthcheck(self) -> None:
        """Raise ``HealthcheckError`` when the destination cannot take data."""


def settle(batch: Batch, status: AckStatus = AckStatus.DELIVERED) -> None:
    if batch.ack is not None:
        batch.ack.settle(status)
