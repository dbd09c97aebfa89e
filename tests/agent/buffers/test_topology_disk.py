"""A disk buffer wired by the topology builder, driven by the real runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

from logferry.agent.config.common import ApiConfig, BufferConfig
from logferry.agent.config.model import LoadedConfig
from logferry.agent.testing import (
    CollectingOutput,
    CollectingOutputConfig,
    MemorySourceConfig,
)
from logferry.agent.topology.builder import build_topology
from logferry.agent.topology.running import RunningTopology


class TestDiskBufferTopology:
    async def test_once_run_through_a_disk_buffer_delivers_all_and_empties_it(self, tmp_path: Path) -> None:
        """With --once, events pass the disk buffer in order, the source position reaches the end, the buffer empties."""
        CollectingOutput.instances.clear()
        cfg = LoadedConfig(path="t.yaml", data_dir=tmp_path, api=ApiConfig(enabled=False),
                           sources={"src": MemorySourceConfig(type="memory", batches=40, events_per_batch=25)},
                           transforms={},
                           outputs={"out": CollectingOutputConfig(
                               type="collect", inputs=["src"],
                               buffer=BufferConfig(type="disk", max_size_bytes=1 << 20, segment_max_bytes=8192))})
        built = build_topology(cfg, once=True, host_name="h")
        assert built.outputs[0].buffer is not None
        async with asyncio.timeout(20):
            async with asyncio.TaskGroup() as tg:
                RunningTopology(built).start(tg)
        out = CollectingOutput.instances[0]
        assert [e["message"] for e in out.events] == [f"line {i}" for i in range(1000)]
        assert built.sources[0].source.positions[-1] == 40  # type: ignore[attr-defined]
        stats = built.outputs[0].buffer.stats()
        assert (stats.records, stats.events) == (0, 0)
        assert len(list((tmp_path / "outputs" / "out" / "buffer").glob("*.seg"))) == 1
