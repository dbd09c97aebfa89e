"""``stdin`` source: one event per line of standard input, until end of input.

There is no position to come back to on stdin, so it does not acknowledge:
events carry no ack token. ``event.id`` is still unique per line
(process start + sequence) so outputs that key on it keep working.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Annotated

from msgspec import Meta

from logferry.agent.component import BuildContext, Source, SourceContext
from logferry.agent.config.common import SourceConfig
from logferry.agent.event import TAG_INVALID_UTF8, TAG_TRUNCATED, Batch, LineOrigin
from logferry.agent.timeutil import iso_now


class StdinSourceConfig(SourceConfig):
    max_line_bytes: Annotated[int, Meta(gt=0, description="Longer lines are truncated and tagged.")] = 102400
    read_chunk_bytes: Annotated[int, Meta(gt=0, description="Bytes read per system call.")] = 262144

    def build(self, ctx: BuildContext) -> Source:
        return StdinSource(self, ctx.host_name)

    def can_acknowledge(self) -> bool:
        return False


class StdinSource(Source):
    def __init__(self, cfg: StdinSourceConfig, host_name: str, fd: int | None = None) -> None:
        self.cfg = cfg
        self.host_name = host_name
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._id_prefix = f"stdin-{os.getpid():x}-{time.time_ns():x}-"

    async def run(self, ctx: SourceContext) -> None:
        pending = b""
        offset = 0
        while not ctx.shutdown.is_set():
            read = asyncio.ensure_future(asyncio.to_thread(os.read, self.fd, self.cfg.read_chunk_bytes))
            stop = asyncio.ensure_future(ctx.shutdown.wait())
            done, _ = await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
            if read not in done:
                # The blocked read thread ends with the process; stdin has no position to lose.
                read.cancel()
                break
            stop.cancel()
            chunk = read.result()
            if not chunk:
                break
            data = pending + chunk
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) < self.cfg.max_line_bytes:
                pending = data
                continue
            if cut < 0:
                cut = len(data) - 1
            pending = data[cut + 1:]
            offset = await self._emit(ctx, data[: cut + 1], offset)
        if pending:
            await self._emit(ctx, pending + b"\n", offset)

    async def _emit(self, ctx: SourceContext, data: bytes, offset: int) -> int:
        raw_lines = data.split(b"\n")[:-1]
        lines: list[str] = []
        offsets: list[int] = []
        tags: dict[int, list[str]] = {}
        limit = self.cfg.max_line_bytes
        for i, raw in enumerate(raw_lines):
            offsets.append(offset)
            offset += len(raw) + 1
            t: list[str] = []
            if len(raw) > limit:
                raw = raw[:limit]
                t.append(TAG_TRUNCATED)
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                lines.append(raw.decode("utf-8", "replace"))
                t.append(TAG_INVALID_UTF8)
            if t:
                tags[i] = t
        now = iso_now()
        common = {"@timestamp": now, "event.ingested": now, "host.name": self.host_name,
                  "input.type": "stdin"}
        ctx.metrics.received(len(lines), len(data))
        await ctx.out.send(Batch.from_lines(lines, common, LineOrigin(self._id_prefix, offsets), tags))
        return offset
