"""The stdin source on a real pipe: framing, tags, offsets and end of input."""

import asyncio
import os
import threading
from pathlib import Path

from logferry.agent.component import SourceContext
from logferry.agent.sources.stdin import StdinSource, StdinSourceConfig
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout


async def read_pipe(data: bytes, tmp_path: Path, **cfg: int) -> list[dict]:
    r, w = os.pipe()

    def write() -> None:
        with os.fdopen(w, "wb") as f:
            for i in range(0, len(data), 7000):  # several writes, so lines straddle reads
                f.write(data[i:i + 7000])
                f.flush()

    ch = Channel(max_events=1 << 20)
    ctx = SourceContext("in", Fanout([(ch, False)]), asyncio.Event(), tmp_path,
                        ComponentMetrics("in", "source", "stdin"), acknowledgements=False)
    source = StdinSource(StdinSourceConfig(type="stdin", read_chunk_bytes=4096, **cfg), "h", fd=r)
    writer = threading.Thread(target=write)
    writer.start()
    try:
        async with asyncio.timeout(20):
            await source.run(ctx)
    finally:
        writer.join()
        os.close(r)
    await ch.close()
    return [e async for b in ch for e in b.events]


class TestStdinSource:
    async def test_lines_offsets_and_unterminated_tail(self, tmp_path: Path) -> None:
        """Every line arrives once, in order, with its byte offset; a last line without newline too."""
        lines = [f"line {i} " + "x" * (i % 50) for i in range(2000)]
        data = ("\n".join(lines)).encode()
        events = await read_pipe(data, tmp_path)
        assert [e["message"] for e in events] == lines
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        assert [e["log.offset"] for e in events] == starts
        assert len({e["event.id"] for e in events}) == len(lines)
        assert events[0]["input.type"] == "stdin"

    async def test_long_line_truncated_and_bad_bytes_tagged(self, tmp_path: Path) -> None:
        """A line over max_line_bytes is cut and tagged; invalid UTF-8 is replaced and tagged."""
        data = b"ok\n" + b"A" * 10_000 + b"\nbad \xff\xfe\nend\n"
        events = await read_pipe(data, tmp_path, max_line_bytes=1000)
        assert [e["message"][:4] for e in events] == ["ok", "AAAA", "bad ", "end"]
        assert len(events[1]["message"]) == 1000 and "_line_truncated" in events[1]["tags"]
        assert "_invalid_utf8" in events[2]["tags"]
        assert "tags" not in events[3]
