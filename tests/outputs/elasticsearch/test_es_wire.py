"""The es_wire test server is as strict as Elasticsearch where logferry depends on it."""

from __future__ import annotations

import gzip
import json
from typing import Any

import aiohttp

from tests.servers.es_wire import EsWireServer

V8 = "application/vnd.elasticsearch+json; compatible-with=8"
V9 = "application/vnd.elasticsearch+json; compatible-with=9"
ND8 = "application/vnd.elasticsearch+x-ndjson; compatible-with=8"


async def call(es: EsWireServer, method: str, path: str, body: bytes | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as s, s.request(method, es.url + path, data=body,
                                                       headers=headers or {}) as r:
        return r.status, dict(r.headers), await r.json(content_type=None)


class TestEsWire:
    async def test_root_has_product_header_and_version(self, es_any: EsWireServer) -> None:
        """GET / answers the configured version and X-Elastic-Product: Elasticsearch."""
        status, headers, body = await call(es_any, "GET", "/")
        assert status == 200 and headers["X-Elastic-Product"] == "Elasticsearch"
        assert body["version"]["number"] == es_any.state.version

    async def test_compat_versions_per_major(self) -> None:
        """ES 8 refuses compatible-with=9, ES 9 accepts 8 and 9."""
        es8, es9 = EsWireServer("8.15.3").start(), EsWireServer("9.1.2").start()
        try:
            assert (await call(es8, "GET", "/", headers={"Accept": V9}))[0] == 400
            assert (await call(es8, "GET", "/", headers={"Accept": V8}))[0] == 200
            assert (await call(es9, "GET", "/", headers={"Accept": V8}))[0] == 200
            assert (await call(es9, "GET", "/", headers={"Accept": V9}))[0] == 200
        finally:
            es8.stop()
            es9.stop()

    async def test_mismatched_compat_headers_are_refused(self, es: EsWireServer) -> None:
        """A body with a compatible Accept but a plain Content-Type is refused like Elasticsearch does."""
        status, _, body = await call(es, "POST", "/_bulk", b'{"create":{"_index":"a"}}\n{}\n',
                                     {"Accept": V8, "Content-Type": "application/x-ndjson"})
        assert status == 400 and body["error"]["type"] == "media_type_header_exception"

    async def test_bulk_needs_trailing_newline(self, es: EsWireServer) -> None:
        """A bulk body without the final newline is a 400 with Elasticsearch's message."""
        status, _, body = await call(es, "POST", "/_bulk", b'{"create":{"_index":"a"}}\n{}',
                                     {"Accept": V8, "Content-Type": ND8})
        assert status == 400 and "terminated by a newline" in body["error"]["reason"]

    async def test_bulk_rejects_unknown_action_and_bad_json(self, es: EsWireServer) -> None:
        """An unknown action key and a malformed action line are whole-request 400s."""
        h = {"Accept": V8, "Content-Type": ND8}
        status, _, body = await call(es, "POST", "/_bulk", b'{"upsert":{"_index":"a"}}\n{}\n', h)
        assert status == 400 and "expected field [create]" in body["error"]["reason"]
        status, _, body = await call(es, "POST", "/_bulk", b'{"create":\n{}\n', h)
        assert status == 400 and body["error"]["type"] == "x_content_parse_exception"

    async def test_create_twice_gives_409_and_data_streams_need_create(self, es: EsWireServer) -> None:
        """create on an existing _id answers 409 per item; `index` into a data stream answers 400."""
        lines = [{"create": {"_index": "logs-a-b", "_id": "1"}}, {"@timestamp": "2026-01-01T00:00:00Z"},
                 {"create": {"_index": "logs-a-b", "_id": "1"}}, {"@timestamp": "2026-01-01T00:00:00Z"},
                 {"index": {"_index": "logs-a-b", "_id": "2"}}, {"@timestamp": "2026-01-01T00:00:00Z"}]
        body = gzip.compress(b"".join(json.dumps(x).encode() + b"\n" for x in lines))
        status, _, out = await call(es, "POST", "/_bulk", body,
                                    {"Accept": V8, "Content-Type": ND8, "Content-Encoding": "gzip"})
        assert status == 200 and out["errors"] is True
        assert [next(iter(i.values()))["status"] for i in out["items"]] == [201, 409, 400]
        assert es.state.count("logs-a-b") == 1 and "logs-a-b" in es.state.data_streams

    async def test_search_and_count_read_back(self, es: EsWireServer) -> None:
        """_count and _search with a term query find the stored documents."""
        h = {"Accept": V8, "Content-Type": ND8}
        lines = [{"create": {"_index": "idx", "_id": str(i)}} if j == 0 else {"n": i, "k": "x" if i % 2 else "y"}
                 for i in range(4) for j in range(2)]
        await call(es, "POST", "/_bulk", b"".join(json.dumps(x).encode() + b"\n" for x in lines), h)
        q = json.dumps({"query": {"term": {"k": "x"}}}).encode()
        hj = {"Accept": V8, "Content-Type": V8}
        assert (await call(es, "POST", "/idx/_count", q, hj))[2]["count"] == 2
        hits = (await call(es, "POST", "/idx/_search", q, hj))[2]["hits"]["hits"]
        assert sorted(h["_id"] for h in hits) == ["1", "3"]

    async def test_filter_path_shrinks_bulk_answers(self, es: EsWireServer) -> None:
        """filter_path=errors,items.*.status,items.*.error keeps only those keys, as Elasticsearch does."""
        body = b'{"create":{"_index":"i","_id":"a"}}\n{"x":1}\n'
        _, _, out = await call(es, "POST", "/_bulk?filter_path=errors,items.*.status,items.*.error", body,
                               {"Accept": V8, "Content-Type": ND8})
        assert out == {"errors": False, "items": [{"create": {"status": 201}}]}

    async def test_put_data_stream_needs_a_data_stream_template(self, es: EsWireServer) -> None:
        """PUT _data_stream creates a stream its template declares, and answers 400 where no template does."""
        h = {"Accept": V8, "Content-Type": V8}
        status, _, body = await call(es, "PUT", "/_data_stream/plain", None, h)
        assert status == 400 and "no matching index template" in body["error"]["reason"]
        assert (await call(es, "PUT", "/_data_stream/logs-app-prod", None, h))[0] == 200
        _, _, listed = await call(es, "GET", "/_data_stream/logs-*", None, h)
        assert [d["name"] for d in listed["data_streams"]] == ["logs-app-prod"]

    async def test_restart_serves_the_same_port_and_documents(self, es: EsWireServer) -> None:
        """A stopped server started again listens on its old port and still holds the documents stored before."""
        h = {"Accept": V8, "Content-Type": ND8}
        body = b'{"create":{"_index":"i","_id":"a"}}\n{"x":1}\n'
        assert (await call(es, "POST", "/_bulk", body, h))[0] == 200
        port = es.port
        es.stop()
        es.start()
        assert es.port == port
        _, _, out = await call(es, "POST", "/_bulk", body, h)
        assert [next(iter(i.values()))["status"] for i in out["items"]] == [409]
        assert es.state.count("i") == 1
