"""Public fakes that isolate the topology in tests (like ``trio.testing``).

They stand in for *other* components around the one under test; they never
replace the component being tested.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from msgspec import Meta

from logferry.agent.acks import OrderedAcks
from logferry.agent.component import BuildContext, Output, OutputContext, Source, SourceContext, settle
from logferry.agent.config.common import OutputConfig, SourceConfig
from logferry.agent.event import Batch, Event


def make_events(n: int, start: int = 0, **fields: Any) -> list[Event]:
    return [{"message": f"line {i}", "event.id": f"test-{i:x}", **fields} for i in range(start, start + n)]


class MemorySourceConfig(SourceConfig):
    batches: Annotated[int, Meta(ge=0)] = 1
    events_per_batch: Annotated[int, Meta(gt=0)] = 10

    def build(self, ctx: BuildContext) -> Source:
        return MemorySource(self.batches, self.events_per_batch)


class MemorySource(Source):
    """Emits numbered events in batches, one ack token each; ``positions`` records the settled prefix."""

    def __init__(self, batches: int, events_per_batch: int) -> None:
        self.batches = batches
        self.events_per_batch = events_per_batch
        self.positions: list[int] = []

    async def run(self, ctx: SourceContext) -> None:
        acks = OrderedAcks(self.positions.append)
        for i in range(self.batches):
            if ctx.shutdown.is_set():
                return
            events = make_events(self.events_per_batch, i * self.events_per_batch)
            token = acks.open(i + 1) if ctx.acknowledgements else None
            await ctx.out.send(Batch.from_events(events, token))


class CollectingOutputConfig(OutputConfig):
    delay_secs: Annotated[float, Meta(ge=0)] = 0.0

    def build(self, ctx: BuildContext) -> Output:
        return CollectingOutput(self.delay_secs)


class CollectingOutput(Output):
    """Keeps every event it receives; ``delay_secs`` per batch makes it a slow output."""

    instances: list[CollectingOutput] = []

    def __init__(self, delay_secs: float = 0.0) -> None:
        self.delay_secs = delay_secs
        self.events: list[Event] = []
        CollectingOutput.instances.append(self)

    async def run(self, ctx: OutputContext) -> None:
        async for batch in ctx.inbox:
            if self.delay_secs:
                await asyncio.sleep(self.delay_secs)
            self.events.extend(batch.events)
            settle(batch)
