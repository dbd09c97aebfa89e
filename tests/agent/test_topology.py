"""Running topologies: fan-out, acknowledgements, drops, backpressure and drain."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from logferry.agent.component import BuildContext, EventTransform, Transform
from logferry.agent.config.common import ApiConfig, BufferConfig, OutputConfig, SourceConfig, TransformConfig
from logferry.agent.config.model import LoadedConfig
from logferry.agent.event import Event
from logferry.agent.testing import CollectingOutput, CollectingOutputConfig, MemorySourceConfig
from logferry.agent.topology.builder import build_topology
from logferry.agent.topology.running import RunningTopology


class UpperConfig(TransformConfig):
    drop_odd: bool = False

    def build(self, ctx: BuildContext) -> Transform:
        return Upper(self.drop_odd)


class Upper(EventTransform):
    drop_reason = "odd"

    def __init__(self, drop_odd: bool) -> None:
        self.drop_odd = drop_odd

    def transform_event(self, event: Event) -> Event | None:
        n = int(event["message"].split()[1])
        if self.drop_odd and n % 2:
            return None
        event["message"] = event["message"].upper()
        return event


@pytest.fixture(autouse=True)
def _fresh_collecting_outputs() -> Iterator[None]:
    """Every test finds in ``CollectingOutput.instances`` just the outputs it built."""
    CollectingOutput.instances.clear()
    yield
    CollectingOutput.instances.clear()


def config(tmp_path: Path, sources: dict[str, SourceConfig], transforms: dict[str, TransformConfig],
           outputs: dict[str, OutputConfig]) -> LoadedConfig:
    return LoadedConfig(path="test.yaml", data_dir=tmp_path, api=ApiConfig(enabled=False),
                        sources=sources, transforms=transforms, outputs=outputs)


def memory_to_slow_output(tmp_path: Path, *, batches: int, events_per_batch: int, delay_secs: float,
                          max_events: int, once: bool) -> RunningTopology:
    """A memory source straight into one collecting output that waits ``delay_secs`` per batch."""
    cfg = config(
        tmp_path,
        {"src": MemorySourceConfig(type="memory", batches=batches, events_per_batch=events_per_batch)},
        {},
        {"out": CollectingOutputConfig(type="collect", inputs=["src"], delay_secs=delay_secs,
                                       buffer=BufferConfig(max_events=max_events))},
    )
    return RunningTopology(build_topology(cfg, once=once, host_name="h"))


async def run_to_end(cfg: LoadedConfig) -> RunningTopology:
    built = build_topology(cfg, once=True, host_name="testhost")
    running = RunningTopology(built)
    async with asyncio.timeout(20):
        async with asyncio.TaskGroup() as tg:
            running.start(tg)
    return running


class TestTopology:
    async def test_fanout_delivers_everything_and_acks_after_both_outputs(self, tmp_path: Path) -> None:
        """Every output receives every event, and the source's position reaches the end only once both settle."""
        cfg = config(
            tmp_path,
            {"src": MemorySourceConfig(type="memory", batches=5, events_per_batch=3)},
            {"up": UpperConfig(type="upper", inputs=["src"])},
            {"a": CollectingOutputConfig(type="collect", inputs=["up"]),
             "b": CollectingOutputConfig(type="collect", inputs=["src"])},
        )
        running = await run_to_end(cfg)
        a, b = CollectingOutput.instances
        assert [e["message"] for e in a.events] == [f"LINE {i}" for i in range(15)]
        assert [e["message"] for e in b.events] == [f"line {i}" for i in range(15)]
        source = running.built.sources[0].source
        assert source.positions[-1] == 5  # type: ignore[attr-defined]

    async def test_dropped_events_count_as_delivered(self, tmp_path: Path) -> None:
        """Events a transform drops never reach the output, yet the source position still advances."""
        cfg = config(
            tmp_path,
            {"src": MemorySourceConfig(type="memory", batches=4, events_per_batch=1)},
            {"up": UpperConfig(type="upper", inputs=["src"], drop_odd=True)},
            {"a": CollectingOutputConfig(type="collect", inputs=["up"])},
        )
        running = await run_to_end(cfg)
        assert [e["message"] for e in CollectingOutput.instances[0].events] == ["LINE 0", "LINE 2"]
        assert running.built.sources[0].source.positions[-1] == 4  # type: ignore[attr-defined]

    async def test_slow_output_bounds_what_is_in_flight(self, tmp_path: Path) -> None:
        """With a slow output the source waits: unacknowledged events never exceed the buffers' bounds."""
        running = memory_to_slow_output(tmp_path, batches=200, events_per_batch=10, delay_secs=0.001,
                                        max_events=50, once=True)
        built = running.built
        source = built.sources[0].source
        out = CollectingOutput.instances[0]
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while not running.finished.is_set():
                sent = (source.positions[-1] if source.positions else 0) * 10  # type: ignore[attr-defined]
                inbox = built.outputs[0].ctx.inbox.statistics().events
                peak = max(peak, inbox)
                assert len(out.events) >= sent
                await asyncio.sleep(0)

        async with asyncio.timeout(30):
            async with asyncio.TaskGroup() as tg:
                running.start(tg)
                tg.create_task(watch())
        assert peak <= 50
        assert len(out.events) == 2000
        assert [e["message"] for e in out.events] == [f"line {i}" for i in range(2000)]

    async def test_stop_drains_and_finishes(self, tmp_path: Path) -> None:
        """request_stop makes sources stop; everything they sent is still delivered before run returns."""
        running = memory_to_slow_output(tmp_path, batches=10_000, events_per_batch=1, delay_secs=0.0005,
                                        max_events=100, once=False)
        built = running.built
        async with asyncio.timeout(20):
            async with asyncio.TaskGroup() as tg:
                task = running.start(tg)
                await asyncio.sleep(0.05)
                assert await running.stop(10)
        assert task.done()
        out = CollectingOutput.instances[0]
        source = built.sources[0].source
        assert 0 < len(out.events) < 10_000
        assert source.positions[-1] == len(out.events)  # type: ignore[attr-defined]


class TestMemoryBufferBytes:
    def test_memory_buffer_bounded_by_bytes(self, tmp_path: Path) -> None:
        """A memory buffer's max_size_bytes bounds the output's inbox by bytes as well as events."""
        cfg = config(
            tmp_path,
            {"src": MemorySourceConfig(type="memory")},
            {},
            {"a": CollectingOutputConfig(type="collect", inputs=["src"],
                                         buffer=BufferConfig(max_events=100, max_size_bytes=65536))},
        )
        built = build_topology(cfg, once=True, host_name="h")
        inbox = built.outputs[0].ctx.inbox
        assert (inbox.max_events, inbox.max_bytes) == (100, 65536)
