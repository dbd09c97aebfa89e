"""The disk buffer end to end on real files: durability acks, restart replay, damage, full buffers, encryption."""

from __future__ import annotations

import asyncio
import base64
import os
import tracemalloc
from pathlib import Path

import msgspec
import pytest

from logferry.agent.acks import AckStatus
from logferry.agent.buffers.disk.buffer import DiskBuffer
from logferry.agent.buffers.disk.ledger import Ledger
from logferry.agent.buffers.disk.reader import SegmentReader
from logferry.agent.buffers.disk.recover import recover
from logferry.agent.buffers.disk.segment import list_segments, open_header, segment_path
from logferry.agent.config.common import BufferConfig
from logferry.agent.errors import BuildError
from logferry.agent.telemetry import ComponentMetrics, render
from logferry.agent.topology.channel import Channel
from tests.agent.buffers.disk.harness import BufferRun, fill, messages, metric, replay

KEY = base64.b64encode(bytes(range(32))).decode()


class TestDiskBuffer:
    async def test_delivers_in_order_and_acks_upstream(self, tmp_path: Path) -> None:
        """Every batch reaches the output in order and every upstream ack settles once written."""
        run = BufferRun(tmp_path / "b", fsync="always").start()
        for i in range(20):
            await run.send(i * 5, 5)
        await run.close_upstream()
        got = await run.drain()
        await run.finish()
        assert messages(got) == list(range(100))
        assert run.upstream_positions[-1] == 100
        assert run.buffer.stats().records == 0

    async def test_upstream_ack_waits_for_the_interval_fsync(self, tmp_path: Path) -> None:
        """With `fsync: interval` the upstream ack settles only after the record is written and fsynced."""
        run = BufferRun(tmp_path / "b", fsync="interval", fsync_interval_ms=200).start()
        await run.send(0, 3)
        await run.take(1, settle=None)  # the reader saw the record: it is written
        assert run.upstream_positions == []  # ... but not yet fsynced
        async with asyncio.timeout(5):
            while not run.upstream_positions:
                await asyncio.sleep(0.01)
        assert run.upstream_positions == [3]
        await run.close_upstream()
        run.received[0].ack.settle()  # type: ignore[union-attr]
        await run.drain()
        await run.finish()

    async def test_restart_replays_unacknowledged_records_in_order(self, tmp_path: Path) -> None:
        """Records the output did not settle before a stop come back after a restart, in order, counted as replayed."""
        d = tmp_path / "b"
        first = await fill(d, 30, segment_max_bytes=4096)
        assert first.upstream_positions[-1] == 300  # everything was durable, so upstream moved on
        records_before = metric("logferry_buffer_replayed_records_total", d)
        events_before = metric("logferry_buffer_replayed_events_total", d)
        second, got = await replay(d, segment_max_bytes=4096)
        assert got == list(range(300))
        assert second.buffer.stats().replayed_records == 30
        assert metric("logferry_buffer_replayed_records_total", d) - records_before == 30
        assert metric("logferry_buffer_replayed_events_total", d) - events_before == 300

    async def test_acknowledged_records_are_not_replayed_and_segments_are_deleted(self, tmp_path: Path) -> None:
        """After the output settles a prefix, a restart replays only the rest, and fully settled segments are gone."""
        d = tmp_path / "b"
        await fill(d, 40, delivered=25, segment_max_bytes=4096)
        ledger = Ledger.load(d)
        assert ledger is not None
        # The run itself deleted the segments before the one it resumes in (not just the next start's recovery).
        assert list_segments(d)[0] >= ledger.read[0] > 1
        _, got = await replay(d, segment_max_bytes=4096)
        assert got == list(range(250, 400))
        assert len(list_segments(d)) == 1  # only the active segment is left

    async def test_torn_last_record_is_cut_at_restart(self, tmp_path: Path) -> None:
        """Half a record at the end of the last segment (a crash mid-write) is cut off; every whole record is kept."""
        d = tmp_path / "b"
        await fill(d, 5)
        last = segment_path(d, list_segments(d)[-1])
        whole = last.read_bytes()
        last.write_bytes(whole + b"LFR1" + os.urandom(40))
        run, got = await replay(d)
        assert got == list(range(50))
        assert run.buffer.stats().truncated_bytes == 44
        assert last.read_bytes() == whole
        assert run.buffer.stats().corrupt_records == 0

    async def test_bit_flip_skips_one_record_and_counts_it(self, tmp_path: Path) -> None:
        """A flipped bit inside a record loses that record only: it is skipped and counted, the rest arrive."""
        d = tmp_path / "b"
        await fill(d, 10, fsync="never")
        seg = segment_path(d, list_segments(d)[0])
        data = bytearray(seg.read_bytes())
        rec = recover(d, modify=False)
        assert rec.records == 10
        # Flip a bit in the payload of the 4th record.
        data[data.index(b"line 30")] ^= 0x01
        seg.write_bytes(bytes(data))
        counted_before = metric("logferry_buffer_corrupt_records_total", d, reason="checksum")
        run, got = await replay(d)
        assert got == [i for i in range(100) if not 30 <= i < 40]
        assert run.buffer.stats().corrupt_records == 1
        assert metric("logferry_buffer_corrupt_records_total", d, reason="checksum") - counted_before == 1

    async def test_damaged_length_field_resyncs_on_the_next_record(self, tmp_path: Path) -> None:
        """A damaged length in a record header does not derail reading: the next record is found by its magic."""
        d = tmp_path / "b"
        await fill(d, 10)
        seg = segment_path(d, list_segments(d)[0])
        data = bytearray(seg.read_bytes())
        starts = [i for i in range(len(data)) if data[i:i + 4] == b"LFR1"]
        data[starts[2] + 8:starts[2] + 12] = (10**6).to_bytes(4, "little")
        seg.write_bytes(bytes(data))
        _, got = await replay(d)
        assert got == [i for i in range(100) if not 20 <= i < 30]

    async def test_damaged_segment_header_skips_that_segment(self, tmp_path: Path) -> None:
        """A segment whose header is damaged is skipped whole and counted; later segments are still delivered."""
        d = tmp_path / "b"
        await fill(d, 30, segment_max_bytes=4096)
        ids = list_segments(d)
        assert len(ids) >= 3
        first = segment_path(d, ids[0])
        lost = _segment_messages(d, ids[0])
        assert lost and lost[0] == 0
        data = bytearray(first.read_bytes())
        data[0] ^= 0xFF
        first.write_bytes(bytes(data))
        counted_before = metric("logferry_buffer_corrupt_records_total", d, reason="segment_header")
        run, seen = await replay(d, segment_max_bytes=4096)
        assert seen == [i for i in range(300) if i not in lost]
        assert run.buffer.stats().corrupt_records == 1
        assert metric("logferry_buffer_corrupt_records_total", d, reason="segment_header") - counted_before == 1

    async def test_damaged_ledger_replays_everything(self, tmp_path: Path) -> None:
        """An unreadable ledger means replaying from the oldest segment: duplicates at worst, never a loss."""
        d = tmp_path / "b"
        await fill(d, 5, delivered=2)
        ledger = Ledger.load(d)
        assert ledger is not None and ledger.acked_records == 2  # a restart would resume after line 19 ...
        Ledger.path(d).write_text("{not json")
        _, got = await replay(d)
        assert got == list(range(50))  # ... but without a ledger the acknowledged lines come again too

    async def test_full_buffer_blocks_upstream_until_the_output_settles(self, tmp_path: Path) -> None:
        """With `when_full: block` upstream acks stop at the size limit and resume as the output settles."""
        run = BufferRun(tmp_path / "b", max_size_bytes=16384, segment_max_bytes=4096, max_events=10).start()
        sender = asyncio.ensure_future(_send_many(run, 100, 10, pad="x" * 50))
        await asyncio.sleep(0.3)
        stalled_at = run.upstream_positions[-1]
        assert stalled_at < 1000
        assert run.buffer.stats().bytes <= 16384 + 4096
        got = await run.drain()
        await sender
        await run.finish()
        assert messages(got) == list(range(1000))
        assert run.upstream_positions[-1] == 1000

    async def test_drop_newest_drops_and_counts(self, tmp_path: Path) -> None:
        """With `when_full: drop_newest` batches that do not fit are dropped, counted, and settled upstream."""
        run = BufferRun(tmp_path / "b", max_size_bytes=8192, segment_max_bytes=4096, when_full="drop_newest",
                        max_events=10).start()
        dropped_before = metric("logferry_component_discarded_events_total", run.buffer.directory,
                                reason="buffer_full", intentional="true")
        await _send_many(run, 100, 10, pad="x" * 50)
        await run.close_upstream()
        await asyncio.sleep(0.1)
        got = await run.drain()
        await run.finish()
        stats = run.buffer.stats()
        assert stats.dropped_events > 0
        assert len(messages(got)) + stats.dropped_events == 1000
        assert metric("logferry_component_discarded_events_total", run.buffer.directory,
                      reason="buffer_full", intentional="true") - dropped_before == stats.dropped_events
        assert run.upstream_positions[-1] == 1000

    async def test_stop_leaves_unread_records_on_disk(self, tmp_path: Path) -> None:
        """At a shutdown the buffer stops handing records over once upstream ends; the rest wait on disk."""
        d = tmp_path / "b"
        run = await fill(d, 50, max_events=20)
        assert len(run.received) < 50
        assert recover(d, modify=False).records == 50

    async def test_start_memory_does_not_grow_with_the_buffer(self, tmp_path: Path) -> None:
        """Opening a buffer of ~4 MiB allocates far less than its size: it is streamed, never loaded."""
        d = tmp_path / "b"
        await fill(d, 400, per=200, segment_max_bytes=1 << 20, max_size_bytes=64 << 20, max_events=200)
        size = sum(p.stat().st_size for p in d.glob("*.seg"))
        assert size > 3 << 20
        tracemalloc.start()
        rec = recover(d)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert rec.events == 80_000
        assert peak < size / 4

    async def test_encrypted_records_hold_no_plaintext_and_replay(self, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """With encryption on, segment files hold no message text, name the key id, and decrypt after a restart."""
        monkeypatch.setenv("LF_TEST_BUFFER_KEY", KEY)
        enc = {"key_id": "k1", "key_env": "LF_TEST_BUFFER_KEY"}
        d = tmp_path / "b"
        await fill(d, 5, encryption=enc)
        raw = b"".join(p.read_bytes() for p in d.glob("*.seg"))
        assert b"line 1" not in raw and b"k1" in raw
        _, got = await replay(d, encryption=enc)
        assert got == list(range(50))

    async def test_segment_with_unknown_key_id_is_a_build_error(self, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
        """A segment encrypted with a key that is no longer configured stops the start with a clear error."""
        monkeypatch.setenv("LF_TEST_BUFFER_KEY", KEY)
        d = tmp_path / "b"
        await fill(d, 2, encryption={"key_id": "old", "key_env": "LF_TEST_BUFFER_KEY"})
        cfg = msgspec.convert({"type": "disk", "max_size_bytes": 1 << 20,
                               "encryption": {"key_id": "new", "key_env": "LF_TEST_BUFFER_KEY"}}, BufferConfig)
        with pytest.raises(BuildError, match="encrypted with key id 'old'"):
            DiskBuffer("x", d, cfg, Channel(), Channel(), ComponentMetrics("x", "output", "t"))

    async def test_key_rotation_reads_old_segments_with_previous_keys(self, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        """After a key rotation, old segments decrypt with `previous_keys` and new ones use the new key."""
        monkeypatch.setenv("LF_TEST_BUFFER_KEY", KEY)
        monkeypatch.setenv("LF_TEST_BUFFER_KEY2", bytes(range(1, 33)).hex())
        d = tmp_path / "b"
        await fill(d, 3, encryption={"key_id": "old", "key_env": "LF_TEST_BUFFER_KEY"})
        enc = {"key_id": "new", "key_env": "LF_TEST_BUFFER_KEY2",
               "previous_keys": [{"key_id": "old", "key_env": "LF_TEST_BUFFER_KEY"}]}
        run = BufferRun(d, encryption=enc).start()  # type: ignore[arg-type]
        await run.send(30, 10)
        await run.close_upstream()
        assert messages(await run.drain()) == list(range(40))
        await run.finish()

    async def test_metrics_report_bytes_and_events(self, tmp_path: Path) -> None:
        """The buffer's gauges show what it holds after a stop with unsettled records."""
        d = tmp_path / "b"
        run = await fill(d, 7)
        text = render().decode()
        line = next(x for x in text.splitlines()
                    if x.startswith("logferry_buffer_events{") and f'component_id="buf-{d.name}"' in x)
        assert line.endswith(" 70.0")
        on_disk = sum(p.stat().st_size for p in d.glob("*.seg"))
        assert run.buffer.stats().bytes == on_disk > 0
        assert metric("logferry_buffer_byte_size", d) == on_disk


def _segment_messages(directory: Path, segment_id: int) -> list[int]:
    """Event numbers held by one (plain) segment, read straight from the file."""
    path = segment_path(directory, segment_id)
    reader = SegmentReader(directory, None)
    try:
        items, _ = reader.read(segment_id, None, open_header(path, segment_id).size, path.stat().st_size)
    finally:
        reader.close()
    return [int(e["message"].split()[1]) for item in items for e in item.events or []]


async def _send_many(run: BufferRun, batches: int, per: int, pad: str = "") -> None:
    for i in range(batches):
        await run.send(i * per, per, pad)
    await run.close_upstream()


class TestRejected:
    async def test_rejected_records_advance_like_delivered(self, tmp_path: Path) -> None:
        """A record the output rejects is not replayed: rejection moves the ledger like delivery does."""
        d = tmp_path / "b"
        run = BufferRun(d, once=False).start()
        for i in range(3):
            await run.send(i * 10, 10)
        await run.take(3, settle=AckStatus.REJECTED)
        run.shutdown.set()
        await run.close_upstream()
        await run.drain()
        await run.finish()
        assert recover(d, modify=False).records == 0
