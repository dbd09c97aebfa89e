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
from collections.abc import Awaitable, Callable
from typing import Annotated

from msgspec import Meta

from logferry.agent.component import BuildContext, Source, SourceContext
from logferry.agent.config.common import SourceConfig
from logferry.agent.event import Batch
from logferry.agent.sources.file.framing import Framed, LineFramer
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
        read, close = await self._reader()
        try:
            await self._read_all(ctx, read)
        finally:
            close()

    async def _read_all(self, ctx: SourceContext, read: Callable[[int], Awaitable[bytes]]) -> None:
        # The file source's framer: same truncation and invalid-UTF-8 tagging as for files.
        framer = LineFramer(0, max_line_bytes=self.cfg.max_line_bytes)
        while not ctx.shutdown.is_set():
            reading = asyncio.ensure_future(read(self.cfg.read_chunk_bytes))
            stop = asyncio.ensure_future(ctx.shutdown.wait())
            done, _ = await asyncio.wait({reading, stop}, return_when=asyncio.FIRST_COMPLETED)
            if reading not in done:
                reading.cancel()
                break
            stop.cancel()
            chunk = reading.result()
            if not chunk:
                break
            await self._emit(ctx, framer.feed(chunk), len(chunk))
        await self._emit(ctx, framer.flush(), 0)

    async def _reader(self) -> tuple[Callable[[int], Awaitable[bytes]], Callable[[], None]]:
        """A pipe or terminal is read through the event loop, so a stop never waits on a blocked
        thread; a regular file (``< file``), which epoll refuses, is read in a thread."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**31)
        try:
            pipe = os.fdopen(os.dup(self.fd), "rb", buffering=0)
            transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        except (ValueError, OSError):
            fd = self.fd
            return (lambda n: asyncio.to_thread(os.read, fd, n)), (lambda: None)
        # Closing matters on reload: a forgotten transport would keep reading stdin for nobody.
        return reader.read, transport.close

    async def _emit(self, ctx: SourceContext, framed: Framed, nbytes: int) -> None:
        if not framed.lines:
            return
        now = iso_now()
        common = {"@timestamp": now, "event.ingested": now, "host.name": self.host_name,
                  "input.type": "stdin"}
        ctx.metrics.received(len(framed.lines), nbytes)
        await ctx.out.send(Batch.from_lines(framed.lines, common, framed.origin(self._id_prefix),
                                            framed.tags))
