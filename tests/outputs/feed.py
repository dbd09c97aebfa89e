"""Run an output to completion over given batches, as the topology would (closed inbox, a time limit)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from logferry.agent.component import Health, OutputContext
from logferry.agent.config.common import OutputConfig
from logferry.agent.event import Batch
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel


async def run_output(cfg: OutputConfig, batches: list[Batch], data_dir: Path | None = None) -> None:
    out = cfg.build(None)  # type: ignore[arg-type]
    ch = Channel(senders=1)
    ctx = OutputContext("out", ch, data_dir, ComponentMetrics("out", "output", cfg.type), Health())  # type: ignore[arg-type]
    for b in batches:
        await ch.send(b)
    await ch.close()
    async with asyncio.timeout(10):
        await out.run(ctx)
