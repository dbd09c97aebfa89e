"""Events -> bulk items: one ``create`` action line plus one source line per event, encoded once with msgspec.

Pure. Events are shared with other outputs (fan-out gives outputs the same batch), so they are never
changed: the data stream fields are spliced into the encoded bytes instead of into the dict.
Each item stays a separate ``bytes`` so that a retry or a DLQ write can pick single items; the request
body is the ``b"".join`` of the items still to send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from logferry.agent.event import Event
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig

_FIELD_RE = re.compile(r"\{([^}]+)\}")
_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:]+')
_DS_KEYS = ("data_stream.type", "data_stream.dataset", "data_stream.namespace")


@dataclass(slots=True)
class EncodedItem:
    """One bulk item: the bytes to send (action + source, newline-terminated) and where it goes."""

    data: bytes
    index: str


@dataclass(slots=True)
class EncodeFailure:
    """An event msgspec could not encode (e.g. a non-string key); it goes to the DLQ, not to ES."""

    index: str
    reason: str


class IndexNamer:
    """Renders an index name template: strftime on ``@timestamp``, then ``{field}`` values, lowercased."""

    def __init__(self, template: str, missing: str = "unknown") -> None:
        self.template = template
        self.fields = _FIELD_RE.findall(template)
        self.uses_time = "%" in template
        self.missing = missing
        self._cache: dict[tuple[Any, ...], str] = {}

    def name(self, event: Event) -> str:
        ts = event.get("@timestamp") if self.uses_time else None
        # Seconds resolution is enough for any index pattern and keeps the cache hit rate high.
        key: tuple[Any, ...] = (ts[:19] if isinstance(ts, str) else ts,)
        if self.fields:
            key += tuple(_lookup(event, f) for f in self.fields)
        found = self._cache.get(key)
        if found is not None:
            return found
        if len(self._cache) > 4096:
            self._cache.clear()
        text = self.template
        if self.uses_time:
            text = _parse_time(ts).strftime(text)
        if self.fields:
            values = iter(key[1:])
            text = _FIELD_RE.sub(lambda _m: _clean(next(values), self.missing), text)
        found = _BAD_INDEX_CHARS.sub("_", text.lower()).lstrip("-_+")
        self._cache[key] = found
        return found


def _lookup(event: Event, name: str) -> Any:
    if name in event:
        return event[name]
    node: Any = event
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _clean(value: Any, missing: str) -> str:
    if value is None or value == "" or isinstance(value, (dict, list)):
        return missing
    return str(value)


def _parse_time(ts: Any) -> datetime:
    if isinstance(ts, str):
        try:
            dt = datetime.fromisoformat(ts)
            return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


class BulkEncoder:
    """Turns events into bulk items for one output's target and id settings."""

    def __init__(self, cfg: ElasticsearchOutputConfig) -> None:
        self._enc = msgspec.json.Encoder()
        self._use_ids = cfg.id_mode == "event_id"
        self._namer: IndexNamer | None = None
        self._ds_fields: dict[str, str] = {}
        self._ds_suffix = b""
        self._fixed_index = ""
        if cfg.mode == "data_stream":
            ds = cfg.data_stream
            self._fixed_index = ds.name
            self._ds_fields = dict(zip(_DS_KEYS, (ds.type, ds.dataset, ds.namespace)))
            # ',"data_stream.type":"logs",...}' replaces the closing brace of every encoded source.
            self._ds_suffix = b"," + self._enc.encode(self._ds_fields)[1:]
        else:
            assert cfg.index is not None
            self._namer = IndexNamer(cfg.index)
        self._action_cache: dict[str, tuple[bytes, bytes]] = {}

    def _action_parts(self, index: str) -> tuple[bytes, bytes]:
        parts = self._action_cache.get(index)
        if parts is None:
            head = b'{"create":{"_index":' + self._enc.encode(index)
            parts = (head + b',"_id":', head + b"}}\n")
            self._action_cache[index] = parts
        return parts

    def encode(self, events: list[Event]) -> list[EncodedItem | EncodeFailure]:
        """One entry per event, in order."""
        enc = self._enc.encode
        use_ids = self._use_ids
        namer = self._namer
        fixed = self._fixed_index
        ds_suffix = self._ds_suffix
        ds_keys_present = _has_ds_keys
        out: list[EncodedItem | EncodeFailure] = []
        append = out.append
        for ev in events:
            index = fixed if namer is None else namer.name(ev)
            with_id, without_id = self._action_parts(index)
            try:
                if ds_suffix:
                    if len(ev) == 0 or ds_keys_present(ev):
                        source = enc({**ev, **self._ds_fields})
                    else:
                        source = enc(ev)[:-1] + ds_suffix
                else:
                    source = enc(ev)
                doc_id = ev.get("event.id") if use_ids else None
                if doc_id is not None:
                    action = with_id + enc(str(doc_id)) + b"}}\n"
                else:
                    action = without_id
            except (TypeError, ValueError, msgspec.EncodeError) as e:
                append(EncodeFailure(index, f"cannot encode event as JSON: {e}"))
                continue
            append(EncodedItem(action + source + b"\n", index))
        return out


def _has_ds_keys(ev: Event) -> bool:
    return "data_stream.type" in ev or "data_stream.dataset" in ev or "data_stream.namespace" in ev or "data_stream" in ev
