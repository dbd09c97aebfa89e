"""``console`` output: events to stdout or stderr, as NDJSON or text."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

from msgspec import Meta

from logferry.agent.component import BuildContext, Output, OutputContext
from logferry.agent.config.common import OutputConfig
from logferry.outputs.encoding import Encoder, EncodingConfig
from logferry.outputs.write_behind import WriteBehind, on_written


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
        target = self.cfg.target

        def write_round(writes: list[tuple[str, bytes]]) -> None:
            stream.buffer.write(b"".join(data for _, data in writes))
            stream.buffer.flush()

        # Written behind (see outputs/write_behind.py): the loop never waits on a slow terminal or pipe.
        writer = WriteBehind(write_round, name=f"console-output-{ctx.component_id}")
        try:
            async for batch in ctx.inbox:
                await writer.submit([(target, self.encoder.encode(batch))], on_written(ctx, batch))
            await writer.drain()
        finally:
            await writer.close()
