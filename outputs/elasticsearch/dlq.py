"""Dead-letter queue on disk: documents Elasticsearch refused (4xx), as NDJSON segment files.

One record per line: ``{"time", "index", "status", "error": {"type", "reason"}, "event"}``. Segments
are ``dlq-<seq>.ndjson`` in the output's data dir under ``dlq/``; a segment is closed when it passes
``max_segment_bytes``. Writes are flushed and fsync'ed before the items' acks settle (in a worker thread),
so a REJECTED checkpoint never runs ahead of the record that explains it.

``logferry dlq list|replay|purge`` reads the same files (``dlq_cli``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from logferry.agent.timeutil import iso_now

Record = dict[str, Any]

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


def make_record(event: Any, index: str, status: int, error_type: str, reason: str) -> Record:
    return {"time": iso_now(), "index": index, "status": status,
            "error": {"type": error_type, "reason": reason}, "event": event}


class DeadLetterQueue:
    def __init__(self, directory: Path, max_segment_bytes: int = 64 * 1024 * 1024) -> None:
        self.directory = directory
        self.max_segment_bytes = max_segment_bytes
        self._lock = asyncio.Lock()

    def segments(self, *, claimed: bool = False) -> list[Path]:
        """Segment files, oldest first (``claimed``: the ones a replay has taken, ``*.replaying``)."""
        if not self.directory.is_dir():
            return []
        pattern = "dlq-*.replaying" if claimed else "dlq-*.ndjson"
        return sorted(self.directory.glob(pattern), key=_seq)

    def all_segments(self) -> list[Path]:
        return self.segments(claimed=True) + self.segments()

    def claim(self) -> list[Path]:
        """Take every segment for a replay: rename to ``*.replaying`` so writers start a new segment.

        A writer holds an exclusive ``flock`` while appending; taking it here after the rename waits
        for a write that was already under way, so nothing lands in a claimed file unread.
        Segments left claimed by an interrupted replay are included.
        """
        for seg in self.segments():
            target = seg.with_suffix(".replaying")
            os.rename(seg, target)
            with target.open("rb") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                fcntl.flock(f, fcntl.LOCK_UN)
        return self.segments(claimed=True)

    def _current_segment(self) -> Path:
        segs = self.segments()
        if segs and segs[-1].stat().st_size < self.max_segment_bytes:
            return segs[-1]
        last = self.all_segments()
        seq = max(map(_seq, last)) + 1 if last else 1
        return self.directory / f"dlq-{seq:06d}.ndjson"

    def write_sync(self, records: list[Record]) -> None:
        """Append records durably (flush + fsync)."""
        if not records:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        data = _encode_records(records)
        while True:
            path = self._current_segment()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    current = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    current = False
                if not current:
                    continue  # a replay claimed this segment between open and lock: use a fresh one
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
                return
            finally:
                os.close(fd)

    async def write(self, records: list[Record]) -> None:
        async with self._lock:
            await asyncio.to_thread(self.write_sync, records)

    def read(self, segments: list[Path] | None = None) -> Iterator[Record]:
        """Every record, oldest first; a torn last line (crash mid-write) is skipped."""
        for seg in self.all_segments() if segments is None else segments:
            with seg.open("rb") as f:
                for line in f:
                    if not line.strip():
                        continue
                    try:
                        rec = _dec.decode(line)
                    except msgspec.DecodeError:
                        continue
                    if isinstance(rec, dict):
                        yield rec

    def count(self) -> int:
        return sum(1 for _ in self.read())

    def purge(self, segments: list[Path] | None = None) -> int:
        """Delete segments (all by default); returns how many records they held."""
        segs = self.all_segments() if segments is None else segments
        n = sum(1 for _ in self.read(segs))
        for seg in segs:
            seg.unlink(missing_ok=True)
        return n


def _seq(segment: Path) -> int:
    """The sequence number in a segment's name (``dlq-000042.ndjson`` -> 42)."""
    return int(segment.name.split("-")[1].split(".")[0])


def _encode_records(records: list[Record]) -> bytes:
    try:
        return _enc.encode_lines(records)
    except (TypeError, ValueError, msgspec.EncodeError):
        # An event msgspec cannot encode (it is why it is here): keep its repr so nothing is lost silently.
        out = []
        for rec in records:
            try:
                out.append(_enc.encode(rec) + b"\n")
            except (TypeError, ValueError, msgspec.EncodeError):
                out.append(_enc.encode({**rec, "event": None, "event_repr": repr(rec.get("event"))}) + b"\n")
        return b"".join(out)
