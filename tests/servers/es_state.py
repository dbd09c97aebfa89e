"""The state behind the ``es_wire`` test server: indices, templates, data streams, bulk semantics, faults.

Pure Python, no HTTP (``tests/servers/es_wire.py`` is the HTTP front). What it does like Elasticsearch:
``_bulk`` takes NDJSON action/source pairs (strict: one action key, JSON objects), answers one item per
action, ``create`` on an existing ``_id`` answers 409, data streams only take ``create`` and need
``@timestamp``, and a tiny dynamic mapping answers 400 on type conflicts. ``filter_path`` shrinks answers.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Doc = dict[str, Any]

_ACTIONS = ("index", "create", "update", "delete")


@dataclass
class Faults:
    """What to get wrong, and how often. Counters count down; predicates stay until cleared."""

    item_429: int = 0                                  # next N bulk items answer 429
    item_429_every: int = 0                            # or: every Nth item answers 429 (0 = off)
    item_400_when: Callable[[Doc], bool] | None = None  # items whose source matches answer 400
    request_statuses: list[int] = field(default_factory=list)  # next requests answer these statuses
    delay_secs: float = 0.0                            # every bulk answer waits this long
    drop_before: int = 0                               # next N bulk requests: connection dropped, nothing stored
    drop_after: int = 0                                # next N bulk requests: stored, then connection dropped

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass
class Stats:
    bulk_requests: int = 0
    items: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    compat_seen: set[str] = field(default_factory=set)
    gzip_requests: int = 0
    auth_seen: set[str] = field(default_factory=set)


def _flatten(doc: Doc, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out[name] = {}
            out.update(_flatten(v, name + "."))
        else:
            out[name] = v
    return out


def _template_fields(props: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, spec in props.items():
        name = f"{prefix}{k}"
        if "properties" in spec:
            out[name] = "object"
            out.update(_template_fields(spec["properties"], name + "."))
        else:
            out[name] = spec.get("type", "object")
    return out


def _dynamic_type(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "long"
    if isinstance(v, float):
        return "float"
    if isinstance(v, dict):
        return "object"
    return "keyword"


def _value_fits(kind: str, v: Any) -> bool:
    if isinstance(v, list):
        return all(_value_fits(kind, x) for x in v)
    if v is None:
        return True
    if kind == "object":
        return isinstance(v, dict)
    if isinstance(v, dict):
        return kind in ("flattened",)
    if kind in ("long", "integer", "short", "byte", "unsigned_long"):
        if isinstance(v, bool):
            return False
        try:
            return float(v) == int(float(v))
        except (TypeError, ValueError):
            return False
    if kind in ("float", "double", "half_float", "scaled_float"):
        try:
            float(v)
            return not isinstance(v, bool)
        except (TypeError, ValueError):
            return False
    if kind in ("date", "date_nanos"):
        if isinstance(v, int):
            return True
        try:
            datetime.fromisoformat(str(v))
            return True
        except ValueError:
            return False
    if kind == "boolean":
        return isinstance(v, bool) or v in ("true", "false")
    if kind == "ip":
        return isinstance(v, str) and bool(re.fullmatch(r"[0-9a-fA-F:.]+", v))
    return True


class _Index:
    def __init__(self, name: str, mapping: dict[str, str], data_stream: str | None = None) -> None:
        self.name = name
        self.docs: dict[str, Doc] = {}
        self.mapping = dict(mapping)
        self.data_stream = data_stream

    def check(self, doc: Doc, doc_id: str) -> str | None:
        """A mapping error reason, or None; new fields are added to the mapping (dynamic: true)."""
        added: dict[str, str] = {}
        for name, v in _flatten(doc).items():
            kind = self.mapping.get(name) or added.get(name)
            if kind is None:
                sample = v[0] if isinstance(v, list) and v else v
                added[name] = _dynamic_type(sample)
            elif not _value_fits(kind, v):
                if kind == "object":
                    return f"object mapping for [{name}] tried to parse field [{name}] as object, but found a concrete value"
                preview = json.dumps(v)[:40]
                return (f"[1:1] failed to parse field [{name}] of type [{kind}] in document with id "
                        f"'{doc_id}'. Preview of field's value: '{preview}'")
        self.mapping.update(added)
        return None


class EsWireState:
    """Everything the server stores; guarded by one lock because tests read it from another thread."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.major = int(version.split(".")[0])
        self.lock = threading.Lock()
        self.indices: dict[str, _Index] = {}
        self.data_streams: dict[str, list[str]] = {}
        # Like Elasticsearch's built-in `logs` template: logs-*-* are data streams unless a user template wins.
        self.templates: dict[str, Doc] = {"logs": {"index_patterns": ["logs-*-*"], "data_stream": {},
                                                   "priority": 100, "template": {"mappings": {"properties": {
                                                       "@timestamp": {"type": "date"}}}}}}
        self.ilm_policies: dict[str, Doc] = {}
        self.faults = Faults()
        self.stats = Stats()
        self.allowed_privileges = True
        self.required_auth: set[str] = set()
        self._item_counter = itertools.count(1)

    # -- helpers for tests ------------------------------------------------
    def docs(self, pattern: str = "*") -> list[Doc]:
        with self.lock:
            return [d for ix in self._resolve(pattern) for d in ix.docs.values()]

    def count(self, pattern: str = "*") -> int:
        with self.lock:
            return sum(len(ix.docs) for ix in self._resolve(pattern))

    def _resolve(self, pattern: str) -> list[_Index]:
        out: list[_Index] = []
        for part in pattern.split(","):
            for name, backing in self.data_streams.items():
                if fnmatch.fnmatchcase(name, part):
                    out.extend(self.indices[b] for b in backing)
            for name, ix in self.indices.items():
                # Backing indices of data streams are hidden (``.ds-...``): only reached through their stream.
                if (ix.data_stream is None or not name.startswith(".")) and fnmatch.fnmatchcase(name, part):
                    out.append(ix)
        seen: set[str] = set()
        return [ix for ix in out if not (ix.name in seen or seen.add(ix.name))]  # type: ignore[func-returns-value]

    def create_data_stream(self, name: str) -> None:
        """``PUT _data_stream/<name>``: needs a matching template that declares data streams."""
        with self.lock:
            tpl = self._template_for(name)
            if tpl is None or "data_stream" not in tpl:
                raise BadRequest("illegal_argument_exception",
                                 f"no matching index template found for data stream [{name}]")
            self._target(name)

    def _template_for(self, name: str) -> Doc | None:
        best: Doc | None = None
        for t in self.templates.values():
            matches = any(fnmatch.fnmatchcase(name, p) for p in t.get("index_patterns", []))
            if matches and (best is None or t.get("priority", 0) > best.get("priority", 0)):
                best = t
        return best

    def _target(self, name: str) -> _Index:
        """The index writes to ``name`` go to, creating an index or a data stream as ES would."""
        if name in self.data_streams:
            return self.indices[self.data_streams[name][-1]]
        ix = self.indices.get(name)
        if ix is not None:
            return ix
        tpl = self._template_for(name)
        props = ((tpl or {}).get("template", {}).get("mappings", {}) or {}).get("properties", {})
        mapping = _template_fields(props)
        if tpl is not None and "data_stream" in tpl:
            backing = f".ds-{name}-{time.strftime('%Y.%m.%d')}-000001"
            ix = _Index(backing, mapping, data_stream=name)
            self.indices[backing] = ix
            self.data_streams[name] = [backing]
            return ix
        ix = _Index(name, mapping)
        self.indices[name] = ix
        return ix

    # -- bulk -------------------------------------------------------------
    def bulk(self, lines: list[bytes], default_index: str | None) -> Doc:
        items: list[Doc] = []
        errors = False
        pairs = self._parse_pairs(lines, default_index)
        with self.lock:
            for op, meta, source in pairs:
                item = self._one(op, meta, source)
                status = item["status"]
                self.stats.items += 1
                self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
                errors = errors or status >= 300
                items.append({op: item})
        return {"errors": errors, "took": 1, "items": items}

    def _parse_pairs(self, lines: list[bytes], default_index: str | None) -> list[tuple[str, Doc, Doc | None]]:
        pairs: list[tuple[str, Doc, Doc | None]] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            try:
                action = json.loads(line)
            except ValueError as e:
                raise BadRequest("x_content_parse_exception", f"[{i + 1}:1] Malformed action/metadata line: {e}")
            if not isinstance(action, dict) or len(action) != 1:
                raise BadRequest("illegal_argument_exception",
                                  f"Malformed action/metadata line [{i + 1}], expected a simple value for field but found")
            op, meta = next(iter(action.items()))
            if op not in _ACTIONS:
                raise BadRequest("illegal_argument_exception",
                                  f"Malformed action/metadata line [{i + 1}], expected field [create], [delete], "
                                  f"[index] or [update] but found [{op}]")
            meta = dict(meta)
            if "_index" not in meta:
                if default_index is None:
                    raise BadRequest("action_request_validation_exception", "Validation Failed: 1: index is missing;")
                meta["_index"] = default_index
            source: Doc | None = None
            if op != "delete":
                if i + 1 >= len(lines):
                    raise BadRequest("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
                try:
                    source = json.loads(lines[i + 1])
                except ValueError as e:
                    raise BadRequest("x_content_parse_exception", f"[{i + 2}:1] failed to parse source: {e}")
                if not isinstance(source, dict):
                    raise BadRequest("x_content_parse_exception", f"[{i + 2}:1] source is not an object")
                i += 2
            else:
                i += 1
            pairs.append((op, meta, source))
        return pairs

    def _one(self, op: str, meta: Doc, source: Doc | None) -> Doc:
        name = meta["_index"]
        f = self.faults
        n = next(self._item_counter)
        if f.item_429 > 0 or (f.item_429_every and n % f.item_429_every == 0):
            if f.item_429 > 0:
                f.item_429 -= 1
            return _item_error(name, meta.get("_id"), 429, "es_rejected_execution_exception",
                               "rejected execution of coordinating operation")
        if f.item_400_when is not None and source is not None and f.item_400_when(source):
            return _item_error(name, meta.get("_id"), 400, "document_parsing_exception",
                               "[1:2] failed to parse field [message] of type [keyword] (injected)")
        if op not in ("create", "index"):
            return _item_error(name, meta.get("_id"), 400, "illegal_argument_exception", f"{op} is not supported here")
        if name != name.lower() or name.startswith(("_", "-", "+")):
            return _item_error(name, meta.get("_id"), 400, "invalid_index_name_exception",
                               f"Invalid index name [{name}], must be lowercase")
        ix = self._target(name)
        assert source is not None
        if ix.data_stream is not None:
            if op != "create":
                return _item_error(name, meta.get("_id"), 400, "illegal_argument_exception",
                                   "only write ops with an op_type of create are allowed in data streams")
            if "@timestamp" not in source:
                return _item_error(ix.name, meta.get("_id"), 400, "document_parsing_exception",
                                   "data stream timestamp field [@timestamp] is missing")
        doc_id = meta.get("_id") or uuid.uuid4().hex[:20]
        if op == "create" and doc_id in ix.docs:
            return _item_error(ix.name, doc_id, 409, "version_conflict_engine_exception",
                               f"[{doc_id}]: version conflict, document already exists (current version [1])")
        reason = ix.check(source, doc_id)
        if reason is not None:
            return _item_error(ix.name, doc_id, 400, "document_parsing_exception", reason)
        created = doc_id not in ix.docs
        ix.docs[doc_id] = source
        return {"_index": ix.name, "_id": doc_id, "_version": 1, "result": "created" if created else "updated",
                "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": len(ix.docs) - 1,
                "_primary_term": 1, "status": 201 if created else 200}

    # -- search -----------------------------------------------------------
    def search(self, pattern: str, body: Doc) -> tuple[int, list[tuple[str, str, Doc]]]:
        query = body.get("query") or {"match_all": {}}
        with self.lock:
            hits = [(ix.name, i, d) for ix in self._resolve(pattern) for i, d in ix.docs.items()
                    if _matches(query, i, d)]
        return len(hits), hits


class BadRequest(Exception):
    def __init__(self, kind: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.status = kind, reason, status


def _item_error(index: str, doc_id: str | None, status: int, kind: str, reason: str) -> Doc:
    return {"_index": index, "_id": doc_id, "status": status, "error": {"type": kind, "reason": reason}}


def _matches(query: Doc, doc_id: str, doc: Doc) -> bool:
    (kind, spec), = query.items()
    if kind == "match_all":
        return True
    if kind == "ids":
        return doc_id in spec.get("values", [])
    if kind in ("term", "match"):
        (fname, want), = spec.items()
        if isinstance(want, dict):
            want = want.get("value", want.get("query"))
        flat = _flatten(doc)
        have = flat.get(fname)
        return have == want or (isinstance(have, list) and want in have)
    raise BadRequest("parsing_exception", f"unknown query [{kind}]")


def filter_path(doc: Any, spec: str) -> Any:
    """Elasticsearch's ``filter_path``: keep only the comma-separated dotted paths (``*`` matches one key)."""
    if spec == "errors,items.*.status,items.*.error" and isinstance(doc, dict) and "items" in doc:
        # The bulk answer logferry asks for, built directly: the generic walk is slow in Python.
        return {"errors": doc["errors"], "items": [
            {op: {k: r[k] for k in ("status", "error") if k in r} for op, r in item.items()}
            for item in doc["items"]]}
    paths = [p.split(".") for p in spec.split(",") if p]

    def keep(node: Any, alive: list[list[str]]) -> Any:
        if isinstance(node, list):
            kept = [keep(x, alive) for x in node]
            return [x for x in kept if x is not _DROP]
        if not isinstance(node, dict):
            return node if any(not p for p in alive) else _DROP
        out = {}
        for k, v in node.items():
            rest = [p[1:] for p in alive if p and fnmatch.fnmatchcase(k, p[0])]
            if not rest:
                continue
            val = v if any(not r for r in rest) else keep(v, rest)
            if val is not _DROP and val != {}:
                out[k] = val
        return out if out else _DROP

    result = keep(doc, paths)
    return {} if result is _DROP else result


_DROP = object()


def error_body(kind: str, reason: str, status: int) -> Doc:
    return {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
            "status": status}
