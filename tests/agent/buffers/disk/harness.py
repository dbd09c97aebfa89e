"""Drive a real ``DiskBuffer`` from a test: an upstream with ordered acks, and an output that settles."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec

from logferry.agent.acks import AckStatus, OrderedAcks
from logferry.agent.buffers.disk.buffer import DiskBuffer
from logferry.agent.config.common import BufferConfig
from logferry.agent.event import Batch
from logferry.agent.telemetry import REGISTRY, ComponentMetrics
from logferry.agent.topology.channel import Channel


def batch_events(first: int, n: int, pad: str = "") -> list[dict[str, Any]]:
    return [{"message": f"line {i}{pad}", "event.id": f"id-{i}", "log.offset": i} for i in range(first, first + n)]


class BufferRun:
    """One run of a disk buffer in ``directory`` (a "process lifetime"): start, feed, consume, stop."""

    def __init__(self, directory: Path, *, once: bool = True, **cfg: Any) -> None:
        cfg.setdefault("max_size_bytes", 1 << 22)
        self.config = msgspec.convert({"type": "disk", **cfg}, BufferConfig)
        self.inbox = Channel(4096)
        self.out = Channel(self.config.max_events)
        self.upstream_positions: list[int] = []
        self.upstream = OrderedAcks(self.upstream_positions.append)
        self.shutdown = asyncio.Event()
        self.metrics = ComponentMetrics(f"buf-{directory.name}", "output", "test")
        self.buffer = DiskBuffer(f"buf-{directory.name}", directory, self.config, self.inbox, self.out,
                                 self.metrics, once=once, shutdown=self.shutdown)
        self.task: asyncio.Task[None] | None = None
        self.received: list[Batch] = []

    def start(self) -> BufferRun:
        self.task = asyncio.ensure_future(self.buffer.run())
        return self

    async def send(self, first: int, n: int, pad: str = "") -> None:
        """One upstream batch of ``n`` events numbered from ``first``; its ack position is ``first + n``."""
        await self.inbox.send(Batch.from_events(batch_events(first, n, pad), ack=self.upstream.open(first + n)))

    async def close_upstream(self) -> None:
        await self.inbox.close()

    async def take(self, batches: int, settle: AckStatus | None = AckStatus.DELIVERED) -> list[Batch]:
        """Receive ``batches`` batches from the output side, settling each with ``settle`` (None: hold)."""
        got = []
        for _ in range(batches):
            b = await self.out.recv()
            assert b is not None, "the buffer ended its output stream early"
            if settle is not None and b.ack is not None:
                b.ack.settle(settle)
            got.append(b)
        self.received.extend(got)
        return got

    async def drain(self, settle: AckStatus = AckStatus.DELIVERED) -> list[Batch]:
        """Receive and settle until the buffer closes the output stream."""
        got = []
        while (b := await self.out.recv()) is not None:
            if b.ack is not None:
                b.ack.settle(settle)
            got.append(b)
        self.received.extend(got)
        return got

    async def finish(self) -> None:
        assert self.task is not None
        await self.task

    async def kill(self) -> None:
        """Stop abruptly, as far as an in-process test can: cancel the buffer's task."""
        assert self.task is not None
        self.task.cancel()
        await asyncio.wait([self.task])


def metric(name: str, directory: Path, **labels: str) -> float:
    """The current value of a metric of the buffer run in ``directory`` (0 when never set); counters are
    process-wide and component ids repeat between tests, so compare values taken before and after."""
    if name.startswith("logferry_buffer_"):
        labels = {"component_id": f"buf-{directory.name}", "buffer_type": "disk", **labels}
    else:
        labels = {"component_id": f"buf-{directory.name}", "component_kind": "output", "component_type": "test",
                  **labels}
    return REGISTRY.get_sample_value(name, labels) or 0.0


def messages(batches: list[Batch]) -> list[int]:
    return [int(e["message"].split()[1].rstrip("x")) for b in batches for e in b.events]


async def fill(directory: Path, batches: int, per: int = 10, delivered: int = 0, **cfg: Any) -> BufferRun:
    """A run that writes ``batches`` batches, whose output settles the first ``delivered`` (fewer than
    ``batches``) and holds the rest unacknowledged, stopped as by SIGTERM."""
    run = BufferRun(directory, once=False, **cfg).start()
    for i in range(batches):
        await run.send(i * per, per)
    await run.take(delivered)
    await run.take(1, settle=AckStatus.ERRORED)
    run.shutdown.set()
    await run.close_upstream()
    await asyncio.sleep(0.05)  # let the writer see the end of its input
    await run.drain(settle=AckStatus.ERRORED)  # what the output held when it was stopped
    await run.finish()
    return run


async def replay(directory: Path, **cfg: Any) -> tuple[BufferRun, list[int]]:
    """A ``--once`` run with no new input: what the directory holds, settled as delivered, and its event numbers."""
    run = BufferRun(directory, **cfg).start()
    await run.close_upstream()
    got = await run.drain()
    await run.finish()
    return run, messages(got)
