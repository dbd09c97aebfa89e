"""The disk buffer between an output's upstream and the output itself.

Two tasks and a ticker:

* the **writer** takes batches from ``inbox`` (what the upstream fanouts
  feed), appends one record per batch to the active segment and settles each
  batch's upstream ack once its record is durable: after the fsync with
  ``fsync: always``, after the next interval fsync with ``interval``, right
  after the write with ``never``. A full buffer blocks the writer (so
  upstream waits) or drops the newest batch, counted, with ``drop_newest``.
* the **reader** streams records from the oldest unacknowledged position
  into ``out`` (the output's inbox), a chunk at a time. Each record gets a
  token from an ``OrderedAcks``; the longest settled prefix moves the
  ledger's read position, and a segment whose records are all settled is
  deleted. Damaged records are skipped and counted, never retried forever.
* the **ticker** runs the interval fsync and saves the ledger.

At a stop (SIGTERM) the reader hands the output nothing more once upstream
has ended, and what was not acknowledged stays on disk for the next start;
with ``--once``, or when the pipeline ends by itself, it drains the buffer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from logferry.agent.acks import AckStatus, AckToken
from logferry.agent.buffers.disk.crypto import BufferKeyring
from logferry.agent.buffers.disk.ledger import Ledger, Position
from logferry.agent.buffers.disk.reader import ReadItem, SegmentReader
from logferry.agent.buffers.disk.recover import check_keys, recover
from logferry.agent.buffers.disk.segment import release_lock, segment_path, take_lock
from logferry.agent.buffers.disk.state import (
    BufferStats,
    NotifyingAcks,
    PendingRecord,
    SegmentState,
    default_segment_bytes,
)
from logferry.agent.buffers.disk.writer import SegmentWriter
from logferry.agent.buffers.metrics import BufferMetrics
from logferry.agent.config.common import BufferConfig
from logferry.agent.event import Batch
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel

log = logging.getLogger(__name__)
T = TypeVar("T")
GROUP_BATCHES = 256  # batches written with one thread hop (group commit)
LEDGER_TICK_SECS = 0.1


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class DiskBuffer:
    def __init__(self, component_id: str, directory: Path, cfg: BufferConfig, inbox: Channel, out: Channel,
                 metrics: ComponentMetrics, *, once: bool = False, shutdown: asyncio.Event | None = None) -> None:
        """Check what can be checked without taking the directory over (keys, segment key ids)."""
        assert cfg.type == "disk" and cfg.max_size_bytes is not None
        self.component_id = component_id
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.keyring = BufferKeyring.from_config(cfg.encryption) if cfg.encryption is not None else None
        check_keys(directory, self.keyring)
        self.max_size = cfg.max_size_bytes
        self.segment_max = cfg.segment_max_bytes or default_segment_bytes(cfg.max_size_bytes)
        self.fsync = cfg.fsync or "interval"
        self.interval_secs = (cfg.fsync_interval_ms or 100) / 1000
        self.drop_when_full = cfg.when_full == "drop_newest"
        self.inbox, self.out = inbox, out
        self.component_metrics = metrics
        self.metrics = BufferMetrics(component_id, "disk")
        self.once, self.shutdown = once, shutdown
        self._encoder = msgspec.msgpack.Encoder(enc_hook=str)
        self._segments: dict[int, SegmentState] = {}
        self._write_pos: Position = (0, 0)
        self._acked: Position = (0, 0)
        self._replay_end: Position = (0, 0)
        self._records = self._events = self._acked_records = 0
        self._oldest_ms: int | None = None
        self._inflight: deque[tuple[Position, int, int]] = deque()  # (end, events, written_ms) sent, unsettled
        self._unsynced: list[AckToken] = []
        self._last_sync = time.monotonic()
        self._replayed = self._corrupt = self._dropped = self._truncated = 0
        self._ledger_dirty = False
        self._writer_done = self._reader_done = self._out_closed = self._upstream_ended = False
        self._data = asyncio.Event()
        self._acked_event = asyncio.Event()
        self._settled_event = asyncio.Event()
        self._io_lock = asyncio.Lock()
        self._hk_lock = asyncio.Lock()
        self._io_future: asyncio.Future[Any] | None = None
        self._read_future: asyncio.Future[Any] | None = None
        self._acks = NotifyingAcks(self._on_advance, self._on_settled)
        self._writer = SegmentWriter(directory, self.segment_max, self.keyring, self.fsync)
        self._reader = SegmentReader(directory, self.keyring)
        self._blocked_logged = False
        self._opened = False
        self._lock_fd = -1

    # -- lifecycle --------------------------------------------------------
    async def run(self) -> None:
        try:
            await asyncio.to_thread(self._open)
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._write_loop(), name=f"buffer-writer:{self.component_id}")
                tg.create_task(self._read_loop(), name=f"buffer-reader:{self.component_id}")
                tg.create_task(self._tick_loop(), name=f"buffer-ticker:{self.component_id}")
        finally:
            await asyncio.shield(self._close())

    def _open(self) -> None:
        self._lock_fd = take_lock(self.directory)
        rec = recover(self.directory)
        self._truncated = rec.truncated_bytes
        for sid, info in rec.segments.items():
            h = info.header
            self._segments[sid] = SegmentState(info.size, h.size if h else 0, h.key_id if h else None)
            if h is None:
                log.error("Disk buffer segment header is damaged; its records are skipped.",
                          extra={"component_id": self.component_id, "segment": sid, "error": info.problem})
        last = next(reversed(rec.segments.values()), None)
        if last is not None and last.header is not None and last.header.key_id == self._writer.key_id:
            self._writer.resume(last.segment_id, rec.tail_valid_end)
        else:
            self._writer.start((last.segment_id + 1) if last is not None else 1, _now_ms())
            self._track_new_segment()
        self._write_pos = self._replay_end = (self._writer.segment_id, self._writer.size)
        self._acked = rec.read if rec.segments else self._write_pos
        self._records, self._events, self._oldest_ms = rec.records, rec.events, rec.oldest_ms
        if rec.ledger_problem:
            log.error("Disk buffer ledger is damaged; replaying from the oldest segment (duplicates possible).",
                      extra={"component_id": self.component_id, "error": rec.ledger_problem})
        if rec.truncated_bytes:
            log.warning("Disk buffer: cut a torn record at the end of the last segment (written during a crash; "
                        "its batch was never acknowledged upstream).",
                        extra={"component_id": self.component_id, "bytes": rec.truncated_bytes})
        if rec.records:
            log.info("Disk buffer: replaying records left from the last run.",
                     extra={"component_id": self.component_id, "records": rec.records, "events": rec.events})
        self.metrics.oldest_age(self.oldest_age_secs)
        self._update_gauges()
        self._opened = True

    async def _close(self) -> None:
        if not self._opened:
            await self._close_out()
            return
        for fut in (self._io_future, self._read_future):
            if fut is not None and not fut.done():
                await asyncio.wait([fut])
        await asyncio.to_thread(self._writer.close)
        self._settle_synced(self._unsynced)
        self._reader.close()
        self._ledger_dirty = True
        await self._housekeep()
        await self._close_out()
        release_lock(self._lock_fd)

    async def _close_out(self) -> None:
        if not self._out_closed:
            self._out_closed = True
            await self.out.close()

    async def _io(self, fn: Callable[..., T], *args: Any) -> T:
        """Run file I/O in a thread; a cancelled caller does not cut it short (``_close`` waits for it)."""
        fut = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        self._io_future = fut
        return await asyncio.shield(fut)

    # -- writer -----------------------------------------------------------
    async def _write_loop(self) -> None:
        try:
            while True:
                batch = await self.inbox.recv()
                if batch is None:
                    self._upstream_ended = True
                    break
                group = [batch]
                while self.inbox.queued_batches and len(group) < GROUP_BATCHES:
                    more = await self.inbox.recv()
                    if more is None:
                        break
                    group.append(more)
                await self._write_group(group)
            if self.fsync == "interval":
                await self._sync()
        finally:
            self._writer_done = True
            self._data.set()

    async def _write_group(self, group: list[Batch]) -> None:
        now = _now_ms()
        pending: list[PendingRecord] = []
        for b in group:
            payload = self._encoder.encode(b.events)
            pending.append(PendingRecord(payload, len(b), now, b.ack, self._writer.record_bytes(payload)))
        while pending:
            budget = self.max_size - self._used()
            take: list[PendingRecord] = []
            for it in pending:
                if it.size > budget:
                    break
                take.append(it)
                budget -= it.size
            if not take:
                first = pending[0]
                if await self._make_room(first.size):
                    take = [first]
                else:
                    self._dropped += first.events
                    self.component_metrics.dropped(first.events, "buffer_full")
                    if first.ack is not None:
                        first.ack.settle(AckStatus.DELIVERED)
                    pending = pending[1:]
                    continue
            await self._append(take)
            pending = pending[len(take):]

    async def _append(self, items: list[PendingRecord]) -> None:
        backoff = 0.05
        while items:
            try:
                async with self._io_lock:
                    ends, rolled = await self._io(self._writer.append, [(i.payload, i.events, i.ms) for i in items],
                                                  _now_ms())
            except OSError as exc:  # a full or failing disk: upstream waits (nothing settled), then we retry
                self.component_metrics.error(type(exc).__name__, "writing")
                log.error("Disk buffer write failed; upstream waits and the write is retried.",
                          extra={"component_id": self.component_id, "error": str(exc)})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            done, items = items[:len(ends)], items[len(ends):]
            if rolled is not None:
                self._track_new_segment()
            sid, end = ends[-1]
            self._segments[sid].size = end
            self._write_pos = (sid, end)
            if self._records == 0:
                self._oldest_ms = done[0].ms
            self._records += len(done)
            n = sum(i.events for i in done)
            self._events += n
            self.metrics.received(n)
            tokens = [i.ack for i in done if i.ack is not None]
            if self.fsync == "interval":
                self._unsynced.extend(tokens)
            else:
                self._settle_synced(tokens)
            self._update_gauges()
            self._data.set()

    async def _make_room(self, size: int) -> bool:
        """Wait until ``size`` more bytes fit; False means drop (``drop_newest``). Never wedges: when
        everything written is acknowledged, the record is taken even if it is larger than the buffer."""
        while True:
            await self._housekeep()
            if self._used() + size <= self.max_size:
                return True
            if self._all_acked():
                if self._write_pos[1] > self._writer.header_bytes:
                    # Every record is acknowledged but the active segment still holds them: start a new one.
                    try:
                        async with self._io_lock:
                            sid = await self._io(self._writer.roll, _now_ms())
                    except OSError as exc:
                        log.error("Disk buffer could not start a new segment; retrying.",
                                  extra={"component_id": self.component_id, "error": str(exc)})
                        await asyncio.sleep(0.5)
                        continue
                    self._track_new_segment()
                    self._write_pos = (sid, self._writer.size)
                    self._acked = (sid, self._writer.size)
                    self._ledger_dirty = True
                    await self._housekeep()
                return True
            if self.drop_when_full:
                return False
            self._acked_event.clear()
            await self._acked_event.wait()

    def _track_new_segment(self) -> None:
        """Account for the segment the writer just started (it holds its header only)."""
        w = self._writer
        self._segments[w.segment_id] = SegmentState(w.header_bytes, w.header_bytes, w.key_id)

    async def _sync(self) -> None:
        async with self._io_lock:
            tokens, self._unsynced = self._unsynced, []
            await self._io(self._writer.sync)
            self._last_sync = time.monotonic()
        self._settle_synced(tokens)

    @staticmethod
    def _settle_synced(tokens: list[AckToken]) -> None:
        for t in tokens:
            t.settle(AckStatus.DELIVERED)
        tokens.clear()

    # -- reader -----------------------------------------------------------
    def _stopping(self) -> bool:
        """Upstream ended because of a stop (SIGTERM), not ``--once`` or the end of the pipeline: hand nothing more
        to the output, what is left stays on disk for the next start."""
        return (self._upstream_ended and not self.once and self.shutdown is not None
                and self.shutdown.is_set())

    async def _read_loop(self) -> None:
        sid, off = self._acked
        try:
            while True:
                if self._stopping():
                    break
                seg = self._segments.get(sid)
                write_sid, write_off = self._write_pos
                if seg is not None and seg.header_bytes == 0 and sid != write_sid:
                    # damaged header: skip the whole segment, counted
                    self._skip(ReadItem(0, seg.size, None, 0, 0, "segment_header"), sid)
                elif seg is not None:
                    limit = write_off if sid == write_sid else seg.size
                    off = max(off, seg.header_bytes)
                    if off < limit:
                        off = await self._read_chunk(sid, seg.key_id, off, limit)
                        continue
                # Nothing (more) to read in this segment: on to the next, or wait for the writer.
                nxt = min((s for s in self._segments if s > sid), default=None)
                if nxt is not None:
                    sid, off = nxt, 0
                elif self._writer_done:
                    break
                else:
                    self._data.clear()
                    await self._data.wait()
        finally:
            await self._close_out()
        while self._acks.pending and not self._acks.blocked:
            self._settled_event.clear()
            await self._settled_event.wait()
        self._reader_done = True

    async def _read_chunk(self, sid: int, key_id: str | None, off: int, limit: int) -> int:
        """Hand the output the records of one chunk from ``off``; returns where the next read starts."""
        self._read_future = asyncio.ensure_future(asyncio.to_thread(self._reader.read, sid, key_id, off, limit))
        items, new_off = await asyncio.shield(self._read_future)
        if new_off <= off:  # the file is shorter than it was: what is missing is skipped, counted
            items, new_off = [ReadItem(off, limit, None, 0, 0, "missing")], limit
        for item in items:
            if self._stopping():
                break  # the rest stays on disk, unacknowledged, for the next start
            await self._deliver(sid, item)
        return new_off

    async def _deliver(self, sid: int, item: ReadItem) -> None:
        pos = (sid, item.end)
        if item.events is None:
            self._skip(item, sid)
            return
        n = len(item.events)
        self._inflight.append((pos, n, item.written_ms))
        if pos <= self._replay_end:
            self._replayed += 1
            self.metrics.replayed(1, n)
        self.metrics.sent(n)
        await self.out.send(Batch.from_events(item.events, ack=self._acks.open(pos)))

    def _skip(self, item: ReadItem, sid: int) -> None:
        self._corrupt += 1
        self.metrics.corrupt(item.reason)
        log.warning("Disk buffer: skipped a damaged record.",
                    extra={"component_id": self.component_id, "segment": sid, "offset": item.offset,
                           "bytes": item.end - item.offset, "reason": item.reason})
        pos = (sid, item.end)
        self._inflight.append((pos, item.count, item.written_ms))
        self._acks.open(pos).settle(AckStatus.REJECTED)

    def _on_advance(self, pos: Position) -> None:
        self._acked = pos
        inflight = self._inflight
        while inflight and inflight[0][0] <= pos:
            _, n, _ = inflight.popleft()
            self._records = max(0, self._records - 1)
            self._events = max(0, self._events - n)
            self._acked_records += 1
        if self._records == 0:
            self._oldest_ms = None
        elif inflight:
            self._oldest_ms = inflight[0][2]
        self._ledger_dirty = True
        self._acked_event.set()
        self._update_gauges()

    def _on_settled(self) -> None:
        self._settled_event.set()
        if self._acks.blocked and not self._blocked_logged:
            self._blocked_logged = True
            log.error("The output gave up on a record from the disk buffer; it stays on disk and is sent again "
                      "after a restart.", extra={"component_id": self.component_id})

    # -- housekeeping -----------------------------------------------------
    async def _tick_loop(self) -> None:
        tick = min(self.interval_secs, LEDGER_TICK_SECS)
        while not self._reader_done:
            await asyncio.sleep(tick)
            if self.fsync == "interval" and self._unsynced and time.monotonic() - self._last_sync >= self.interval_secs:
                await self._sync()
            await self._housekeep()

    async def _housekeep(self) -> None:
        """Save the ledger if it moved, then delete segments whose every record is acknowledged."""
        async with self._hk_lock:
            asid, aoff = self._acked
            write_sid = self._write_pos[0]
            doomed = [sid for sid, seg in self._segments.items()
                      if sid != write_sid and (sid < asid or (sid == asid and aoff >= seg.size))]
            if not self._ledger_dirty and not doomed:
                return
            self._ledger_dirty = False
            ledger = Ledger(self._acked, self._write_pos, self._acked_records)
            await asyncio.to_thread(self._persist, ledger, doomed)
            for sid in doomed:
                self._segments.pop(sid, None)
            self._update_gauges()

    def _persist(self, ledger: Ledger, doomed: list[int]) -> None:
        ledger.save(self.directory, sync=self.fsync != "never")
        for sid in doomed:
            segment_path(self.directory, sid).unlink(missing_ok=True)

    # -- numbers ----------------------------------------------------------
    def _all_acked(self) -> bool:
        """True when the output has settled every record written (positions may sit on a segment boundary)."""
        asid, aoff = self._acked
        wsid, woff = self._write_pos
        if asid >= wsid:
            return asid > wsid or aoff >= woff
        between = [s for s in self._segments if asid < s < wsid]
        acked_seg = self._segments.get(asid)
        return (not between and (acked_seg is None or aoff >= acked_seg.size)
                and woff <= self._segments[wsid].header_bytes)

    def _used(self) -> int:
        return sum(s.size for s in self._segments.values())

    def _update_gauges(self) -> None:
        self.metrics.byte_size.set(self._used())
        self.metrics.events.set(self._events)

    def oldest_age_secs(self) -> float:
        return 0.0 if self._oldest_ms is None else max(0.0, time.time() - self._oldest_ms / 1000)

    def stats(self) -> BufferStats:
        return BufferStats(self._used(), self._records, self._events, self._replayed, self._corrupt,
                           self._dropped, self._truncated)
