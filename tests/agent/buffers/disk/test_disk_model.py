"""Model-based test of the disk buffer (hypothesis stateful): real files against a list of unacknowledged batches.

The model is the ordered list of batches written and not yet acknowledged by
the output. Operations: write a batch, read (the buffer hands over the
oldest batch not yet handed over), acknowledge the oldest k handed-over
batches, restart (stop and reopen the buffer from its files), and damage
(flip a byte inside the record of a not-yet-read batch: that batch is then
skipped and counted, never anything else). A tiny segment size makes
rollover and deletion happen constantly.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from logferry.agent.acks import AckStatus
from logferry.agent.buffers.disk.segment import list_segments, segment_path
from logferry.agent.event import Batch
from tests.agent.buffers.disk.harness import BufferRun

SEGMENT_BYTES = 4096


class DiskBufferModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self._tmp.name) / "buf"
        self.loop = asyncio.new_event_loop()
        self.next_first = 0
        self.unacked: list[int] = []      # model: first event number of every unacknowledged batch, in order
        self.handed: list[Batch] = []     # batches the buffer handed over and the test holds unsettled
        self.damaged = 0                  # records damaged on purpose
        self.run = self._start()

    def _start(self) -> BufferRun:
        async def start() -> BufferRun:
            return BufferRun(self.dir, once=False, segment_max_bytes=SEGMENT_BYTES, max_events=10_000,
                             fsync="never").start()
        return self.loop.run_until_complete(start())

    def _await(self, coro: object) -> object:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 10))  # type: ignore[arg-type]

    @rule(n=st.integers(1, 40))
    def write(self, n: int) -> None:
        """Write one batch of n events."""
        self._await(self.run.send(self.next_first, n))
        self.unacked.append(self.next_first)
        self.next_first += n

    @precondition(lambda self: len(self.handed) < len(self.unacked))
    @rule()
    def read(self) -> None:
        """The buffer hands over the oldest batch not yet handed over."""
        batch = self._await(self.run.out.recv())
        assert isinstance(batch, Batch)
        assert int(batch.events[0]["message"].split()[1]) == self.unacked[len(self.handed)]
        self.handed.append(batch)

    @precondition(lambda self: self.handed)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        """The output acknowledges the oldest k batches it holds."""
        k = data.draw(st.integers(1, len(self.handed)))
        for b in self.handed[:k]:
            assert b.ack is not None
            b.ack.settle(AckStatus.DELIVERED)
        self.handed = self.handed[k:]
        self.unacked = self.unacked[k:]

    def _stop(self) -> None:
        async def stop() -> None:
            self.run.shutdown.set()
            await self.run.close_upstream()
            for b in self.handed:  # what the output held when it was stopped is not acknowledged
                assert b.ack is not None
                b.ack.settle(AckStatus.ERRORED)
            await self.run.drain(settle=AckStatus.ERRORED)
            await self.run.finish()
        self._await(stop())
        self.handed = []

    @rule()
    def restart(self) -> None:
        """Stop and reopen from the files: every unacknowledged batch comes back, in order."""
        self._stop()
        self.run = self._start()

    @precondition(lambda self: self.unacked)
    @rule(data=st.data())
    def damage(self, data: st.DataObject) -> None:
        """While stopped, flip a byte in one unacknowledged record: that batch alone is skipped and counted."""
        self._stop()
        first = data.draw(st.sampled_from(self.unacked))
        for sid in list_segments(self.dir):
            path = segment_path(self.dir, sid)
            raw = bytearray(path.read_bytes())
            at = _find_message(raw, first)
            if at >= 0:
                raw[at] ^= 0x20
                path.write_bytes(bytes(raw))
                break
        else:
            raise AssertionError(f"record of batch {first} not found")
        self.unacked.remove(first)
        self.damaged += 1
        self.run = self._start()

    @invariant()
    def segments_bounded(self) -> None:
        """After housekeeping, segments whose records are all acknowledged are gone (a record spans one segment).

        Housekeeping runs on a 0.1 s tick, and the model runs the loop only for
        moments: when the bound is exceeded, the pass the tick would make is
        run here before judging (without it the check failed whenever no tick
        fell between the steps).
        """
        bound = 2 + len(self.unacked) + self.damaged
        if len(list_segments(self.dir)) > bound:
            self._await(self.run.buffer._housekeep())
        assert len(list_segments(self.dir)) <= bound

    def teardown(self) -> None:
        try:
            self._stop()
        finally:
            self.loop.close()
            self._tmp.cleanup()


def _find_message(raw: bytearray, first: int) -> int:
    """Offset of the first event's message text of batch ``first`` (exact number, not a prefix)."""
    text = f"line {first}".encode()
    start = 0
    while (at := raw.find(text, start)) >= 0:
        after = raw[at + len(text):at + len(text) + 1]
        if not after.isdigit():
            return at
        start = at + 1
    return -1


TestDiskBufferModel = DiskBufferModel.TestCase
TestDiskBufferModel.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
