"""The tasks that drive each kind of component inside a running topology."""

from __future__ import annotations

import asyncio
import logging

from logferry.agent.acks import AckStatus
from logferry.agent.component import Source, SourceContext, Transform
from logferry.agent.event import Batch, add_tags
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout

log = logging.getLogger("logferry.topology")

TAG_TRANSFORM_ERROR = "_transform_error"


async def run_source(source: Source, ctx: SourceContext) -> None:
    try:
        await source.run(ctx)
    finally:
        # Closing is how end of stream travels downstream; it must happen even on errors.
        await ctx.out.close()


async def run_transform(
    component_id: str,
    transform: Transform,
    inbox: Channel,
    fanouts: dict[str | None, Fanout],
    metrics: ComponentMetrics,
) -> None:
    transform.metrics = metrics
    try:
        async for batch in inbox:
            n = len(batch)
            metrics.received(n)
            delay = transform.pace(batch)
            while delay > 0:
                await asyncio.sleep(delay)
                delay = transform.pace(batch)
            try:
                results = transform.route(batch)
            except Exception as exc:  # one bad batch must not stop the pipeline or lose data
                metrics.error(type(exc).__name__)
                log.error("Transform failed on a batch; passing it on unchanged and tagged.",
                          extra={"component_id": component_id, "error": repr(exc)})
                for e in batch.events:
                    add_tags(e, (TAG_TRANSFORM_ERROR,))
                results = [(None, batch)]
            await _forward(batch, results, fanouts, metrics)
        tail = transform.flush()
        for name, b in tail:
            metrics.sent(len(b))
            await fanouts[name].send(b)
    finally:
        for f in fanouts.values():
            await f.close()


async def _forward(
    batch: Batch,
    results: list[tuple[str | None, Batch]],
    fanouts: dict[str | None, Fanout],
    metrics: ComponentMetrics,
) -> None:
    token = batch.ack
    results = [(name, b) for name, b in results if len(b)]
    if token is not None:
        # One reference per sub-batch that still holds the source batch's token;
        # none left means every event was dropped, which counts as delivered.
        holders = sum(1 for _, b in results if b.ack is token)
        if holders == 0:
            token.settle(AckStatus.DELIVERED)
        elif holders > 1:
            token.retain(holders - 1)
    for name, b in results:
        metrics.sent(len(b))
        await fanouts[name].send(b)

