"""Arrow table from a list of flat events: one column per dotted field name, typed from ECS or the values.

Columns keep the events' flat dotted names (``"log.file.path"``), the same
names NDJSON objects carry, so one SQL query reads both encodings (quote
them in DuckDB: ``SELECT "log.level"``). Rules, in order:

* a field ECS types as ``date`` becomes ``timestamp[us, UTC]`` when every
  value parses as ISO-8601; ``long``/``float``/``boolean`` become int64,
  float64 and bool when every value has that type; an ECS ``keyword`` is a
  string column even when a value looks like a number;
* other fields are typed from their values (bool, int64, float64, string,
  list<string>);
* anything else - a type that varies within the batch, nested objects,
  mixed lists - becomes a string column (JSON text for non-strings).
  A batch never fails because of its values.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa
from logferry.agent.event import Event

TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_LIST = pa.list_(pa.string())

# ECS 8.x field types that are not strings (generated from ecs_flat.yml, common field sets only);
# `log.offset` is Filebeat's byte offset.
ECS_TYPES: dict[str, str] = {
    "@timestamp": "date", "log.offset": "long",
    "event.created": "date", "event.start": "date", "event.end": "date", "event.ingested": "date",
    "event.duration": "long", "event.sequence": "long", "event.severity": "long",
    "event.risk_score": "float", "event.risk_score_norm": "float",
    "log.origin.file.line": "long", "log.syslog.facility.code": "long", "log.syslog.priority": "long",
    "log.syslog.severity.code": "long",
    "http.request.body.bytes": "long", "http.request.bytes": "long", "http.response.body.bytes": "long",
    "http.response.bytes": "long", "http.response.status_code": "long",
    "client.bytes": "long", "client.packets": "long", "client.port": "long", "client.nat.port": "long",
    "server.bytes": "long", "server.packets": "long", "server.port": "long", "server.nat.port": "long",
    "source.bytes": "long", "source.packets": "long", "source.port": "long", "source.nat.port": "long",
    "destination.bytes": "long", "destination.packets": "long", "destination.port": "long",
    "destination.nat.port": "long", "url.port": "long", "network.bytes": "long", "network.packets": "long",
    "host.uptime": "long", "host.cpu.usage": "float", "host.disk.read.bytes": "long",
    "host.disk.write.bytes": "long", "host.network.egress.bytes": "long", "host.network.ingress.bytes": "long",
    "container.cpu.usage": "float", "container.memory.usage": "float",
    "process.pid": "long", "process.thread.id": "long", "process.exit_code": "long",
    "process.uptime": "long", "process.start": "date", "process.end": "date",
    "file.size": "long", "file.mtime": "date", "file.ctime": "date", "file.created": "date",
    "file.accessed": "date",
    # keyword fields that often hold number-looking values: keep them strings across all objects.
    "event.code": "keyword", "error.code": "keyword", "http.version": "keyword", "user.id": "keyword",
    "event.id": "keyword", "trace.id": "keyword", "span.id": "keyword", "transaction.id": "keyword",
    "service.version": "keyword", "message": "keyword", "tags": "keyword[]",
}

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_json = msgspec.json.Encoder(enc_hook=str)


def _as_text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return _json.encode(v).decode()


def _string_column(values: list[Any]) -> pa.Array:
    return pa.array([_as_text(v) for v in values], pa.string())


def _column(name: str, values: list[Any]) -> pa.Array:
    ecs = ECS_TYPES.get(name)
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.nulls(len(values), pa.string())
    if ecs == "keyword":
        return _string_column(values)
    if kinds == {str}:
        arr = pa.array(values, pa.string())
        if ecs == "date":
            try:
                return arr.cast(TIMESTAMP)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return arr
        return arr
    if kinds == {bool} and ecs in (None, "boolean"):
        return pa.array(values, pa.bool_())
    if kinds == {int} and ecs in (None, "long", "float"):
        if all(_INT64_MIN <= v <= _INT64_MAX for v in values if v is not None):
            return pa.array(values, pa.float64() if ecs == "float" else pa.int64())
        return _string_column(values)
    if kinds <= {int, float} and ecs in (None, "float"):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kinds == {list} and (ecs in (None, "keyword[]")) and all(
            isinstance(x, str) for v in values if v is not None for x in v):
        return pa.array(values, STRING_LIST)
    if ecs == "keyword[]":
        return pa.array([None if v is None else [_as_text(x) or "" for x in (v if isinstance(v, list) else [v])]
                         for v in values], STRING_LIST)
    return _string_column(values)


def events_to_table(events: list[Event]) -> pa.Table:
    """Columns in first-seen order with ``@timestamp`` first; absent values are nulls."""
    names: dict[str, None] = {"@timestamp": None} if any("@timestamp" in e for e in events[:1]) else {}
    for e in events:
        if e.keys() - names.keys():
            names.update(dict.fromkeys(e))
    columns = {name: [e.get(name) for e in events] for name in names}
    return pa.table({name: _column(name, vals) for name, vals in columns.items()})
