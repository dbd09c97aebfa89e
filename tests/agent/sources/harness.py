"""In-process harness for the `file` source: real source, real Fanout and Channel, a consumer that settles acks."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec

from logferry.agent.acks import AckStatus
from logferry.agent.component import BuildContext, SourceContext
from logferry.agent.event import Event
from logferry.agent.sources.file.config import FileSourceConfig
from logferry.agent.sources.file.source import FileSource
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout

DEADLINE_SECS = 20.0


def make_config(**fields: Any) -> FileSourceConfig:
    return msgspec.convert({"type": "file", **fields}, FileSourceConfig)


class Collector:
    """Consumes a channel, records events, settles acks (DELIVERED unless told otherwise)."""

    def __init__(self, channel: Channel, status: AckStatus = AckStatus.DELIVERED) -> None:
        self.channel = channel
        self.status = status
        self.events: list[Event] = []
        self.batches = 0
        self.batches_with_token = 0
        self.changed = asyncio.Event()

    async def run(self) -> None:
        async for batch in self.channel:
            self.events.extend(batch.events)
            self.batches += 1
            if batch.ack is not None:
                self.batches_with_token += 1
                batch.ack.settle(self.status)
            self.changed.set()

    def messages(self) -> list[str]:
        return [e["message"] for e in self.events]

    async def wait_for(self, predicate: Callable[[Collector], bool], timeout: float = DEADLINE_SECS) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self.changed.clear()
                await self.changed.wait()


class Harness:
    """One source run: ``source``, ``collector``, and the context it ran with."""

    def __init__(self, cfg: FileSourceConfig, data_dir: Path, *, once: bool = False,
                 acknowledgements: bool = True, status: AckStatus = AckStatus.DELIVERED) -> None:
        metrics = ComponentMetrics("src", "source", "file")
        self.build_ctx = BuildContext(component_id="src", data_dir=data_dir, host_name=socket.gethostname(),
                                      metrics=metrics, once=once, acknowledgements=acknowledgements)
        self.source = FileSource(cfg, self.build_ctx)
        self.channel = Channel(8192)
        self.shutdown = asyncio.Event()
        self.ctx = SourceContext(component_id="src", out=Fanout([(self.channel, False)]), shutdown=self.shutdown,
                                 data_dir=data_dir, metrics=metrics, acknowledgements=acknowledgements, once=once)
        self.collector = Collector(self.channel, status)

    async def _run_source(self) -> None:
        try:
            await self.source.run(self.ctx)
        finally:
            await self.ctx.out.close()

    async def read_all(self) -> None:
        """Step every open reader until a whole round reads nothing (a source driven without ``run``)."""
        readers = self.source.tracker.readers
        while any([await self.source._step(r) for r in list(readers.values())]):
            pass


async def run_once(cfg: FileSourceConfig, data_dir: Path, **kw: Any) -> Harness:
    """Read every matched file to its end (``once``), wait for the consumer, finalize."""
    h = Harness(cfg, data_dir, once=True, **kw)
    async with asyncio.timeout(DEADLINE_SECS):
        async with asyncio.TaskGroup() as tg:
            tg.create_task(h.collector.run())
            tg.create_task(h._run_source())
        await h.source.finalize()
    return h


@contextlib.asynccontextmanager
async def running(cfg: FileSourceConfig, data_dir: Path, **kw: Any) -> AsyncIterator[Harness]:
    """A tailing source in the background; on exit: shutdown, drain, finalize."""
    h = Harness(cfg, data_dir, **kw)
    async with asyncio.timeout(DEADLINE_SECS * 2):
        async with asyncio.TaskGroup() as tg:
            tg.create_task(h.collector.run())
            tg.create_task(h._run_source())
            try:
                yield h
            finally:
                h.shutdown.set()
        await h.source.finalize()


@contextlib.asynccontextmanager
async def stepped(cfg: FileSourceConfig, data_dir: Path, **kw: Any) -> AsyncIterator[Harness]:
    """A source the test drives step by step (``source.tracker.scan``, ``read_all``); on exit the channel is
    closed and the consumer drained."""
    h = Harness(cfg, data_dir, **kw)
    h.source._ctx = h.ctx  # what run() would set
    async with asyncio.timeout(DEADLINE_SECS):
        async with asyncio.TaskGroup() as tg:
            tg.create_task(h.collector.run())
            try:
                yield h
            finally:
                await h.ctx.out.close()
