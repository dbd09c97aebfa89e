"""Gather input batches into requests by count, size and age.

Input batches are never split: each keeps its ack token whole, and a request
settles the tokens of exactly the batches it holds. A request may therefore
overshoot ``max_events``/``max_bytes`` by one input batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from logferry.agent.event import Batch
from logferry.agent.topology.channel import Channel
from logferry.outputs.delivery.config import BatchConfig


async def gather_requests(
    inbox: Channel,
    cfg: BatchConfig,
    size_of: Callable[[Batch], int] = len,
) -> AsyncIterator[list[Batch]]:
    """Yield lists of input batches; the last partial list is yielded at end of stream."""
    loop = asyncio.get_running_loop()
    pending: list[Batch] = []
    events = nbytes = 0
    deadline = 0.0
    while True:
        if pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                yield pending
                pending, events, nbytes = [], 0, 0
                continue
            try:
                async with asyncio.timeout(remaining):
                    batch = await inbox.recv()
            except TimeoutError:
                yield pending
                pending, events, nbytes = [], 0, 0
                continue
        else:
            batch = await inbox.recv()
        if batch is None:
            if pending:
                yield pending
            return
        if not pending:
            deadline = loop.time() + cfg.timeout_secs
        pending.append(batch)
        events += len(batch)
        nbytes += size_of(batch)
        if events >= cfg.max_events or nbytes >= cfg.max_bytes:
            yield pending
            pending, events, nbytes = [], 0, 0
