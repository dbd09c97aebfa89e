"""The archive writer behind ``s3`` and ``archive``: partition, cut into range-named objects, store, ack.

Events are grouped per (partition prefix, stream), where the stream is the
``event.id`` prefix (one file on one host). A group becomes an object when
the next event would cross a deterministic boundary - a multiple of
``object_span_bytes`` in the stream's byte offsets, or the end of a range
this output cut before a restart (``ranges.CutJournal``) - or when it holds
``batch.max_events`` events or ``batch.max_bytes`` bytes counted from its
start, or when it is ``batch.timeout_secs`` old, or at end of stream.

Every input batch is reference counted over the objects holding its events;
its ack settles once the last of them is durably stored. Transient failures
are retried without limit with capped, jittered back-off while
``ctx.health`` says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from bisect import bisect_left, bisect_right
from itertools import accumulate, groupby
from operator import lt
from typing import TYPE_CHECKING

from logferry.agent.acks import AckStatus, AckToken
from logferry.agent.component import Output, OutputContext
from logferry.agent.event import Batch, Event
from logferry.outputs.delivery.retry import Backoff
from logferry.outputs.s3.encoder import Encoder
from logferry.outputs.s3.health import check_writable, probe_key
from logferry.outputs.s3.naming import (
    content_object_key,
    object_metadata,
    range_object_key,
    split_event_ids,
)
from logferry.outputs.s3.partition import Partitioner
from logferry.outputs.s3.ranges import CutJournal
from logferry.outputs.s3.retry import Outcome, classify
from logferry.outputs.s3.store import ArchiveObject, ObjectStore

if TYPE_CHECKING:
    from logferry.outputs.s3.config import ArchiveLayoutConfig

log = logging.getLogger(__name__)

JOURNAL_FILE = "cuts.jsonl"


class _BatchRef:
    """One input batch's ack, shared by every object that holds some of its events."""

    __slots__ = ("ack", "count", "status")

    def __init__(self, ack: AckToken | None) -> None:
        self.ack = ack
        self.count = 1  # held while the batch is being routed
        self.status = AckStatus.DELIVERED

    def release(self, status: AckStatus) -> None:
        self.status = max(self.status, status)
        self.count -= 1
        if self.count == 0 and self.ack is not None:
            self.ack.settle(self.status)


class _Group:
    """Events of one (partition, stream) on their way to becoming one object."""

    __slots__ = ("deadline", "events", "first", "last", "limit", "nbytes", "partition", "refs", "stream", "window")

    def __init__(self, partition: str, stream: str | None, first: int, window: int, limit: int | None,
                 deadline: float) -> None:
        self.partition = partition
        self.stream = stream
        self.events: list[Event] = []
        self.refs: list[_BatchRef] = []
        self.nbytes = 0
        self.first = first
        self.last = first
        self.window = window
        self.limit = limit
        self.deadline = deadline


