"""One open file of the `file` source: blocking I/O only, run through ``asyncio.to_thread``.

``FileReader`` owns a descriptor (or a gzip stream for ``*.gz``), the file's
head bytes (to notice truncation) and its framer. ``read_chunk`` is the one
blocking call per step: it reads a chunk at the reader's position and checks
that the file still starts with the same bytes *after* the read, so a
truncate-and-regrow (copytruncate under a fast writer) is never mistaken for
new data.

``Stream`` is the identity a reader reads for: one file key, its ack
bookkeeping and positions. It outlives readers, because the same content can
move to another descriptor (a copytruncate copy, a gzip-compressed archive).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from typing import TYPE_CHECKING, BinaryIO

from logferry.agent.acks import OrderedAcks
from logferry.agent.sources.file.fingerprint import FingerprintPolicy

if TYPE_CHECKING:
    from logferry.agent.sources.file.checkpoint import CheckpointStore
    from logferry.agent.sources.file.framing import LineFramer
    from logferry.agent.sources.file.multiline import MultilineAggregator


class Stream:
    """The read state of one file identity (key); the checkpoint follows ``committed``."""

    def __init__(self, key: str, id_prefix: str | None, path: str, start: int, store: CheckpointStore,
                 acknowledgements: bool, id_seed: str = "") -> None:
        self.key = key
        # None for inode identities until the first line is known (see ``event_id_prefix``).
        self.id_prefix = id_prefix
        self._id_seed = id_seed
        self.path = path
        self.read_pos = start     # where a new reader for this identity resumes (end of framed events)
        self.committed = start    # end of the longest settled prefix
        self.retired = False      # content gone (truncated): late acks must not move the checkpoint
        self.reader: FileReader | None = None
        self._store = store
        self.acks = OrderedAcks(self.advance) if acknowledgements else None

    def event_id_prefix(self, head: bytes) -> str:
        """The ``event.id`` prefix of this identity.

        An inode identity is reused when a file is truncated and written again
        (copytruncate), so the inode alone would give the new lines the ids of the
        old lines at the same offsets, and Elasticsearch would answer 409 to them.
        Hashing the first line in as well separates the incarnations, and stays
        deterministic for a replay of the same content.
        """
        if self.id_prefix is None:
            first = head.split(b"\n", 1)[0]
            digest = hashlib.blake2b(first, digest_size=8).hexdigest()
            self.id_prefix = hashlib.blake2b(f"{self._id_seed}\0{digest}".encode(),
                                             digest_size=8).hexdigest() + "-"
            self._store.update(self.key, self.path, self.committed, self.id_prefix)
        return self.id_prefix

    def advance(self, position: int) -> None:
        """Every line before ``position`` is settled: move the checkpoint (in memory)."""
        if self.retired or position <= self.committed:
            return
        self.committed = position
        self._store.update(self.key, self.path, position, self.id_prefix)


class FileReader:
    """An open file: descriptor, position, head bytes and framer."""

    def __init__(self, path: str, st: os.stat_result, policy: FingerprintPolicy, gz: bool) -> None:
        self.path = path
        self.dev_ino = (st.st_dev, st.st_ino)
        self.policy = policy
        self.gz: gzip.GzipFile | None = None
        self._raw: BinaryIO | None = None  # the compressed file under ``gz``
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self.size = st.st_size
        self.broken = False            # gzip stream ended early or is corrupt
        self.rotated = False           # renamed (seen under another path) or deleted
        self.finished = False          # fully read and closed
        self.last_growth = 0.0         # loop time of the last chunk with data
        self.eof_at: float | None = None  # loop time the reader last found nothing to read
        self.eof_wakes = 0             # the source's notification count at that time
        self.stream: Stream | None = None
        self.framer: LineFramer  # set by Tracker.open once the start offset is known
        self.multiline: MultilineAggregator | None = None
        self.head = b""
        if gz:
            self._raw = os.fdopen(self.fd, "rb", closefd=True)
            self.gz = gzip.GzipFile(fileobj=self._raw, mode="rb")
            try:
                self.head = self.gz.read(policy.head_bytes)
                self.gz.seek(0)
            except (EOFError, OSError, zlib.error):
                self.broken = True
        else:
            self.head = os.pread(self.fd, policy.head_bytes, 0)

    @property
    def offset(self) -> int:
        return self.framer.offset

    def seek(self, offset: int) -> int:
        """Move to ``offset`` (gzip: decompress up to it); returns the position actually reached."""
        if self.gz is not None:
            try:
                return self.gz.seek(offset)
            except (EOFError, OSError, zlib.error):
                self.broken = True
                return self.gz.tell() if not self.gz.closed else 0
        return offset

    def head_still_matches(self) -> bool:
        """Whether the file on disk still starts with the bytes it started with when opened."""
        if self.gz is not None or not self.head:
            return True
        return os.pread(self.fd, len(self.head), 0) == self.head

    def read_chunk(self, size: int) -> tuple[bytes, bool]:
        """(data, truncated): the next chunk at the reader's position, checked against truncation."""
        if self.gz is not None:
            try:
                return self.gz.read(size), False
            except (EOFError, OSError, zlib.error):
                self.broken = True
                return b"", False
        pos = self.framer.offset
        data = os.pread(self.fd, size, pos)
        self.size = os.fstat(self.fd).st_size
        head = self.head
        want = self.policy.head_bytes
        if len(head) < want and pos <= len(head):
            # The file was short: the bytes just read extend the head. Taking them from this
            # read (not a second one) keeps head and data from the same version of the file.
            grown = head[:pos] + data[:want - pos]
            if not grown.startswith(head):
                return b"", True
            self.head = head = grown
        # Checked after the read: if the file still starts with its head now, it had not been
        # truncated when the data was read either.
        if head and os.pread(self.fd, len(head), 0) != head:
            return b"", True
        if not data and self.size < pos:
            return b"", True
        return data, False

    def deleted_or_moved(self) -> bool:
        """Whether the reader's path no longer names this file (blocking)."""
        if self.gz is not None:
            return False
        try:
            if os.fstat(self.fd).st_nlink == 0:
                return True
            st = os.stat(self.path)
        except OSError:
            return True
        return (st.st_dev, st.st_ino) != self.dev_ino

    def close(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.gz is not None:
            self.gz.close()
            if self._raw is not None:
                self._raw.close()
        else:
            os.close(self.fd)
