"""Helpers for the elasticsearch output tests: build the real output, drive ``run(ctx)`` with a real Channel."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from logferry.agent.acks import AckStatus, OrderedAcks
from logferry.agent.component import BuildContext, Health, OutputContext
from logferry.agent.event import Batch, Event
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig
from logferry.outputs.elasticsearch.output import ElasticsearchOutput

FAST_RETRY = {"retry_initial_backoff_secs": 0.005, "retry_max_backoff_secs": 0.02, "timeout_secs": 5.0}


def make_config(url: str | list[str], **overrides: Any) -> ElasticsearchOutputConfig:
    raw: dict[str, Any] = {"type": "elasticsearch", "inputs": ["src"],
                           "endpoints": [url] if isinstance(url, str) else url,
                           "request": dict(FAST_RETRY), "batch": {"max_events": 200, "timeout_secs": 0.05}}
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(raw.get(k), dict):
            raw[k] = {**raw[k], **v}
        else:
            raw[k] = v
    return msgspec.convert(raw, ElasticsearchOutputConfig)


def make_events(n: int, prefix: str = "e", start: int = 0, **extra: Any) -> list[Event]:
    return [{"@timestamp": "2026-05-01T12:00:00.000Z", "message": f"{prefix} line {i}", "event.id": f"{prefix}-{i}",
             "log.level": "info", "host.name": "node-1", **extra} for i in range(start, start + n)]


@dataclass
class Run:
    """The outcome of driving one output: which source positions were acknowledged, and how."""

    output: ElasticsearchOutput
    health: Health
    advanced: list[int] = field(default_factory=list)
    statuses: list[AckStatus] = field(default_factory=list)


def build_output(cfg: ElasticsearchOutputConfig, data_dir: Path, cid: str = "es") -> ElasticsearchOutput:
    return cfg.build(BuildContext(cid, data_dir, "test-host", ComponentMetrics(cid, "output", "elasticsearch")))


async def drive(cfg: ElasticsearchOutputConfig, data_dir: Path, batches: list[list[Event]], *,
                healthcheck: bool = True, during: Any = None, deadline: float = 20.0) -> Run:
    """Send ``batches`` (one ack token each) through a fresh output and wait until ``run`` returns."""
    output = build_output(cfg, data_dir)
    if healthcheck:
        await output.healthcheck()
    inbox = Channel(1_000_000)
    health = Health()
    run = Run(output, health)
    tokens = []
    acks = OrderedAcks(run.advanced.append)
    ctx = OutputContext("es", inbox, data_dir, output.metrics, health)
    async with asyncio.timeout(deadline):
        task = asyncio.ensure_future(output.run(ctx))
        for pos, events in enumerate(batches):
            token = acks.open(pos)
            tokens.append(token)
            await inbox.send(Batch.from_events(events, token))
        if during is not None:
            await during(run)
        await inbox.close()
        await task
    run.statuses = [t.status if t.settled else None for t in tokens]  # type: ignore[misc]
    return run
