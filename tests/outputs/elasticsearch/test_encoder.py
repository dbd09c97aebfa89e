"""BulkEncoder and IndexNamer: pure events -> NDJSON bulk items."""

from __future__ import annotations

import json

from logferry.outputs.elasticsearch.encoder import (
    BulkEncoder,
    EncodedItem,
    EncodeFailure,
    IndexNamer,
)

from tests.outputs.elasticsearch.helpers import make_config


def _lines(item: EncodedItem | EncodeFailure) -> list[dict]:
    assert isinstance(item, EncodedItem)
    assert item.data.endswith(b"\n") and item.data.count(b"\n") == 2
    return [json.loads(x) for x in item.data.splitlines()]


class TestBulkEncoder:
    def test_create_with_event_id(self) -> None:
        """Each event becomes a create action with _index and _id = event.id, then its source."""
        (item,) = BulkEncoder(make_config("http://h:1")).encode([{"message": "hi", "event.id": "abc"}])
        action, source = _lines(item)
        assert action == {"create": {"_index": "logs-generic-default", "_id": "abc"}}
        assert source == {"message": "hi", "event.id": "abc", "data_stream.type": "logs",
                          "data_stream.dataset": "generic", "data_stream.namespace": "default"}

    def test_auto_ids_omit_the_id(self) -> None:
        """id_mode auto leaves _id out so Elasticsearch assigns one."""
        (item,) = BulkEncoder(make_config("http://h:1", id_mode="auto")).encode([{"event.id": "abc"}])
        assert _lines(item)[0] == {"create": {"_index": "logs-generic-default"}}

    def test_event_without_id_gets_auto_id(self) -> None:
        """An event without event.id is still sent, with an Elasticsearch-assigned id."""
        (item,) = BulkEncoder(make_config("http://h:1")).encode([{"message": "x"}])
        assert "_id" not in _lines(item)[0]["create"]

    def test_empty_event_and_existing_data_stream_fields(self) -> None:
        """An empty event and one that already has data_stream fields both encode to valid JSON with config values."""
        items = BulkEncoder(make_config("http://h:1")).encode([{}, {"data_stream.dataset": "other", "a": 1}])
        assert _lines(items[0])[1]["data_stream.dataset"] == "generic"
        assert _lines(items[1])[1] == {"a": 1, "data_stream.type": "logs", "data_stream.dataset": "generic",
                                       "data_stream.namespace": "default"}

    def test_index_mode_has_no_data_stream_fields(self) -> None:
        """Index mode sends the event as it is, to the rendered index name."""
        enc = BulkEncoder(make_config("http://h:1", mode="index", index="app-%Y"))
        (item,) = enc.encode([{"@timestamp": "2025-12-31T23:59:59Z", "k": "v"}])
        assert _lines(item) == [{"create": {"_index": "app-2025"}}, {"@timestamp": "2025-12-31T23:59:59Z", "k": "v"}]

    def test_unencodable_event_is_a_failure_not_an_exception(self) -> None:
        """An event msgspec cannot encode comes back as an EncodeFailure; its neighbours still encode."""
        items = BulkEncoder(make_config("http://h:1")).encode([{"a": 1}, {"obj": object()}, {"b": 2}])
        assert isinstance(items[0], EncodedItem) and isinstance(items[2], EncodedItem)
        assert isinstance(items[1], EncodeFailure) and "cannot encode event as JSON" in items[1].reason

    def test_unicode_and_nested_values(self) -> None:
        """Non-ASCII text and nested JSON payloads survive encoding unchanged."""
        ev = {"message": "zürich ✓", "payload": {"a": [1, 2, {"b": None}]}}
        (item,) = BulkEncoder(make_config("http://h:1", mode="index", index="x")).encode([ev])
        assert _lines(item)[1] == ev


class TestIndexNamer:
    def test_time_and_fields(self) -> None:
        """strftime applies to @timestamp (converted to UTC) and {field} to event values, lowercased."""
        namer = IndexNamer("App-{service.name}-%Y.%m.%d")
        assert namer.name({"@timestamp": "2026-01-01T01:00:00+02:00", "service.name": "Api"}) == "app-api-2025.12.31"

    def test_missing_field_and_bad_characters(self) -> None:
        """A missing field renders as `unknown`; characters Elasticsearch forbids become `_`."""
        namer = IndexNamer("{team}-{service.name}")
        assert namer.name({"team": "ML Ops/x"}) == "ml_ops_x-unknown"

    def test_nested_lookup(self) -> None:
        """A {dotted.name} also finds a value in nested JSON."""
        assert IndexNamer("{k8s.ns}").name({"k8s": {"ns": "prod"}}) == "prod"
