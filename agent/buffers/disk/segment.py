"""Segment files of a disk buffer: naming, the header, and streaming scans over records.

A segment is ``<id:020d>.seg``: a header, then records (``record.py``) back
to back. Ids only grow, so the file names sort in write order. The header
names the key id when the records are encrypted, so a reader knows which key
it needs before it reads a record::

    magic "LFBUFSEG" | version u8 | flags u8 | key id length u8 | 0 | segment id u64 | created_ms i64 |
    key id (utf-8) | crc32c u32 of everything before it

Every scan here reads in bounded chunks: memory never grows with the size
of a segment or of the buffer.
"""

from __future__ import annotations

import fcntl
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from logferry.agent.buffers.disk.record import (
    HEADER,
    HEADER_BYTES,
    MAGIC,
    Corrupt,
    Record,
    crc32c,
    parse,
)
from logferry.agent.fsutil import write_atomic

SEGMENT_MAGIC = b"LFBUFSEG"
SEGMENT_VERSION = 1
FLAG_ENCRYPTED = 1
_FIXED = struct.Struct("<8sBBBxQq")
SUFFIX = ".seg"
READ_CHUNK_BYTES = 1 << 20


class CorruptSegmentError(Exception):
    """A segment whose header cannot be trusted."""


@dataclass(frozen=True, slots=True)
class SegmentHeader:
    segment_id: int
    created_ms: int
    key_id: str | None  # None: records are not encrypted
    size: int  # bytes of the header; records start here

    @property
    def encrypted(self) -> bool:
        return self.key_id is not None


def segment_path(directory: Path, segment_id: int) -> Path:
    return directory / f"{segment_id:020d}{SUFFIX}"


def list_segments(directory: Path) -> list[int]:
    """Ids of the segment files in ``directory``, oldest first."""
    ids = []
    for p in directory.glob(f"*{SUFFIX}"):
        stem = p.name[: -len(SUFFIX)]
        if stem.isdigit():
            ids.append(int(stem))
    return sorted(ids)


def encode_header(segment_id: int, created_ms: int, key_id: str | None) -> bytes:
    kid = (key_id or "").encode()
    head = _FIXED.pack(SEGMENT_MAGIC, SEGMENT_VERSION, FLAG_ENCRYPTED if key_id else 0, len(kid),
                       segment_id, created_ms) + kid
    return head + crc32c(head).to_bytes(4, "little")


def read_header(fd: int, segment_id: int) -> SegmentHeader:
    """The header of an open segment; ``CorruptSegmentError`` if it is damaged or not ours."""
    raw = os.pread(fd, _FIXED.size + 255 + 4, 0)
    if len(raw) < _FIXED.size + 4:
        raise CorruptSegmentError("header is truncated")
    magic, version, flags, kid_len, sid, created = _FIXED.unpack_from(raw)
    if magic != SEGMENT_MAGIC:
        raise CorruptSegmentError("not a logferry buffer segment (bad magic)")
    end = _FIXED.size + kid_len
    if len(raw) < end + 4 or crc32c(raw[:end]) != int.from_bytes(raw[end:end + 4], "little"):
        raise CorruptSegmentError("header checksum mismatch")
    if version != SEGMENT_VERSION:
        raise CorruptSegmentError(f"unsupported segment version {version}")
    if sid != segment_id:
        raise CorruptSegmentError(f"header says segment {sid}, file name says {segment_id}")
    key_id = raw[_FIXED.size:end].decode() if flags & FLAG_ENCRYPTED else None
    return SegmentHeader(sid, created, key_id, end + 4)


def open_header(path: Path, segment_id: int) -> SegmentHeader:
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_header(fd, segment_id)
    finally:
        os.close(fd)


def create_segment(directory: Path, segment_id: int, created_ms: int, key_id: str | None, sync: bool) -> None:
    """Write a new segment holding just its header: tmp file, fsync, rename, so a crash never leaves
    half a header behind."""
    write_atomic(segment_path(directory, segment_id), encode_header(segment_id, created_ms, key_id),
                 mode=0o600, sync=sync)


def iter_records(fd: int, start: int, limit: int, chunk: int = READ_CHUNK_BYTES) -> Iterator[Record | Corrupt]:
    """Records and damaged regions from ``start`` up to ``limit``, reading ``chunk`` bytes at a time.

    Consecutive damaged regions come out merged into one ``Corrupt``.
    """
    pos = start
    pending_bad: Corrupt | None = None
    while pos < limit:
        want = min(chunk, limit - pos)
        while True:
            buf = os.pread(fd, want, pos)
            if len(buf) < want:  # the file is shorter than `limit` said: the rest is missing
                limit = pos + len(buf)
            parsed = parse(buf, pos, limit)
            if parsed.consumed or not parsed.need:
                break
            want = min(max(want * 2, parsed.need), limit - pos)
        if not parsed.consumed:
            break
        for item in parsed.items:
            if isinstance(item, Corrupt):
                if pending_bad is not None and pending_bad.end == item.offset:
                    pending_bad.end = item.end
                else:
                    if pending_bad is not None:
                        yield pending_bad
                    pending_bad = item
                continue
            if pending_bad is not None:
                yield pending_bad
                pending_bad = None
            yield item
        pos += parsed.consumed
    if pending_bad is not None:
        yield pending_bad


def walk_headers(fd: int, start: int, limit: int) -> tuple[int, int, int | None]:
    """(records, events, oldest written_ms) from ``start`` by hopping record headers without reading
    payloads; stops at the first header that does not look right (damage is found by the reader)."""
    records = events = 0
    oldest: int | None = None
    pos = start
    while pos + HEADER_BYTES <= limit:
        raw = os.pread(fd, HEADER_BYTES, pos)
        if len(raw) < HEADER_BYTES:
            break
        magic, _, length, n, ms = HEADER.unpack(raw)
        if magic != MAGIC or pos + HEADER_BYTES + length > limit:
            break
        records += 1
        events += n
        if oldest is None:
            oldest = ms
        pos += HEADER_BYTES + length
    return records, events, oldest


LOCK_FILE = "lock"


class BufferLockedError(Exception):
    """Another process (an agent, or ``logferry buffer repair``) is using the buffer directory."""


def take_lock(directory: Path, wait_secs: float = 10.0) -> int:
    """An exclusive ``flock`` on the directory's lock file; waits up to ``wait_secs`` (a reload's old
    pipeline may still be closing), then ``BufferLockedError``. The kernel drops it if the process dies."""
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_secs
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise BufferLockedError(f"{directory} is in use by another process") from None
            time.sleep(0.05)


def release_lock(fd: int) -> None:
    if fd >= 0:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
