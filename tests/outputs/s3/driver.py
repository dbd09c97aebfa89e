"""Drive an output's ``run(ctx)`` the way the runtime does: a real Channel, real Batches and ack tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from logferry.agent.acks import AckStatus, OrderedAcks
from logferry.agent.component import BuildContext, Health, Output, OutputContext
from logferry.agent.event import Batch, Event
from logferry.agent.registry import lookup
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel

STREAM = "0123456789abcdef"


def make_events(n: int, *, start: int = 0, stream: str = STREAM, datasets: tuple[str, ...] = ("app",),
                hours: tuple[int, ...] = (10,), step: int = 100) -> list[Event]:
    """``n`` events with file-source-like ids (``<stream>-<hex offset>``), spread over datasets and hours."""
    out = []
    for i in range(start, start + n):
        off = i * step
        out.append({
            "@timestamp": f"2024-05-01T{hours[i % len(hours)]:02d}:{i % 60:02d}:00.{i % 1000:03d}Z",
            "event.dataset": datasets[i % len(datasets)],
            "log.level": "info" if i % 3 else "error",
            "message": f"line {i} took={i % 97}ms",
            "log.offset": off,
            "event.id": f"{stream}-{off:x}",
            "http.response.status_code": 200 + i % 5,
            "tags": ["t"],
        })
    return out


def build(type_name: str, data_dir: Path, **fields: Any) -> Output:
    cls = lookup("outputs", type_name)
    assert cls is not None
    cfg = msgspec.convert({"type": type_name, "inputs": ["src"], **fields}, cls)
    return cfg.build(BuildContext("archive", data_dir, "test-host", ComponentMetrics("archive", "output", type_name)))


class Harness:
    """A running output with its inbox, health and the ack positions the source would see."""

    def __init__(self, output: Output, data_dir: Path) -> None:
        self.output = output
        self.inbox = Channel(max_events=100_000)
        self.health = Health()
        self.advanced: list[Any] = []
        self.statuses: dict[Any, AckStatus] = {}
        self.acks = OrderedAcks(self.advanced.append)
        self.ctx = OutputContext("archive", self.inbox, data_dir, ComponentMetrics("archive", "output", "t"),
                                 self.health)
        self.task: asyncio.Task[None] | None = None
        self._tokens: list[Any] = []

    def start(self) -> Harness:
        self.task = asyncio.create_task(self.output.run(self.ctx))
        return self

    async def send(self, events: list[Event], position: Any = None) -> Any:
        token = self.acks.open(position if position is not None else len(self._tokens))
        self._tokens.append(token)
        await self.inbox.send(Batch.from_events(events, token))
        return token

    async def wait_until(self, condition: Callable[[], bool], tries: int = 500) -> None:
        """Poll ``condition`` every 10 ms, at most ``tries`` times; the caller asserts it afterwards."""
        for _ in range(tries):
            if condition():
                return
            await asyncio.sleep(0.01)

    async def wait_unhealthy(self) -> None:
        await self.wait_until(lambda: not self.health.healthy)

    async def finish(self) -> None:
        await self.inbox.close()
        assert self.task is not None
        await self.task

    @property
    def tokens(self) -> list[Any]:
        return self._tokens


async def run_batches(output: Output, data_dir: Path, batches: list[list[Event]]) -> Harness:
    h = Harness(output, data_dir).start()
    for events in batches:
        await h.send(events)
    await h.finish()
    return h
