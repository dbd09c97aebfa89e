"""Appending records to the active segment (blocking file I/O: call it from a worker thread).

``append`` writes as many of the given payloads as fit into the active
segment in one ``write`` and returns where each written record ends; the
caller loops for the rest. A segment that is full is fsynced (unless the
policy is ``never``) and closed before the next is created, so a record's
durability only ever depends on the segment it is in. A failed write
(``ENOSPC``) is cut back to the last whole record before the error goes up:
a failed append leaves no partial record behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from logferry.agent.buffers.disk.crypto import NONCE_BYTES, BufferKeyring
from logferry.agent.buffers.disk.ledger import Position
from logferry.agent.buffers.disk.record import HEADER_BYTES, encode_record
from logferry.agent.buffers.disk.segment import (
    create_segment,
    open_header,
    segment_path,
)

GCM_OVERHEAD = NONCE_BYTES + 16
Pending = tuple[bytes, int, int]  # (msgpack payload, events, written_ms)


class SegmentWriter:
    def __init__(self, directory: Path, segment_max_bytes: int, keyring: BufferKeyring | None,
                 fsync: str) -> None:
        self.directory = directory
        self.segment_max_bytes = segment_max_bytes
        self.keyring = keyring
        self.key_id = keyring.active if keyring is not None else None
        self.fsync = fsync
        self.segment_id = 0
        self.header_bytes = 0
        self.size = 0
        self._fd = -1
        self._unsynced = False

    # -- opening ----------------------------------------------------------
    def resume(self, segment_id: int, size: int) -> None:
        """Append to an existing segment whose valid data ends at ``size`` (anything after is cut)."""
        path = segment_path(self.directory, segment_id)
        header = open_header(path, segment_id)
        self._fd = os.open(path, os.O_WRONLY)
        if os.fstat(self._fd).st_size != size:
            os.ftruncate(self._fd, size)
        self.segment_id = segment_id
        self.header_bytes = header.size
        self.size = size

    def start(self, segment_id: int, now_ms: int) -> None:
        """Create segment ``segment_id`` and make it the active one."""
        create_segment(self.directory, segment_id, now_ms, self.key_id, sync=self.fsync != "never")
        self.resume(segment_id, open_header(segment_path(self.directory, segment_id), segment_id).size)

    def roll(self, now_ms: int) -> int:
        """Seal the active segment and start the next; returns the new id."""
        self.sync()
        os.close(self._fd)
        self._fd = -1
        self.start(self.segment_id + 1, now_ms)
        return self.segment_id

    # -- writing ----------------------------------------------------------
    def record_bytes(self, payload: bytes) -> int:
        """Bytes a payload takes on disk once framed (and sealed)."""
        return HEADER_BYTES + len(payload) + (GCM_OVERHEAD if self.key_id is not None else 0)

    def append(self, items: list[Pending], now_ms: int) -> tuple[list[Position], int | None]:
        """Write a prefix of ``items`` (at least one) to the active segment.

        Returns the end position of every record written and the id of a
        segment started on the way (``None`` if none).
        """
        rolled = None
        if self._fd < 0:  # an earlier roll failed half way (disk full): start the next segment now
            self.start(self.segment_id + 1, now_ms)
            rolled = self.segment_id
        elif self.size > self.header_bytes and self.size + self.record_bytes(items[0][0]) > self.segment_max_bytes:
            rolled = self.roll(now_ms)
        parts: list[bytes] = []
        ends: list[Position] = []
        pos = self.size
        for payload, events, ms in items:
            if self.keyring is not None and self.key_id is not None:
                payload = self.keyring.seal(self.segment_id, self.key_id, payload)
            rec = encode_record(payload, events, ms)
            if ends and pos + len(rec) > self.segment_max_bytes:
                break
            parts.append(rec)
            pos += len(rec)
            ends.append((self.segment_id, pos))
        data = b"".join(parts) if len(parts) > 1 else parts[0]
        try:
            view = memoryview(data)
            at = self.size
            while view:  # explicit offsets: the file position never matters
                n = os.pwrite(self._fd, view, at)
                view = view[n:]
                at += n
        except OSError:
            os.ftruncate(self._fd, self.size)
            raise
        self.size = pos
        self._unsynced = True
        if self.fsync == "always":
            self.sync()
        return ends, rolled

    def sync(self) -> None:
        if self._unsynced and self._fd >= 0 and self.fsync != "never":
            os.fsync(self._fd)
        self._unsynced = False

    def close(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1