class ArchiveOutput(Output):
    def __init__(self, cfg: ArchiveLayoutConfig, store: ObjectStore, component_id: str, *, concurrency: int = 2,
                 retry_initial_secs: float = 0.5, retry_max_secs: float = 30.0, healthcheck: bool = True) -> None:
        self._store = store
        self._component_id = component_id
        self._partitioner = Partitioner(cfg.partition, cfg.prefix, cfg.missing_value)
        self._encoder = Encoder(cfg.encoding, cfg.codec, cfg.compression_level)
        self._max_events = cfg.batch.max_events
        self._max_bytes = cfg.batch.max_bytes
        self._max_age = cfg.batch.timeout_secs
        self._span = cfg.object_span_bytes
        self._concurrency = concurrency
        self._retry = (retry_initial_secs, retry_max_secs)
        self._healthcheck = healthcheck
        self._probe_key = probe_key(cfg.prefix, component_id)
        self._groups: dict[tuple[str, str | None], _Group] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._journal = CutJournal(None)
        self._routing: _BatchRef | None = None
        self._cut: list[_Group] = []
        self.objects_written = 0

    async def healthcheck(self) -> None:
        if self._healthcheck:
            await check_writable(self._store, self._probe_key)

    async def run(self, ctx: OutputContext) -> None:
        self._ctx = ctx
        self._journal = CutJournal(ctx.data_dir / JOURNAL_FILE)
        self._slots = asyncio.Semaphore(self._concurrency)
        loop = asyncio.get_running_loop()
        try:
            while True:
                batch = await self._next_batch(loop)
                now = loop.time()
                if batch is not None:
                    ref = self._routing = _BatchRef(batch.ack)
                    ctx.metrics.received(len(batch))
                    await self._submit_all(self._route(batch, ref, now))
                    self._routing = None
                    ref.release(AckStatus.DELIVERED)
                await self._submit_all([self._groups.pop(k) for k, g in list(self._groups.items())
                                        if g.deadline <= now])
                if batch is None and self._inbox_done:
                    break
            rest = list(self._groups.values())
            self._groups.clear()
            await self._submit_all(rest)
            while self._tasks:
                await asyncio.gather(*list(self._tasks))
        except BaseException:
            self._abandon()
            raise
        finally:
            self._journal.close()

    async def _next_batch(self, loop: asyncio.AbstractEventLoop) -> Batch | None:
        """The next input batch, or ``None`` when the oldest group is due (or at end of stream)."""
        self._inbox_done = False
        if self._groups:
            remaining = min(g.deadline for g in self._groups.values()) - loop.time()
            if remaining <= 0:
                return None
            try:
                async with asyncio.timeout(remaining):
                    batch = await self._ctx.inbox.recv()
            except TimeoutError:
                return None
        else:
            batch = await self._ctx.inbox.recv()
        self._inbox_done = batch is None
        return batch

    def _route(self, batch: Batch, ref: _BatchRef, now: float) -> list[_Group]:
        """Add the batch's events to their groups; return the groups that must be cut now.

        Works on runs of consecutive events sharing (partition, stream) - a file
        source batch is usually one run - and finds each run's cut points with
        bisection; the cut rules are those of ``_add_one``, applied per event.
        """
        events = batch.events
        partitions = self._partitioner.render_all(events)
        streams, offsets = split_event_ids([e.get("event.id") for e in events])
        # Approximate encoded sizes, a pure function of each event so size cuts repeat on replay.
        sizes = [(len(m) if (m := e.get("message")).__class__ is str else 256) + 40 * len(e) for e in events]
        full: list[_Group] = []
        i = 0
        for key, run in groupby(zip(partitions, streams)):
            j = i + len(list(run))
            offs = offsets[i:j]
            if key[1] is None or all(map(lt, offs, offs[1:])):
                self._add_run(key, events, offsets, sizes, i, j, ref, now, full)
            else:  # offsets going backwards within a stream (odd topologies): the plain per-event path
                for k in range(i, j):
                    self._add_one(key, events[k], offsets[k], sizes[k], ref, now, full)
            i = j
        return full

    def _open_group(self, key: tuple[str, str | None], offset: int, now: float) -> _Group:
        partition, stream = key
        limit = self._journal.limit_for(partition, stream, offset) if stream is not None else None
        group = self._groups[key] = _Group(partition, stream, offset, offset // self._span if stream else 0, limit,
                                           now + self._max_age)
        return group

    def _must_cut_before(self, group: _Group, offset: int) -> bool:
        return group.stream is not None and (
            offset // self._span != group.window or offset <= group.last
            or (group.limit is not None and offset > group.limit))

    def _add_one(self, key: tuple[str, str | None], event: Event, offset: int, size: int, ref: _BatchRef,
                 now: float, full: list[_Group]) -> None:
        group = self._groups.get(key)
        if group is not None and self._must_cut_before(group, offset):
            full.append(self._groups.pop(key))
            group = None
        if group is None:
            group = self._open_group(key, offset, now)
        group.events.append(event)
        group.nbytes += size
        group.last = offset
        if not group.refs or group.refs[-1] is not ref:
            group.refs.append(ref)
            ref.count += 1
        if len(group.events) >= self._max_events or group.nbytes >= self._max_bytes:
            full.append(self._groups.pop(key))

    def _add_run(self, key: tuple[str, str | None], events: list[Event], offsets: list[int], sizes: list[int],
                 i: int, j: int, ref: _BatchRef, now: float, full: list[_Group]) -> None:
        """``_add_one`` for events[i:j], whose offsets ascend: whole slices at a time."""
        groups = self._groups
        while i < j:
            group = groups.get(key)
            if group is not None and self._must_cut_before(group, offsets[i]):
                full.append(groups.pop(key))
                group = None
            if group is None:
                group = self._open_group(key, offsets[i], now)
            end = min(j, i + self._max_events - len(group.events))
            if group.stream is not None:
                # The first offset past the window, or past the journal's limit, starts the next group.
                end = bisect_left(offsets, (group.window + 1) * self._span, i, end)
                if group.limit is not None:
                    end = bisect_right(offsets, group.limit, i, end)
            end = max(end, i + 1)  # the first event always fits (its cut checks passed above)
            # Events are added until the group holds max_bytes; the one that reaches it is included.
            cumulative = list(accumulate(sizes[i:end]))
            reach = bisect_left(cumulative, self._max_bytes - group.nbytes)
            if reach < len(cumulative):
                end = i + reach + 1
            group.events.extend(events[i:end])
            group.nbytes += cumulative[end - i - 1]
            group.last = offsets[end - 1]
            if not group.refs or group.refs[-1] is not ref:
                group.refs.append(ref)
                ref.count += 1
            if len(group.events) >= self._max_events or group.nbytes >= self._max_bytes:
                full.append(groups.pop(key))
            i = end

    async def _submit_all(self, groups: list[_Group]) -> None:
        # Kept in `_cut` until a task owns them, so a cancel while waiting for a slot still settles them.
        self._cut = groups
        while self._cut:
            await self._submit(self._cut[0])
            self._cut.pop(0)

    async def _submit(self, group: _Group) -> None:
        await self._slots.acquire()  # at `concurrency` objects in flight this waits: backpressure
        if group.stream is not None:
            self._journal.record(group.partition, group.stream, group.first, group.last)
        task = asyncio.create_task(self._deliver(group))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _build(self, group: _Group) -> ArchiveObject:
        body = self._encoder.encode(group.events)
        sha = hashlib.sha256(body).hexdigest()
        ext = self._encoder.extension
        if group.stream is not None:
            key = range_object_key(group.partition, group.stream, group.first, group.last, ext)
        else:
            key = content_object_key(group.partition, sha, ext)
        meta = object_metadata(len(group.events), group.events[0].get("event.id"),
                               group.events[-1].get("event.id"), sha)
        return ArchiveObject(key, body, sha, self._encoder.content_type, self._encoder.content_encoding, meta)

    async def _deliver(self, group: _Group) -> None:
        ctx = self._ctx
        status = AckStatus.ERRORED
        try:
            try:
                obj = await asyncio.to_thread(self._build, group)
            except Exception:
                log.exception("Could not encode an archive object; its batches stay unacknowledged.",
                              extra={"component_id": self._component_id, "events": len(group.events)})
                ctx.metrics.error("encode_failed", "processing")
                return
            backoff = Backoff(*self._retry)
            while True:
                try:
                    await asyncio.to_thread(self._store.put, obj)
                    break
                except Exception as exc:  # noqa: BLE001 - classified below
                    outcome, reason = classify(exc)
                    ctx.metrics.error(type(exc).__name__, "sending")
                    if outcome is Outcome.FAIL:
                        log.error("Archive object rejected; its batches settle as errored.",
                                  extra={"component_id": self._component_id, "key": obj.key, "reason": reason})
                        return
                    ctx.health.fail(f"{self._store.description}: {reason} (retrying)")
                    delay = backoff.next_delay()
                    level = logging.ERROR if outcome is Outcome.WAIT else logging.WARNING
                    log.log(level, "Archive write failed; retrying.",
                            extra={"component_id": self._component_id, "key": obj.key, "reason": reason,
                                   "attempt": backoff.attempt, "delay_secs": round(delay, 3)})
                    await asyncio.sleep(delay)
            if backoff.attempt:
                ctx.health.ok()
            self.objects_written += 1
            ctx.metrics.sent(len(group.events), len(obj.body))
            status = AckStatus.DELIVERED
        finally:
            for ref in group.refs:
                ref.release(status)
            group.refs = []
            self._slots.release()

    def _abandon(self) -> None:
        """Shutdown without finishing: unsent groups settle ERRORED so their lines are read again."""
        if self._routing is not None:
            self._routing.release(AckStatus.ERRORED)
            self._routing = None
        for group in [*self._cut, *self._groups.values()]:
            for ref in group.refs:
                ref.release(AckStatus.ERRORED)
        self._cut = []
        self._groups.clear()
        for task in list(self._tasks):
            task.cancel()
