"""What a disk buffer directory holds, found at start (and by ``logferry buffer``), streaming.

``recover`` lists the segments, reads their headers and the ledger, works
out where the reader resumes, and scans the *last* segment fully to find
where its valid records end: a torn last record (the agent died in the
middle of a write) is cut off there when ``modify`` is set. Earlier segments
are only walked header to header to count what is left, never loaded:
memory stays flat whatever the buffer's size. Damage inside a segment is not
handled here: the reader skips it and counts it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from logferry.agent.buffers.disk.crypto import BufferKeyring
from logferry.agent.buffers.disk.ledger import Ledger, LedgerError, Position
from logferry.agent.buffers.disk.record import Record
from logferry.agent.buffers.disk.segment import (
    CorruptSegmentError,
    SegmentHeader,
    iter_records,
    list_segments,
    open_header,
    segment_path,
    walk_headers,
)
from logferry.agent.errors import BuildError

log = logging.getLogger(__name__)


@dataclass
class SegmentInfo:
    segment_id: int
    size: int
    header: SegmentHeader | None  # None: the header is damaged; the whole segment is skipped
    problem: str = ""


@dataclass
class Recovered:
    segments: dict[int, SegmentInfo] = field(default_factory=dict)  # oldest first
    read: Position = (0, 0)
    tail_valid_end: int = 0  # where the last segment's valid records end
    truncated_bytes: int = 0
    records: int = 0
    events: int = 0
    oldest_ms: int | None = None
    ledger: Ledger | None = None  # as loaded; None when there is none or it is damaged (``ledger_problem``)
    ledger_problem: str = ""
    deleted_segments: list[int] = field(default_factory=list)
    deleted_tmp_files: list[str] = field(default_factory=list)

    def valid_end(self, segment_id: int) -> int:
        """Where the valid records of ``segment_id`` end: the scanned end for the last segment, else its size."""
        last_id = next(reversed(self.segments))
        return self.tail_valid_end if segment_id == last_id else self.segments[segment_id].size


def check_keys(directory: Path, keyring: BufferKeyring | None) -> None:
    """``BuildError`` if a segment is encrypted with a key id that is not configured."""
    for sid in list_segments(directory):
        try:
            header = open_header(segment_path(directory, sid), sid)
        except (CorruptSegmentError, OSError):
            continue  # reported (and skipped) when read
        if header.key_id is not None and (keyring is None or not keyring.has(header.key_id)):
            configured = "no encryption key is configured" if keyring is None else \
                "it is neither `encryption.key_id` nor one of `encryption.previous_keys`"
            raise BuildError(f"buffer segment {segment_path(directory, sid)} is encrypted with key id "
                             f"{header.key_id!r}, but {configured}; add that key to read the buffer")


def recover(directory: Path, *, modify: bool = True) -> Recovered:
    """Inspect ``directory``; with ``modify``, also delete fully read segments, stale tmp files and a torn tail."""
    out = Recovered()
    if modify:
        for tmp in sorted(directory.glob("*.tmp")):
            tmp.unlink(missing_ok=True)
            out.deleted_tmp_files.append(tmp.name)
    try:
        out.ledger = ledger = Ledger.load(directory)
    except LedgerError as exc:
        ledger = None
        out.ledger_problem = str(exc)
    for sid in list_segments(directory):
        path = segment_path(directory, sid)
        size = path.stat().st_size
        try:
            out.segments[sid] = SegmentInfo(sid, size, open_header(path, sid))
        except CorruptSegmentError as exc:
            out.segments[sid] = SegmentInfo(sid, size, None, str(exc))
    if not out.segments:
        return out
    ids = list(out.segments)
    # Where the reader resumes: the ledger's position, or the oldest segment when there is no usable ledger.
    if ledger is not None:
        rsid, roff = ledger.read
        if rsid not in out.segments:
            later = [s for s in ids if s > rsid]
            rsid, roff = (later[0], 0) if later else (ids[-1], out.segments[ids[-1]].size)
    else:
        rsid, roff = ids[0], 0
    done = [s for s in ids if s < rsid]
    for sid in done:
        if modify:
            segment_path(directory, sid).unlink(missing_ok=True)
            out.deleted_segments.append(sid)
            del out.segments[sid]
    # The last segment: find where its valid records end; a torn write after that is cut.
    last = out.segments[ids[-1]]
    if last.header is not None:
        fd = os.open(segment_path(directory, last.segment_id), os.O_RDWR if modify else os.O_RDONLY)
        try:
            valid_end = last.header.size
            for item in iter_records(fd, last.header.size, last.size):
                if isinstance(item, Record):
                    valid_end = item.end
            if valid_end < last.size:
                out.truncated_bytes = last.size - valid_end
                if modify:
                    os.ftruncate(fd, valid_end)
                    os.fsync(fd)
                    last.size = valid_end
            out.tail_valid_end = valid_end
        finally:
            os.close(fd)
    rinfo = out.segments.get(rsid)
    if rinfo is not None and rinfo.header is not None:
        roff = min(max(roff, rinfo.header.size), out.valid_end(rsid))
    out.read = (rsid, roff)
    _count(directory, out)
    return out


def _count(directory: Path, out: Recovered) -> None:
    rsid, roff = out.read
    for sid, info in out.segments.items():
        if sid < rsid or info.header is None:
            continue
        start = roff if sid == rsid else info.header.size
        fd = os.open(segment_path(directory, sid), os.O_RDONLY)
        try:
            records, events, oldest = walk_headers(fd, start, out.valid_end(sid))
        finally:
            os.close(fd)
        out.records += records
        out.events += events
        if out.oldest_ms is None:
            out.oldest_ms = oldest
