"""``console`` output: events to stdout or stderr, as NDJSON or text."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Literal

from msgspec import Meta

from logferry.agent.component import BuildContext, Output, OutputContext, settle
from logferry.agent.config.common import OutputConfig
from logferry.outputs.encoding import Encoder, EncodingConfig


class ConsoleOutputConfig(OutputConfig):
    target: Annotated[Literal["stdout", "stderr"], Meta(description="Stream to write to.")] = "stdout"
    encoding: EncodingConfig = EncodingConfig()

    def build(self, ctx: BuildContext) -> Output:
        return ConsoleOutput(self)


class ConsoleOutput(Output):
    def __init__(self, cfg: ConsoleOutputConfig) -> None:
        self.cfg = cfg
        self.encoder = Encoder(cfg.encoding)

    async def run(self, ctx: OutputContext) -> None:
        stream = sys.stdout if self.cfg.target == "stdout" else sys.stderr
        async for batch in ctx.inbox:
            data = self.encoder.encode(batch)
            await asyncio.to_thread(_write, stream.buffer, data)
            ctx.metrics.sent(len(batch), len(data))
            settle(batch)


def _write(buf: object, data: bytes) -> None:
    buf.write(data)  # type: ignore[attr-defined]
    buf.flush()  # type: ignore[attr-defined]
