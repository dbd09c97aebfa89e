"""Tests of the Parquet schema derived from events."""

from __future__ import annotations

import pyarrow as pa
from logferry.outputs.s3.schema import TIMESTAMP, events_to_table


class TestEventsToTable:
    def test_ecs_types_where_known(self) -> None:
        """ECS date, long and keyword fields get timestamp, int64 and string columns."""
        t = events_to_table([
            {"@timestamp": "2024-05-01T00:00:00.5Z", "http.response.status_code": 200, "event.code": 4624,
             "tags": ["a", "b"]},
            {"@timestamp": "2024-05-01T00:00:01Z", "http.response.status_code": 404, "event.code": "x"},
        ])
        assert t.schema.field("@timestamp").type == TIMESTAMP
        assert t.schema.field("http.response.status_code").type == pa.int64()
        assert t.column("event.code").to_pylist() == ["4624", "x"]
        assert t.schema.field("tags").type == pa.list_(pa.string())
        assert t.column("tags").to_pylist() == [["a", "b"], None]

    def test_inferred_types(self) -> None:
        """Unknown fields are typed from their values: bool, int64, float64 (ints widen), string."""
        t = events_to_table([{"ok": True, "n": 1, "f": 1, "s": "a"}, {"ok": False, "n": 2, "f": 2.5, "s": None}])
        assert [t.schema.field(c).type for c in ("ok", "n", "f", "s")] == [pa.bool_(), pa.int64(), pa.float64(),
                                                                           pa.string()]

    def test_varying_type_becomes_string_not_failure(self) -> None:
        """A field whose type varies, nested objects and a bad timestamp all become strings."""
        t = events_to_table([
            {"x": 1, "obj": {"a": 1}, "@timestamp": "yesterday", "mixed": [1, "a"]},
            {"x": "one", "obj": {"a": 2}, "@timestamp": "2024-05-01T00:00:00Z", "mixed": True},
        ])
        assert all(t.schema.field(c).type == pa.string() for c in ("x", "obj", "@timestamp", "mixed"))
        assert t.column("x").to_pylist() == ["1", "one"]
        assert t.column("obj").to_pylist() == ['{"a":1}', '{"a":2}']

    def test_huge_int_becomes_string(self) -> None:
        """An integer outside int64 makes the column a string instead of failing."""
        t = events_to_table([{"n": 2**70}, {"n": 1}])
        assert t.column("n").to_pylist() == [str(2**70), "1"]
