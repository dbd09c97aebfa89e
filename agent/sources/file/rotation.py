"""Which files are open, under which identity, and what happens when they rotate.

``Tracker`` owns the open readers (by device and inode) and the streams (by
file key). The cases it handles:

* **rename rotation**: the inode is already open, so a new name is the same
  file; it is drained, then closed ``rotate_wait_secs`` after its last growth.
* **new file at the old name**: a new inode, a new key, read from the start.
* **copytruncate**: the open file no longer starts with its old head bytes
  (checked after every read). Its stream keeps the position reached; the
  copy, which has the same checksum key, continues from there, and the
  truncated file is reopened as a new file at offset 0.
* **deleted while open**: drained, then closed ``rotate_wait_secs`` after its last growth.
* **copytruncate of a file still shorter than the checksum window**: its
  identity is its inode, which cannot move; the bytes already read are kept
  for a minute, and a new file starting with them continues after them.
* **gzip archives** of files already read have the same checksum key (it is
  computed on decompressed bytes), so they resume at the end: nothing is re-read.
* **inode reuse**: a new checksum means a new file whatever the inode.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from logferry.agent.sources.file.fingerprint import file_key, id_prefix, inode_key
from logferry.agent.sources.file.framing import Framed, LineFramer
from logferry.agent.sources.file.multiline import MultilineAggregator
from logferry.agent.sources.file.reader import FileReader, Stream
from logferry.agent.sources.file.watcher import is_gzip_path

if TYPE_CHECKING:
    from logferry.agent.sources.file.source import FileSource

log = logging.getLogger(__name__)

DevIno = tuple[int, int]

# Checkpoints of files gone for this long are forgotten; pruning runs at most this often.
CHECKPOINT_EXPIRE_SECS = 7 * 24 * 3600.0
PRUNE_EVERY_SECS = 300.0


# A truncated short file's bytes are matched against new copies for this long.
ORPHAN_KEEP_SECS = 60.0


@dataclass
class Orphan:
    """What was read of a short (inode-keyed) file before it was truncated."""

    prefix: bytes
    dev_ino: DevIno
    since: float


def start_of_last_line(reader: FileReader, size: int) -> int:
    """Offset just past the last newline before ``size`` (``read_from: end`` never starts mid-line)."""
    look = min(size, 65536)
    tail = os.pread(reader.fd, look, size - look)
    cut = tail.rfind(b"\n")
    if cut < 0:
        return size if look < size else 0
    return size - look + cut + 1


class Tracker:
    def __init__(self, source: FileSource, acknowledgements: bool) -> None:
        self.source = source
        self.cfg = source.cfg
        self.acknowledgements = acknowledgements
        self.readers: dict[DevIno, FileReader] = {}
        self.streams: dict[str, Stream] = {}
        # Closed files and copies we decided not to read: (size, mtime_ns) at that time.
        self._settled_files: dict[DevIno, tuple[int, int]] = {}
        self._pruned_at = 0.0
        self._orphans: list[Orphan] = []

    # -- discovery ---------------------------------------------------------------------------

    async def scan(self, startup: bool) -> None:
        found = await asyncio.to_thread(self.source.globs.scan)
        now = time.time()
        inodes: set[DevIno] = set()
        for path, st in found.items():
            dev_ino = (st.st_dev, st.st_ino)
            inodes.add(dev_ino)
            reader = self.readers.get(dev_ino)
            if reader is not None:
                if reader.path != path:
                    old = found.get(reader.path)
                    if old is None or (old.st_dev, old.st_ino) != dev_ino:
                        self._renamed(reader, path)
                continue
            if self._settled_files.get(dev_ino) == (st.st_size, st.st_mtime_ns):
                continue
            older = self.cfg.ignore_older_secs
            if older is not None and now - st.st_mtime > older:
                continue
            await self.open(path, st, startup=startup)
        self._settled_files = {k: v for k, v in self._settled_files.items() if k in inodes}
        self.source.files_changed()
        if now - self._pruned_at >= PRUNE_EVERY_SECS:
            self._pruned_at = now
            # Streams of closed files with nothing in flight live on in their checkpoint only.
            idle = [k for k, s in self.streams.items()
                    if s.reader is None and (s.acks is None or s.acks.pending == 0)]
            for key in idle:
                del self.streams[key]
            await asyncio.to_thread(self.source.store.prune, set(self.streams), CHECKPOINT_EXPIRE_SECS)

    def _renamed(self, reader: FileReader, path: str) -> None:
        self.source.forget_path_metric(reader.path)
        reader.path = path
        reader.rotated = True
        if reader.stream is not None:
            reader.stream.path = path

    async def open(self, path: str, st: os.stat_result, startup: bool, fresh: bool = False) -> None:
        """Open a newly seen file and attach it to its stream (new, resumed, or continued)."""
        gz = self.cfg.decompress_gz and is_gzip_path(path)
        policy = self.source.policy
        try:
            reader = await asyncio.to_thread(FileReader, path, st, policy, gz)
        except OSError as exc:
            log.warning("file source: cannot open %s: %s", path, exc)
            return
        dev_ino = reader.dev_ino
        if reader.broken:
            await asyncio.to_thread(reader.close)
            self._settled_files[dev_ino] = (st.st_size, st.st_mtime_ns)
            return
        store = self.source.store
        key = file_key(reader.head, st, policy)
        if startup and key.startswith("c:") and key not in self.streams and store.get(key) is None:
            # The file may have been short (tracked by inode) when the last run stopped.
            old = store.get(inode_key(st))
            if old is not None and old.path == path:
                store.rekey(inode_key(st), key)
        stream = self.streams.get(key)
        if stream is not None and fresh:
            self._retire(stream)
            stream = None
        if stream is not None and stream.reader is not None:
            other = stream.reader
            if await asyncio.to_thread(other.head_still_matches):
                # Same first bytes as a file still open and unchanged: a copy, not read twice.
                # Not remembered as settled: if the original turns out truncated (copytruncate
                # between this scan and the truncation), the next scan must continue the copy.
                await asyncio.to_thread(reader.close)
                return
            await self.truncated(other)
            stream = self.streams.get(key)
        if stream is None:
            start = 0
            cp = store.get(key)
            orphan = None
            if cp is None and not startup:
                await self._check_short_readers()
                orphan = self._adopt(reader.head, dev_ino)
            if cp is not None:
                start = cp.offset if gz or cp.offset <= st.st_size else 0
            elif orphan is not None:
                start = len(orphan.prefix)
            elif startup and self.cfg.read_from == "end":
                if gz:
                    await asyncio.to_thread(reader.close)
                    self._settled_files[dev_ino] = (st.st_size, st.st_mtime_ns)
                    return
                start = await asyncio.to_thread(start_of_last_line, reader, st.st_size)
            src = self.source
            if cp is not None and cp.id_prefix is not None:
                prefix: str | None = cp.id_prefix  # keep the ids this file was shipped with
            elif key.startswith("i:"):
                prefix = None  # decided from the first line, see Stream.event_id_prefix
            else:
                prefix = id_prefix(src.host, src.component_id, key)
            stream = Stream(key, prefix,
                            path, start, store, self.acknowledgements,
                            id_seed=f"{src.host}\0{src.component_id}\0{key}")
            store.update(key, path, start)
            self.streams[key] = stream
        start = stream.read_pos
        if gz:
            start = await asyncio.to_thread(reader.seek, start)
        reader.framer = LineFramer(start, max_line_bytes=self.cfg.max_line_bytes,
                                   collapse_carriage_returns=self.cfg.collapse_carriage_returns)
        if self.cfg.multiline is not None:
            reader.multiline = MultilineAggregator(self.cfg.multiline)
        reader.last_growth = asyncio.get_running_loop().time()
        reader.stream = stream
        stream.reader = reader
        stream.path = path
        self.readers[dev_ino] = reader
        self._settled_files.pop(dev_ino, None)

    def upgrade_key(self, stream: Stream, new_key: str) -> None:
        """A file tracked by inode reached the checksum size: carry its position to the checksum key."""
        if new_key in self.streams or self.source.store.get(new_key) is not None:
            return  # same content as another file: keep the inode identity
        del self.streams[stream.key]
        self.source.store.rekey(stream.key, new_key)
        stream.key = new_key
        self.streams[new_key] = stream

    async def _check_short_readers(self) -> None:
        """Notice truncation of open short files now, so a copy of one can continue it."""
        short = [r for r in self.readers.values()
                 if r.stream is not None and r.stream.key.startswith("i:") and r.head and r.gz is None]
        if not short:
            return
        same = await asyncio.to_thread(lambda: [r.head_still_matches() for r in short])
        for reader, ok in zip(short, same):
            if not ok and not reader.finished:
                await self.truncated(reader)

    def _adopt(self, head: bytes, dev_ino: DevIno) -> Orphan | None:
        """The orphan whose bytes this (other) file starts with: a copytruncate copy of a short file."""
        now = asyncio.get_running_loop().time()
        self._orphans = [o for o in self._orphans if now - o.since < ORPHAN_KEEP_SECS]
        for orphan in self._orphans:
            if orphan.dev_ino != dev_ino and head.startswith(orphan.prefix):
                self._orphans.remove(orphan)
                return orphan
        return None

    def _retire(self, stream: Stream) -> None:
        """The stream's content is gone: forget it and its checkpoint (late acks are ignored)."""
        stream.retired = True
        if self.streams.get(stream.key) is stream:
            del self.streams[stream.key]
            self.source.store.forget(stream.key)

    # -- rotation ----------------------------------------------------------------------------

    async def truncated(self, reader: FileReader) -> None:
        """The file was truncated (copytruncate or rewrite): reopen it as a new file at 0.

        Held partial lines are dropped here on purpose: the stream's position is
        the end of the last complete event, so a copy carrying the same key
        reads them again from there.
        """
        stream = reader.stream
        await self._close(reader)
        if stream is not None:
            stream.reader = None
            if stream.key.startswith("i:"):
                # An inode identity cannot move to a copy, but a copy made while the file was
                # still short starts with the bytes already read: remember them (see ``open``).
                self._retire(stream)
                if stream.read_pos > 0 and len(reader.head) >= stream.read_pos:
                    loop_now = asyncio.get_running_loop().time()
                    self._orphans.append(Orphan(reader.head[:stream.read_pos], reader.dev_ino, loop_now))
        try:
            st = await asyncio.to_thread(os.stat, reader.path)
        except OSError:
            return
        if (st.st_dev, st.st_ino) == reader.dev_ino:
            await self.open(reader.path, st, startup=False, fresh=True)

    async def finish(self, reader: FileReader) -> None:
        """The file is done (rotated and idle, deleted, archive read, ``--once``): flush and close."""
        if reader.stream is not None and not reader.broken:
            framed = reader.framer.flush()
            if reader.multiline is not None:
                framed = reader.multiline.push(framed, 0.0)
                tail = reader.multiline.flush(framed.end)
                framed = _concat(framed, tail)
            if framed.lines or framed.end != reader.stream.read_pos:
                await self.source.deliver(reader, framed, 0)
        try:
            st = await asyncio.to_thread(os.fstat, reader.fd)
            self._settled_files[reader.dev_ino] = (st.st_size, st.st_mtime_ns)
        except OSError:
            pass
        await self._close(reader)
        if reader.stream is not None and reader.stream.reader is reader:
            reader.stream.reader = None

    async def _close(self, reader: FileReader) -> None:
        if self.readers.get(reader.dev_ino) is reader:
            del self.readers[reader.dev_ino]
        self.source.forget_path_metric(reader.path)
        await asyncio.to_thread(reader.close)
        self.source.files_changed()

    async def housekeeping(self, now: float) -> None:
        """At EOF everywhere: multiline timeouts, and closing rotated or deleted files once drained."""
        readers = list(self.readers.values())
        for reader in readers:
            ml = reader.multiline
            if ml is not None and reader.stream is not None:
                due = ml.flush_due(now, reader.framer.end)
                if due is not None:
                    await self.source.deliver(reader, due, 0)
        gone = await asyncio.to_thread(lambda: [r.rotated or r.deleted_or_moved() for r in readers])
        for reader, is_gone in zip(readers, gone):
            if is_gone and not reader.finished:
                reader.rotated = True
                if now - reader.last_growth >= self.cfg.rotate_wait_secs:
                    await self.finish(reader)


def _concat(a: Framed, b: Framed) -> Framed:
    if not b.lines:
        return Framed(a.lines, a.offsets, a.tags, b.end)
    k = len(a.lines)
    tags = dict(a.tags)
    tags.update({k + i: t for i, t in b.tags.items()})
    return Framed(a.lines + b.lines, a.offsets + b.offsets, tags, b.end)
