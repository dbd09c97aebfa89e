"""Tests of replay-safe object names."""

from __future__ import annotations

from logferry.outputs.s3.naming import (
    content_object_key,
    object_metadata,
    range_object_key,
    split_event_id,
)


class TestSplitEventId:
    def test_splits_stream_and_hex_offset(self) -> None:
        """A file-source id splits into its stream prefix and integer byte offset."""
        assert split_event_id("9f86d081884c7d65-1a2b") == ("9f86d081884c7d65", 0x1A2B)

    def test_rejects_ids_of_other_shapes(self) -> None:
        """Ids without a hex offset suffix, or not strings, have no stream."""
        for bad in ("plain", "abc-xyz", "-12", "abc-", 42, None, "a-" + "f" * 17):
            assert split_event_id(bad) == (None, -1)


class TestObjectKeys:
    def test_range_key_is_a_function_of_the_range(self) -> None:
        """The same partition, stream and offsets give the same key; lexical order follows offsets."""
        a = range_object_key("p/", "s1", 0x10, 0x20, ".ndjson.gz")
        assert a == range_object_key("p/", "s1", 0x10, 0x20, ".ndjson.gz") == "p/s1-000000000010-000000000020.ndjson.gz"
        assert range_object_key("p/", "s1", 0x100, 0x200, ".x") > range_object_key("p/", "s1", 0x20, 0x30, ".x")

    def test_content_key_uses_hash(self) -> None:
        """Events without ids are named by their body's hash."""
        assert content_object_key("p/", "ab" * 32, ".parquet") == "p/nostream-" + "ab" * 16 + ".parquet"

    def test_metadata_fields(self) -> None:
        """Metadata carries count, first/last id, sha256 and the logferry version."""
        meta = object_metadata(3, "s-1", "s-3", "00" * 32)
        assert meta["logferry-events"] == "3" and meta["logferry-first-event-id"] == "s-1"
        assert meta["logferry-last-event-id"] == "s-3" and meta["logferry-sha256"] == "00" * 32
        assert meta["logferry-version"]
