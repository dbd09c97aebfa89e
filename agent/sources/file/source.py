"""The `file` source: discovers files, reads them fairly, and sends one batch per chunk.

Shape of the loop: every open file gets one chunk per round (round robin,
one thread hop per chunk); when a full round reads nothing, the source does
its housekeeping (rotation, deletion, multiline timeouts, gzip archives
finished) and sleeps until a watchfiles notification, the rescan interval or
the poll interval. Rotation handling lives in ``rotation.py``.

Positions: each file identity (``Stream``) has an ``OrderedAcks``; a batch's
token carries the offset just past its last complete event, so the
checkpoint only ever covers settled lines, in read order. Checkpoints are
written every ``checkpoint_interval_secs`` and in ``finalize``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from logferry.agent.component import BuildContext, Source, SourceContext
from logferry.agent.event import Batch
from logferry.agent.sources.file.checkpoint import CheckpointStore
from logferry.agent.sources.file.fingerprint import FingerprintPolicy, checksum_key
from logferry.agent.sources.file.framing import Framed
from logferry.agent.sources.file.rotation import Tracker
from logferry.agent.sources.file.watcher import ChangeNotifier, GlobSet
from logferry.agent.telemetry import gauge
from logferry.agent.timeutil import iso_now

if TYPE_CHECKING:
    from logferry.agent.sources.file.config import FileSourceConfig
    from logferry.agent.sources.file.reader import FileReader

log = logging.getLogger(__name__)

MAX_BATCH_LINES = 4096
# Rescans triggered by notifications are spaced at least this far apart (a busy directory
# notifies on every write); growth of open files is still read at once.
NOTIFY_RESCAN_COOLDOWN_SECS = 0.25

_BYTES_BEHIND = ("logferry_file_bytes_behind", "Bytes of a file not read yet (size - read offset).",
                 ("component_id", "path"))
_CHECKPOINT_AGE = ("logferry_checkpoint_age_seconds", ("Seconds the file source's on-disk checkpoints lag "
                   "behind the positions in memory (0 when up to date)."), ("component_id",))
_FILES_OPEN = ("logferry_files_open", "Files the file source holds open.", ("component_id",))


class FileSource(Source):
    """Tails the files matched by ``include``/``exclude`` and ships their lines."""

    def __init__(self, cfg: FileSourceConfig, ctx: BuildContext) -> None:
        self.cfg = cfg
        self.component_id = ctx.component_id
        self.host = ctx.host_name
        # Relative globs are relative to the working directory at start, like data_dir.
        self.globs = GlobSet([os.path.abspath(p) for p in cfg.include], [os.path.abspath(p) for p in cfg.exclude])
        self.policy = FingerprintPolicy(cfg.fingerprint.strategy, cfg.fingerprint.bytes,
                                        cfg.fingerprint.ignored_header_bytes)
        self.store = CheckpointStore(ctx.data_dir)
        self.tracker = Tracker(self, acknowledgements=ctx.acknowledgements)
        self._ctx: SourceContext | None = None
        self._wake = asyncio.Event()
        self._scan_requested = False
        self._wakes = 0  # notifications so far
        self._persist_lock = asyncio.Lock()
        self._synced_at = time.time()
        self._bytes_behind = gauge(*_BYTES_BEHIND)
        self._checkpoint_age = gauge(*_CHECKPOINT_AGE).labels(self.component_id)
        self._files_open = gauge(*_FILES_OPEN).labels(self.component_id)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, ctx: SourceContext) -> None:
        self._ctx = ctx
        self.tracker.acknowledgements = ctx.acknowledgements
        await asyncio.to_thread(self.store.load)
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._persist_loop(stop))
            relay = tg.create_task(self._wake_on(ctx.shutdown))
            if not ctx.once:
                notifier = ChangeNotifier(self.globs, self._on_change, self.cfg.rescan_interval_secs)
                tg.create_task(notifier.run(stop))
            try:
                await self._read_loop(ctx)
            finally:
                stop.set()
                relay.cancel()
        await self._persist()

    async def finalize(self) -> None:
        """Write the checkpoints one last time (every output has settled what it could)."""
        await asyncio.shield(self._persist())

    def statistics(self) -> dict[str, Any]:
        """Per-file positions, for debugging."""
        files: dict[str, Any] = {}
        for reader in self.tracker.readers.values():
            stream = reader.stream
            files[reader.path] = {
                "key": stream.key if stream else None,
                "read_offset": reader.offset,
                "framed_offset": reader.framer.end,
                "committed_offset": stream.committed if stream else None,
                "size": reader.size,
                "rotated": reader.rotated,
                "pending_batches": stream.acks.pending if stream and stream.acks else 0,
            }
        return {"files": files, "checkpoints": len(self.store.entries)}

    # -- reading -----------------------------------------------------------------------------

    async def _read_loop(self, ctx: SourceContext) -> None:
        loop = asyncio.get_running_loop()
        await self.tracker.scan(startup=True)
        last_scan = loop.time()
        shutdown = ctx.shutdown
        poll_secs = self.cfg.poll_interval_ms / 1000.0
        while not shutdown.is_set():
            progressed = False
            for reader in list(self.tracker.readers.values()):
                if shutdown.is_set():
                    return
                if reader.finished:
                    continue
                # A file at EOF is looked at again after the poll interval or a notification,
                # so idle files cost no thread hop per chunk read from a busy one.
                if (reader.eof_at is not None and reader.eof_wakes == self._wakes
                        and loop.time() - reader.eof_at < poll_secs):
                    continue
                if await self._step(reader):
                    progressed = True
                    reader.eof_at = None
                else:
                    reader.eof_at = loop.time()
                    reader.eof_wakes = self._wakes
            if shutdown.is_set():
                return
            now = loop.time()
            if not progressed:
                if ctx.once:
                    for reader in list(self.tracker.readers.values()):
                        await self.tracker.finish(reader)
                    return
                await self.tracker.housekeeping(now)
            if now - last_scan >= self.cfg.rescan_interval_secs or (
                    self._scan_requested and now - last_scan >= NOTIFY_RESCAN_COOLDOWN_SECS):
                self._scan_requested = False
                await self.tracker.scan(startup=False)
                last_scan = loop.time()
                continue
            if not progressed:
                timeout = min(poll_secs,
                              max(0.0, last_scan + self.cfg.rescan_interval_secs - now))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()

    async def _step(self, reader: FileReader) -> bool:
        """Read and ship one chunk of ``reader``; whether anything happened."""
        data, truncated = await asyncio.to_thread(reader.read_chunk, self.cfg.read_chunk_bytes)
        if truncated:
            await self.tracker.truncated(reader)
            return True
        if not data:
            if reader.gz is not None:
                await self.tracker.finish(reader)
            return False
        now = asyncio.get_running_loop().time()
        reader.last_growth = now
        framed = reader.framer.feed(data)
        if reader.multiline is not None:
            framed = reader.multiline.push(framed, now)
        await self.deliver(reader, framed, len(data))
        stream = reader.stream
        if stream is not None and stream.key.startswith("i:") and len(reader.head) >= self.policy.head_bytes:
            new_key = checksum_key(reader.head, self.policy)
            if new_key is not None:
                self.tracker.upgrade_key(stream, new_key)
        behind = reader.size - reader.offset
        if reader.gz is None:
            self._bytes_behind.labels(self.component_id, reader.path).set(max(0, behind))
        return True

    async def deliver(self, reader: FileReader, framed: Framed, nbytes: int) -> None:
        """Send framed events of ``reader`` in batches of at most ``MAX_BATCH_LINES``."""
        stream = reader.stream
        assert stream is not None and self._ctx is not None
        stream.read_pos = framed.end
        lines = framed.lines
        n = len(lines)
        if not n:
            if stream.acks is None or stream.acks.pending == 0:
                stream.advance(framed.end)
            return
        if stream.id_prefix is None:
            # A new inode identity: its id prefix goes to disk before any line ships under it, so a
            # crash now cannot replay these lines under the checksum identity's prefix.
            stream.event_id_prefix(reader.head)
            await self._persist()
        out = self._ctx.out
        ts = iso_now()
        common = {"@timestamp": ts, "event.ingested": ts, "host.name": self.host, "log.file.path": reader.path}
        tags = framed.tags
        metrics = self._ctx.metrics
        prefix = stream.event_id_prefix(reader.head)
        for first, last, origin, end in framed.origin(prefix).runs(MAX_BATCH_LINES, framed.end):
            if first == 0 and last == n:
                part_lines, part_tags = lines, tags
            else:
                part_lines = lines[first:last]
                part_tags = {i - first: t for i, t in tags.items() if first <= i < last}
            token = stream.acks.open(end) if stream.acks is not None else None
            batch = Batch.from_lines(part_lines, common, origin, part_tags, token)
            metrics.received(last - first, nbytes if first == 0 else 0)
            await out.send(batch)
            if token is None:
                stream.advance(end)

    # -- waking and persisting ---------------------------------------------------------------

    def _on_change(self, structural: bool) -> None:
        self._wakes += 1
        if structural:
            self._scan_requested = True
        self._wake.set()

    async def _wake_on(self, event: asyncio.Event) -> None:
        await event.wait()
        self._wake.set()

    def files_changed(self) -> None:
        """Called by the tracker when files were opened or closed."""
        self._files_open.set(len(self.tracker.readers))

    def forget_path_metric(self, path: str) -> None:
        with contextlib.suppress(KeyError):
            self._bytes_behind.remove(self.component_id, path)

    async def _persist_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.cfg.checkpoint_interval_secs)
            await self._persist()

    async def _persist(self) -> None:
        async with self._persist_lock:
            now = time.time()
            if not self.store.dirty:
                self._synced_at = now
                self._checkpoint_age.set(0)
                return
            payload = self.store.snapshot()
            try:
                await asyncio.to_thread(self.store.write, payload)
            except OSError as exc:
                self.store.dirty = True
                log.error("file source %s: writing checkpoints to %s failed: %s", self.component_id,
                          self.store.path, exc)
                if self._ctx is not None:
                    self._ctx.metrics.error("checkpoint_write_failed", "writing")
                self._checkpoint_age.set(now - self._synced_at)
                return
            self._synced_at = now
            self._checkpoint_age.set(0)
