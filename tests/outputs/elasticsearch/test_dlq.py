"""DeadLetterQueue: durable NDJSON segments, rotation, claim for replay, purge."""

from __future__ import annotations

from pathlib import Path

from logferry.outputs.elasticsearch.dlq import DeadLetterQueue, make_record


def _rec(i: int) -> dict:
    return make_record({"message": f"m{i}", "event.id": f"id{i}"}, "logs-a-b", 400, "document_parsing_exception", "bad")


class TestDeadLetterQueue:
    def test_records_round_trip(self, tmp_path: Path) -> None:
        """Written records read back in order with event, index, status, error and time."""
        q = DeadLetterQueue(tmp_path / "dlq")
        q.write_sync([_rec(1), _rec(2)])
        got = list(q.read())
        assert [r["event"]["event.id"] for r in got] == ["id1", "id2"]
        assert got[0]["index"] == "logs-a-b" and got[0]["status"] == 400
        assert got[0]["error"] == {"type": "document_parsing_exception", "reason": "bad"}
        assert got[0]["time"].endswith("Z")

    def test_segments_rotate_by_size(self, tmp_path: Path) -> None:
        """Once a segment passes max_segment_bytes the next write starts a new file."""
        q = DeadLetterQueue(tmp_path, max_segment_bytes=100)
        for i in range(3):
            q.write_sync([_rec(i)])
        assert [p.name for p in q.segments()] == ["dlq-000001.ndjson", "dlq-000002.ndjson", "dlq-000003.ndjson"]
        assert q.count() == 3

    def test_torn_last_line_is_skipped(self, tmp_path: Path) -> None:
        """A half-written last line (crash mid-write) does not stop reading the good records."""
        q = DeadLetterQueue(tmp_path)
        q.write_sync([_rec(1)])
        with q.segments()[0].open("ab") as f:
            f.write(b'{"time": "2026-')
        assert q.count() == 1

    def test_claim_moves_segments_and_new_writes_go_elsewhere(self, tmp_path: Path) -> None:
        """claim() renames segments to *.replaying; later writes land in a new segment, not the claimed one."""
        q = DeadLetterQueue(tmp_path)
        q.write_sync([_rec(1)])
        claimed = q.claim()
        assert [p.name for p in claimed] == ["dlq-000001.replaying"]
        q.write_sync([_rec(2)])
        assert [p.name for p in q.segments()] == ["dlq-000002.ndjson"]
        assert [r["event"]["event.id"] for r in q.read(claimed)] == ["id1"]
        assert q.count() == 2

    def test_purge(self, tmp_path: Path) -> None:
        """purge() deletes every segment and says how many records went."""
        q = DeadLetterQueue(tmp_path)
        q.write_sync([_rec(1), _rec(2)])
        assert q.purge() == 2
        assert q.count() == 0 and q.segments() == []

    def test_unencodable_event_keeps_its_repr(self, tmp_path: Path) -> None:
        """A record whose event cannot be JSON-encoded is stored with the event's repr instead of failing."""
        q = DeadLetterQueue(tmp_path)
        q.write_sync([make_record({"x": object()}, "i", 0, "encode_error", "cannot encode"), _rec(3)])
        first, second = q.read()
        assert first["event"] is None and "object object" in first["event_repr"]
        assert second["event"]["event.id"] == "id3"
