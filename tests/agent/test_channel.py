"""Bounded channels: backpressure, end of stream, dropping when configured."""

import asyncio

import pytest

from logferry.agent.acks import OrderedAcks
from logferry.agent.event import Batch
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout


def batch(n: int, ack=None) -> Batch:
    return Batch.from_events([{"message": str(i)} for i in range(n)], ack)


class TestChannel:
    async def test_send_blocks_when_full(self) -> None:
        """A sender waits while the channel holds max_events, and resumes after a receive."""
        ch = Channel(max_events=2)
        await ch.send(batch(2))
        blocked = asyncio.ensure_future(ch.send(batch(1)))
        await asyncio.sleep(0.01)
        assert not blocked.done()
        assert len(await ch.recv()) == 2
        await asyncio.wait_for(blocked, 1)
        assert ch.statistics().events == 1

    async def test_oversized_batch_enters_empty_channel(self) -> None:
        """A batch larger than the bound is accepted when the channel is empty, so nothing wedges."""
        ch = Channel(max_events=1)
        await asyncio.wait_for(ch.send(batch(5)), 1)
        assert len(await ch.recv()) == 5

    async def test_end_of_stream_after_all_senders_close(self) -> None:
        """recv returns None only once every sender has closed and the queue is drained."""
        ch = Channel(max_events=10, senders=2)
        await ch.send(batch(1))
        await ch.close()
        await ch.close()
        assert await ch.recv() is not None
        assert await ch.recv() is None

    async def test_drop_newest_counts_and_settles(self) -> None:
        """With drop_when_full a full channel drops the batch, counts it and settles its ack."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        ch = Channel(max_events=1, drop_when_full=True)
        await ch.send(batch(1))
        await ch.send(batch(3, acks.open(9)))
        assert ch.dropped_events == 3
        assert seen == [9]

    async def test_send_after_close_raises(self) -> None:
        """Sending on a channel whose senders all closed is a programming error."""
        ch = Channel()
        await ch.close()
        with pytest.raises(RuntimeError):
            await ch.send(batch(1))


class TestFanout:
    async def test_every_consumer_holds_a_reference(self) -> None:
        """Fan-out to two outputs settles the source batch only after both settle."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        a, b = Channel(), Channel()
        f = Fanout([(a, False), (b, False)])
        await f.send(batch(1, acks.open(4)))
        (await a.recv()).ack.settle()
        assert seen == []
        (await b.recv()).ack.settle()
        assert seen == [4]

    async def test_mutating_consumers_get_copies(self) -> None:
        """A transform consumer gets its own copy, so it cannot change what another consumer sees."""
        a, b = Channel(), Channel()
        f = Fanout([(a, True), (b, False)])
        await f.send(batch(1))
        ba, bb = await a.recv(), await b.recv()
        ba.events[0]["message"] = "changed"
        assert bb.events[0]["message"] == "0"


class TestByteBound:
    async def test_send_blocks_on_bytes_before_events(self) -> None:
        """With max_bytes a channel is full once its event text reaches the bound, whatever the event count."""
        ch = Channel(max_events=1000, max_bytes=3000)
        big = Batch.from_lines(["x" * 1000] * 2, {}, None)  # ~2.5 kB with per-event overhead
        await ch.send(big)
        blocked = asyncio.ensure_future(ch.send(Batch.from_lines(["y" * 1000], {}, None)))
        await asyncio.sleep(0.01)
        assert not blocked.done()
        assert ch.statistics().bytes > 2000
        await ch.recv()
        await asyncio.wait_for(blocked, 1)
        assert ch.statistics().events == 1
