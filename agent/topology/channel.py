"""Bounded channels of batches: the only way data moves between components.

Trio-style: every sender closes its end; once all have, the receiver sees
end of stream (``recv`` returns ``None``), which is how shutdown travels
down the graph. ``send`` waits while the channel holds ``max_events`` or
more, which is the backpressure. A single batch larger than the bound is
still accepted into an empty channel so nothing can wedge.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from logferry.agent.acks import AckStatus
from logferry.agent.event import Batch


# Per-event overhead of a dict of ECS fields beyond its message text, for the byte bound.
_EVENT_OVERHEAD_BYTES = 256


def approx_bytes(batch: Batch) -> int:
    """A cheap estimate of the memory a batch holds: its message text plus a fixed cost per event."""
    return sum(map(len, batch.messages())) + _EVENT_OVERHEAD_BYTES * len(batch)


@dataclass(frozen=True)
class ChannelStatistics:
    batches: int
    events: int
    max_events: int
    open_senders: int
    dropped_events: int
    bytes: int = 0


class Channel:
    def __init__(self, max_events: int = 4096, *, senders: int = 1, drop_when_full: bool = False,
                 on_drop: Callable[[int], None] | None = None, max_bytes: int | None = None) -> None:
        if max_events < 1:
            raise ValueError("max_events must be >= 1")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._bytes = 0
        self.drop_when_full = drop_when_full
        self._on_drop = on_drop
        self._items: deque[tuple[Batch, int]] = deque()
        self._events = 0
        self._open_senders = senders
        self._cond = asyncio.Condition()
        self.dropped_events = 0
        # Totals for metrics; read by telemetry, never reset.
        self.pushed_events = 0
        self.popped_events = 0

    def add_sender(self) -> None:
        self._open_senders += 1

    def statistics(self) -> ChannelStatistics:
        return ChannelStatistics(len(self._items), self._events, self.max_events,
                                 self._open_senders, self.dropped_events, self._bytes)

    @property
    def queued_batches(self) -> int:
        """Batches waiting in the channel (cheaper than ``statistics()`` for a per-batch check)."""
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._open_senders <= 0

    def _has_room(self, n: int, nbytes: int = 0) -> bool:
        if self._events == 0:
            return True
        if self.max_bytes is not None and self._bytes + nbytes > self.max_bytes:
            return False
        return self._events + n <= self.max_events

    async def send(self, batch: Batch) -> None:
        n = len(batch)
        nbytes = approx_bytes(batch) if self.max_bytes is not None else 0
        async with self._cond:
            if self._open_senders <= 0:
                raise RuntimeError("send on a closed channel")
            if not self._has_room(n, nbytes):
                if self.drop_when_full:
                    # Intentional, configured loss: counted and the source moves on.
                    self.dropped_events += n
                    if self._on_drop is not None:
                        self._on_drop(n)
                    if batch.ack is not None:
                        batch.ack.settle(AckStatus.DELIVERED)
                    return
                await self._cond.wait_for(lambda: self._has_room(n, nbytes))
            self._items.append((batch, nbytes))
            self._events += n
            self._bytes += nbytes
            self.pushed_events += n
            self._cond.notify_all()

    async def close(self) -> None:
        """Close one sender's end."""
        async with self._cond:
            self._open_senders -= 1
            self._cond.notify_all()

    async def recv(self) -> Batch | None:
        """The next batch, or ``None`` once every sender has closed and the channel is empty."""
        async with self._cond:
            await self._cond.wait_for(lambda: bool(self._items) or self._open_senders <= 0)
            if not self._items:
                return None
            batch, nbytes = self._items.popleft()
            n = len(batch)
            self._events -= n
            self._bytes -= nbytes
            self.popped_events += n
            self._cond.notify_all()
            return batch

    async def __aiter__(self) -> AsyncIterator[Batch]:
        while True:
            batch = await self.recv()
            if batch is None:
                return
            yield batch
