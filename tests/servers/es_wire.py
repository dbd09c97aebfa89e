"""A wire-level Elasticsearch 8/9 stand-in for tests: real HTTP on 127.0.0.1, strict where logferry relies on it.

What it does like Elasticsearch:

* ``GET /`` answers name, cluster and ``version.number``; every answer carries ``X-Elastic-Product: Elasticsearch``.
* REST compatibility headers (``application/vnd.elasticsearch+json; compatible-with=N``) are validated as
  the configured major does: 8 accepts 7 and 8, 9 accepts 8 and 9, and Accept/Content-Type must agree.
* ``_bulk`` takes NDJSON action/source pairs (strict: trailing newline, one action key, JSON objects),
  answers one item per action, ``create`` on an existing ``_id`` answers 409, data streams only take
  ``create`` and need ``@timestamp``, and a tiny dynamic mapping answers 400 on type conflicts.
* ``_index_template``, ``_ilm/policy``, ``_data_stream``, ``_count``, ``_search`` and
  ``_security/user/_has_privileges``, enough for setup, health checks and tests reading back.

Fault injection (``EsWireServer.faults``): per-item 429s and 400s, whole-request statuses, slow answers,
connections dropped before or after the documents were stored.

Run it in-process with ``EsWireServer(...).start()`` (own thread and loop) or ``python -m tests.servers.es_wire``.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import gzip
import itertools
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

Doc = dict[str, Any]

_COMPAT_RE = re.compile(r"application/vnd\.elasticsearch\+([\w-]+)\s*;\s*compatible-with=(\d+)")
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
                if ix.data_stream is None and fnmatch.fnmatchcase(name, part) or ix.data_stream is not None and not name.startswith(".") and fnmatch.fnmatchcase(name, part):
                    out.append(ix)
        seen: set[str] = set()
        return [ix for ix in out if not (ix.name in seen or seen.add(ix.name))]  # type: ignore[func-returns-value]

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
                raise _BadRequest("x_content_parse_exception", f"[{i + 1}:1] Malformed action/metadata line: {e}")
            if not isinstance(action, dict) or len(action) != 1:
                raise _BadRequest("illegal_argument_exception",
                                  f"Malformed action/metadata line [{i + 1}], expected a simple value for field but found")
            op, meta = next(iter(action.items()))
            if op not in _ACTIONS:
                raise _BadRequest("illegal_argument_exception",
                                  f"Malformed action/metadata line [{i + 1}], expected field [create], [delete], "
                                  f"[index] or [update] but found [{op}]")
            meta = dict(meta)
            if "_index" not in meta:
                if default_index is None:
                    raise _BadRequest("action_request_validation_exception", "Validation Failed: 1: index is missing;")
                meta["_index"] = default_index
            source: Doc | None = None
            if op != "delete":
                if i + 1 >= len(lines):
                    raise _BadRequest("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
                try:
                    source = json.loads(lines[i + 1])
                except ValueError as e:
                    raise _BadRequest("x_content_parse_exception", f"[{i + 2}:1] failed to parse source: {e}")
                if not isinstance(source, dict):
                    raise _BadRequest("x_content_parse_exception", f"[{i + 2}:1] source is not an object")
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


class _BadRequest(Exception):
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
    raise _BadRequest("parsing_exception", f"unknown query [{kind}]")


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


def _error_body(kind: str, reason: str, status: int) -> Doc:
    return {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
            "status": status}


class EsWireServer:
    """The HTTP front of ``EsWireState``; ``start()`` runs it on a daemon thread with its own loop."""

    def __init__(self, version: str = "8.15.0", host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.state = EsWireState(version)
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    # -- lifecycle --------------------------------------------------------
    def start(self) -> EsWireServer:
        self._thread = threading.Thread(target=self._serve, name="es-wire", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("es_wire server did not start")
        if self._error is not None:
            raise RuntimeError(f"es_wire server did not start: {self._error!r}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self.start_async())
        except BaseException as e:  # noqa: BLE001 - handed to the starting thread, which raises it
            self._error = e
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()

    async def start_async(self) -> None:
        app = web.Application(client_max_size=512 * 1024 * 1024, middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- HTTP -------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        try:
            self._check_auth(request)
            self._check_compat(request)
            resp: web.StreamResponse = await handler(request)
        except _BadRequest as e:
            resp = web.json_response(_error_body(e.kind, e.reason, e.status), status=e.status)
            if e.status == 401:
                resp.headers["WWW-Authenticate"] = 'Basic realm="security", charset="UTF-8"'
        resp.headers["X-Elastic-Product"] = "Elasticsearch"
        return resp

    def _check_auth(self, request: web.Request) -> None:
        got = request.headers.get("Authorization", "")
        if got:
            self.state.stats.auth_seen.add(got)
        if self.state.required_auth and got not in self.state.required_auth:
            raise _BadRequest("security_exception", "missing authentication credentials for REST request [/]", 401)

    def _check_compat(self, request: web.Request) -> None:
        accepted = {7, 8} if self.state.major == 8 else {self.state.major - 1, self.state.major}
        versions: dict[str, int] = {}
        for header in ("Accept", "Content-Type"):
            m = _COMPAT_RE.search(request.headers.get(header, ""))
            if m:
                versions[header] = int(m.group(2))
                self.state.stats.compat_seen.add(m.group(2))
        for header, v in versions.items():
            if v not in accepted:
                raise _BadRequest("media_type_header_exception",
                                  f"Invalid media-type value on headers [{header}]: compatible-with={v} is not "
                                  f"supported by Elasticsearch {self.state.version}")
        if request.can_read_body and versions and len(versions) == 1:
            raise _BadRequest("media_type_header_exception", "A compatible version is required on both Content-Type "
                              "and Accept headers if either one has requested a compatible version")
        if len(set(versions.values())) > 1:
            raise _BadRequest("media_type_header_exception",
                              "Content-Type and Accept headers have to match when content is present")

    async def _body(self, request: web.Request) -> bytes:
        raw = await request.read()
        if request.headers.get("Content-Encoding", "") == "gzip":
            # aiohttp already inflates request bodies it can; only count them (and inflate if it did not).
            self.state.stats.gzip_requests += 1
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
        return raw

    async def _json(self, request: web.Request) -> Doc:
        raw = await self._body(request)
        if not raw:
            return {}
        try:
            out = json.loads(raw)
        except ValueError as e:
            raise _BadRequest("x_content_parse_exception", str(e))
        return out if isinstance(out, dict) else {}

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        m = request.method
        st = self.state
        if not parts and m in ("GET", "HEAD"):
            return web.json_response({
                "name": "es-wire", "cluster_name": "logferry-test", "cluster_uuid": "0" * 22,
                "version": {"number": st.version, "build_flavor": "default", "build_type": "docker",
                            "lucene_version": "9.11.1", "minimum_wire_compatibility_version": "7.17.0",
                            "minimum_index_compatibility_version": "7.0.0"},
                "tagline": "You Know, for Search"})
        if parts and parts[-1] == "_bulk" and m in ("POST", "PUT"):
            return await self._bulk(request, parts[0] if len(parts) == 2 else None)
        if parts[:1] == ["_index_template"] and len(parts) == 2:
            return await self._named_doc(request, st.templates, parts[1], "index_templates", "index_template")
        if parts[:2] == ["_ilm", "policy"] and len(parts) == 3:
            return await self._named_doc(request, st.ilm_policies, parts[2], None, "policy")
        if parts[:1] == ["_data_stream"]:
            return await self._data_stream(request, parts[1] if len(parts) > 1 else "*")
        if parts[:3] == ["_security", "user", "_has_privileges"]:
            body = await self._json(request)
            names = [n for p in body.get("index", []) for n in p.get("names", [])]
            privs = [x for p in body.get("index", []) for x in p.get("privileges", [])]
            ok = st.allowed_privileges
            return web.json_response({"username": "logferry", "has_all_requested": ok, "cluster": {},
                                      "index": {n: {p: ok for p in privs} for n in names}, "application": {}})
        if len(parts) == 2 and parts[1] in ("_count", "_search"):
            body = await self._json(request)
            total, hits = st.search(parts[0], body)
            if parts[1] == "_count":
                return web.json_response({"count": total, "_shards": {"total": 1, "successful": 1}})
            size = int(request.query.get("size", body.get("size", 10)))
            return web.json_response({"took": 1, "timed_out": False, "hits": {
                "total": {"value": total, "relation": "eq"},
                "hits": [{"_index": i, "_id": d, "_score": 1.0, "_source": s} for i, d, s in hits[:size]]}})
        if len(parts) == 2 and parts[1] == "_refresh":
            return web.json_response({"_shards": {"total": 1, "successful": 1, "failed": 0}})
        raise _BadRequest("unsupported_operation", f"es_wire does not implement {m} {request.path}", 400)

    async def _named_doc(self, request: web.Request, store: dict[str, Doc], name: str,
                         list_key: str | None, item_key: str) -> web.StreamResponse:
        if request.method == "PUT":
            body = await self._json(request)
            with self.state.lock:
                store[name] = body.get("policy", body) if item_key == "policy" else body
            return web.json_response({"acknowledged": True})
        with self.state.lock:
            found = {k: v for k, v in store.items() if fnmatch.fnmatchcase(k, name)}
        if not found:
            raise _BadRequest("resource_not_found_exception", f"{item_key} [{name}] not found", 404)
        if list_key is None:
            return web.json_response({k: {"version": 1, "policy": v} for k, v in found.items()})
        return web.json_response({list_key: [{"name": k, item_key: v} for k, v in found.items()]})

    async def _data_stream(self, request: web.Request, name: str) -> web.StreamResponse:
        st = self.state
        if request.method == "PUT":
            with st.lock:
                tpl = st._template_for(name)
                if tpl is None or "data_stream" not in tpl:
                    raise _BadRequest("illegal_argument_exception",
                                      f"no matching index template found for data stream [{name}]")
                st._target(name)
            return web.json_response({"acknowledged": True})
        with st.lock:
            found = [(k, v) for k, v in st.data_streams.items() if fnmatch.fnmatchcase(k, name)]
        if not found and "*" not in name:
            raise _BadRequest("index_not_found_exception", f"no such index [{name}]", 404)
        return web.json_response({"data_streams": [
            {"name": k, "timestamp_field": {"name": "@timestamp"},
             "indices": [{"index_name": b} for b in v], "generation": len(v), "status": "GREEN"} for k, v in found]})

    async def _bulk(self, request: web.Request, default_index: str | None) -> web.StreamResponse:
        st = self.state
        ctype = request.headers.get("Content-Type", "")
        if "x-ndjson" not in ctype and "json" not in ctype:
            raise _BadRequest("illegal_argument_exception", f"Content-Type header [{ctype}] is not supported", 406)
        st.stats.bulk_requests += 1
        st.stats.in_flight += 1
        st.stats.max_in_flight = max(st.stats.max_in_flight, st.stats.in_flight)
        try:
            raw = await self._body(request)
            f = st.faults
            if f.drop_before > 0:
                f.drop_before -= 1
                return self._drop(request)
            if f.delay_secs:
                await asyncio.sleep(f.delay_secs)
            if f.request_statuses:
                status = f.request_statuses.pop(0)
                kind = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
                return web.json_response(_error_body(kind, f"injected {status}", status), status=status)
            if raw and not raw.endswith(b"\n"):
                raise _BadRequest("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
            if not raw.strip():
                raise _BadRequest("action_request_validation_exception", "Validation Failed: 1: no requests added;")
            result = st.bulk(raw.split(b"\n"), default_index)
            if f.drop_after > 0:
                f.drop_after -= 1
                return self._drop(request)
            if "filter_path" in request.query:
                result = filter_path(result, request.query["filter_path"])
            return web.json_response(result)
        finally:
            st.stats.in_flight -= 1

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=500)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the es_wire test server until interrupted.")
    p.add_argument("--version", default="8.15.0")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    server = EsWireServer(args.version, port=args.port).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
