"""Reading records back: whole records decode to their events, a record whose payload is not a list of events is
skipped with a reason."""

from __future__ import annotations

from pathlib import Path

import msgspec

from logferry.agent.buffers.disk.reader import SegmentReader
from logferry.agent.buffers.disk.record import encode_record
from logferry.agent.buffers.disk.segment import (
    create_segment,
    open_header,
    segment_path,
)


def write_segment(directory: Path, payloads: list[bytes]) -> tuple[int, int]:
    """Segment 1 holding one record per payload (each claiming 2 events); returns (records start, file end)."""
    create_segment(directory, 1, 0, None, sync=False)
    path = segment_path(directory, 1)
    start = open_header(path, 1).size
    with path.open("ab") as f:
        for p in payloads:
            f.write(encode_record(p, 2, 1234))
    return start, path.stat().st_size


class TestSegmentReader:
    def test_payloads_that_are_not_lists_of_events_are_decode_damage(self, tmp_path: Path) -> None:
        """Whole records decode to their events (any key type); a map, a list of non-maps or non-msgpack is "decode"."""
        good = [{"message": "a", "n": [1, {"x": None}]}, {1: "int key"}]
        payloads = [msgspec.msgpack.encode(good), msgspec.msgpack.encode({"message": "a"}),
                    msgspec.msgpack.encode([1, 2]), b"\xc1not msgpack"]
        start, end = write_segment(tmp_path, payloads)
        reader = SegmentReader(tmp_path, None)
        try:
            items, pos = reader.read(1, None, start, end)
        finally:
            reader.close()
        assert pos == end
        assert items[0].events == good and items[0].count == 2 and items[0].written_ms == 1234
        assert [(i.events, i.reason, i.count) for i in items[1:]] == [(None, "decode", 2)] * 3
