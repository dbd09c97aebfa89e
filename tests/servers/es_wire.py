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

The state and bulk semantics live in ``tests/servers/es_state.py``.

Run it in-process with ``EsWireServer(...).start()`` (own thread and loop) or ``python -m tests.servers.es_wire``.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import gzip
import json
import re
import ssl
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.servers.es_state import (
    BadRequest,
    Doc,
    EsWireState,
    Faults,
    error_body,
    filter_path,
)

_COMPAT_RE = re.compile(r"application/vnd\.elasticsearch\+([\w-]+)\s*;\s*compatible-with=(\d+)")


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
        """Serve (again, after ``stop``: same port once it was bound, same state, so an outage can end)."""
        self._ready.clear()
        self._error = None
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
            self._loop = None  # nothing to stop; ``start`` may be called again
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
        except BadRequest as e:
            resp = web.json_response(error_body(e.kind, e.reason, e.status), status=e.status)
            if e.status == 401:
                resp.headers["WWW-Authenticate"] = 'Basic realm="security", charset="UTF-8"'
        resp.headers["X-Elastic-Product"] = "Elasticsearch"
        return resp

    def _check_auth(self, request: web.Request) -> None:
        got = request.headers.get("Authorization", "")
        if got:
            self.state.stats.auth_seen.add(got)
        if self.state.required_auth and got not in self.state.required_auth:
            raise BadRequest("security_exception", "missing authentication credentials for REST request [/]", 401)

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
                raise BadRequest("media_type_header_exception",
                                  f"Invalid media-type value on headers [{header}]: compatible-with={v} is not "
                                  f"supported by Elasticsearch {self.state.version}")
        if request.can_read_body and versions and len(versions) == 1:
            raise BadRequest("media_type_header_exception", "A compatible version is required on both Content-Type "
                              "and Accept headers if either one has requested a compatible version")
        if len(set(versions.values())) > 1:
            raise BadRequest("media_type_header_exception",
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
            raise BadRequest("x_content_parse_exception", str(e))
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
        raise BadRequest("unsupported_operation", f"es_wire does not implement {m} {request.path}", 400)

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
            raise BadRequest("resource_not_found_exception", f"{item_key} [{name}] not found", 404)
        if list_key is None:
            return web.json_response({k: {"version": 1, "policy": v} for k, v in found.items()})
        return web.json_response({list_key: [{"name": k, item_key: v} for k, v in found.items()]})

    async def _data_stream(self, request: web.Request, name: str) -> web.StreamResponse:
        st = self.state
        if request.method == "PUT":
            st.create_data_stream(name)
            return web.json_response({"acknowledged": True})
        with st.lock:
            found = [(k, v) for k, v in st.data_streams.items() if fnmatch.fnmatchcase(k, name)]
        if not found and "*" not in name:
            raise BadRequest("index_not_found_exception", f"no such index [{name}]", 404)
        return web.json_response({"data_streams": [
            {"name": k, "timestamp_field": {"name": "@timestamp"},
             "indices": [{"index_name": b} for b in v], "generation": len(v), "status": "GREEN"} for k, v in found]})

    async def _bulk(self, request: web.Request, default_index: str | None) -> web.StreamResponse:
        st = self.state
        ctype = request.headers.get("Content-Type", "")
        if "x-ndjson" not in ctype and "json" not in ctype:
            raise BadRequest("illegal_argument_exception", f"Content-Type header [{ctype}] is not supported", 406)
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
                return web.json_response(error_body(kind, f"injected {status}", status), status=status)
            if raw and not raw.endswith(b"\n"):
                raise BadRequest("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
            if not raw.strip():
                raise BadRequest("action_request_validation_exception", "Validation Failed: 1: no requests added;")
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
