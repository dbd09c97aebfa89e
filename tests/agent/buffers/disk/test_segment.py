"""Segment headers and chunked record scans on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logferry.agent.buffers.disk.record import Corrupt, Record, encode_record
from logferry.agent.buffers.disk.segment import (
    BufferLockedError,
    CorruptSegmentError,
    create_segment,
    iter_records,
    list_segments,
    open_header,
    segment_path,
    take_lock,
)


class TestSegment:
    def test_header_round_trip_with_key_id(self, tmp_path: Path) -> None:
        """A created segment names its id and key id; the file sorts by id."""
        create_segment(tmp_path, 7, 123, "k1", sync=True)
        create_segment(tmp_path, 12, 124, None, sync=False)
        assert list_segments(tmp_path) == [7, 12]
        h = open_header(segment_path(tmp_path, 7), 7)
        assert (h.segment_id, h.created_ms, h.key_id, h.encrypted) == (7, 123, "k1", True)
        assert open_header(segment_path(tmp_path, 12), 12).key_id is None

    def test_damaged_header_is_reported(self, tmp_path: Path) -> None:
        """A flipped header byte fails the header checksum with a clear reason."""
        create_segment(tmp_path, 1, 0, "k", sync=False)
        path = segment_path(tmp_path, 1)
        raw = bytearray(path.read_bytes())
        raw[20] ^= 1
        path.write_bytes(bytes(raw))
        with pytest.raises(CorruptSegmentError, match="checksum"):
            open_header(path, 1)

    def test_small_chunks_read_the_same_records(self, tmp_path: Path) -> None:
        """Scanning with a chunk smaller than a record gives the same records as one big read."""
        path = tmp_path / "s"
        payloads = [bytes([i]) * (50 + 37 * i) for i in range(20)]
        path.write_bytes(b"".join(encode_record(p, 1, 0) for p in payloads))
        fd = os.open(path, os.O_RDONLY)
        try:
            small = list(iter_records(fd, 0, path.stat().st_size, chunk=64))
            big = list(iter_records(fd, 0, path.stat().st_size))
        finally:
            os.close(fd)
        assert small == big
        assert [r.payload for r in small if isinstance(r, Record)] == payloads

    def test_file_shorter_than_limit_ends_in_damage(self, tmp_path: Path) -> None:
        """When the file ends before the expected limit, the cut record is one Corrupt region, no hang."""
        path = tmp_path / "s"
        data = encode_record(b"a" * 100, 1, 0) + encode_record(b"b" * 100, 1, 0)
        path.write_bytes(data[:-10])
        fd = os.open(path, os.O_RDONLY)
        try:
            items = list(iter_records(fd, 0, len(data)))
        finally:
            os.close(fd)
        assert [type(i) for i in items] == [Record, Corrupt]

    def test_lock_is_exclusive(self, tmp_path: Path) -> None:
        """A second holder of the buffer directory is refused while the first holds the lock."""
        fd = take_lock(tmp_path)
        try:
            with pytest.raises(BufferLockedError):
                take_lock(tmp_path, wait_secs=0.0)
        finally:
            os.close(fd)
