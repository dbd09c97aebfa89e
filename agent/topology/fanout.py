"""Send one component's batches to every consumer of it.

Each extra consumer holds its own reference to the batch's ack token, so a
source's checkpoint waits for the slowest output. Consumers that may change
events (transforms) get their own copy; outputs only read, so they share.
"""

from __future__ import annotations

from logferry.agent.event import Batch
from logferry.agent.topology.channel import Channel


class Fanout:
    def __init__(self, targets: list[tuple[Channel, bool]] | None = None) -> None:
        # (channel, consumer_mutates)
        self.targets: list[tuple[Channel, bool]] = list(targets or [])

    def add(self, channel: Channel, mutates: bool) -> None:
        self.targets.append((channel, mutates))

    async def send(self, batch: Batch) -> None:
        """Deliver to every consumer; waits while any of them is full (backpressure)."""
        targets = self.targets
        n = len(targets)
        if n == 0:
            # Nobody consumes this component (a warning at load): count as delivered.
            if batch.ack is not None:
                batch.ack.settle()
            return
        if n > 1 and batch.ack is not None:
            batch.ack.retain(n - 1)
        # Copies are made before the first send, because the first consumer
        # may start changing the shared batch as soon as it has it.
        copies: list[Batch] = []
        for i, (_, mutates) in enumerate(targets):
            copies.append(batch.copy() if mutates and i < n - 1 else batch)
        for (channel, _), b in zip(targets, copies):
            await channel.send(b)

    async def close(self) -> None:
        for channel, _ in self.targets:
            await channel.close()
