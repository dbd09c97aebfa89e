"""The only code that talks to Elasticsearch: the official async client, used with pre-encoded bodies.

* Several endpoints: the client's node pool rotates over them and marks a node dead after a
  connection error; the transport retries *connection errors only* on the next node (``max_retries``
  = endpoints - 1), everything else comes back to our retry logic.
* REST compatibility: the 8.x and 9.x clients send ``compatible-with=<client major>``, which an
  Elasticsearch of the other major refuses. We send the header ourselves: ``compatible-with=8`` (which
  8 and 9 both accept) until the server's major is known, then that major.
* Bodies are NDJSON bytes, gzip'ed here (level 1, in a worker thread) rather than by the transport,
  which would compress at level 9 on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import zlib
from dataclasses import dataclass
from typing import Any

import msgspec
from elastic_transport import ConnectionError as EsConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from elasticsearch.serializer import JsonSerializer
from logferry.agent.errors import BuildError
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig

log = logging.getLogger("logferry.outputs.elasticsearch")

# The transport logs every request at INFO; that is per-request noise in an agent's log.
logging.getLogger("elastic_transport.transport").setLevel(logging.WARNING)
logging.getLogger("elastic_transport.node_pool").setLevel(logging.WARNING)

_GZIP_THRESHOLD = 1024
#: Only what per-item handling needs: a bulk answer shrinks ~8x, and parsing it was the largest
#: per-document cost of the output (5 us of ~10 us per document with the full answer).
BULK_FILTER_PATH = "errors,items.*.status,items.*.error"


class _MsgspecJsonSerializer(JsonSerializer):
    """The client's JSON serializer, decoding with msgspec (several times faster than ``json``)."""

    def loads(self, data: bytes) -> object:
        try:
            return msgspec.json.decode(data)
        except msgspec.DecodeError:
            return super().loads(data)
_GZIP_THREAD_THRESHOLD = 256 * 1024


@dataclass
class Answer:
    """A response: ``status`` and parsed ``body``; ``status`` is None when there was no answer at all."""

    status: int | None
    body: Any
    error: str = ""


def build_client(cfg: ElasticsearchOutputConfig) -> AsyncElasticsearch:
    """An ``AsyncElasticsearch`` for the config; secrets are read here and kept only inside the client."""
    kw: dict[str, Any] = {}
    auth = cfg.auth
    if auth is not None:
        if auth.strategy == "basic":
            assert auth.user is not None and auth.password is not None
            kw["basic_auth"] = (auth.user, auth.password.resolve("auth.password"))
        elif auth.strategy == "api_key":
            assert auth.api_key is not None
            kw["api_key"] = auth.api_key.resolve("auth.api_key")
        else:
            assert auth.token is not None
            kw["bearer_auth"] = auth.token.resolve("auth.token")
    tls = cfg.tls
    if any(u.startswith("https://") for u in cfg.endpoints):
        try:
            ctx = ssl.create_default_context(cafile=tls.ca_file)
            if tls.cert_file is not None:
                ctx.load_cert_chain(tls.cert_file, tls.key_file)
        except (OSError, ssl.SSLError) as e:
            raise BuildError(f"TLS files cannot be loaded: {e}") from e
        if not tls.verify_certificate:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            log.warning("TLS certificate verification is OFF for %s: anyone on the path can read and change "
                        "the data. Set tls.verify_certificate: true in production.", ", ".join(cfg.endpoints))
        kw["ssl_context"] = ctx
    return AsyncElasticsearch(
        hosts=list(cfg.endpoints),
        request_timeout=cfg.request.timeout_secs,
        max_retries=len(cfg.endpoints) - 1,
        retry_on_status=(),
        retry_on_timeout=False,
        http_compress=False,
        connections_per_node=max(cfg.request.concurrency, 10),
        serializers={"application/json": _MsgspecJsonSerializer(),
                     "application/vnd.elasticsearch+json": _MsgspecJsonSerializer()},
        **kw,
    )


def _compress(body: bytes) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: gzip container
    return c.compress(body) + c.flush()


class ElasticsearchService:
    """Bulk writes and the few admin calls setup and health checks need."""

    def __init__(self, client: AsyncElasticsearch, *, gzip: bool = True) -> None:
        self.client = client
        self.gzip = gzip
        self.compat_major = 8

    def _headers(self, ctype: str = "json") -> dict[str, str]:
        v = self.compat_major
        return {"accept": f"application/vnd.elasticsearch+json; compatible-with={v}",
                "content-type": f"application/vnd.elasticsearch+{ctype}; compatible-with={v}"}

    def use_server_major(self, major: int) -> None:
        """Speak the server's own REST version from now on (8 and 9 are both accepted by the other)."""
        if major in (8, 9):
            self.compat_major = major

    async def request(self, method: str, path: str, body: Any = None, *, ndjson: bool = False,
                      params: dict[str, Any] | None = None, probe: bool = False) -> Answer:
        """One call; never raises for HTTP or network failures, returns them as an ``Answer``.

        ``probe``: no compatibility header at all (``Accept: */*``), for the version probe, which must
        work whatever the server's major.
        """
        headers = {"accept": "*/*"} if probe else self._headers("x-ndjson" if ndjson else "json")
        if body is None:
            headers.pop("content-type", None)
        elif isinstance(body, bytes) and self.gzip and len(body) >= _GZIP_THRESHOLD:
            body = (await asyncio.to_thread(_compress, body)) if len(body) >= _GZIP_THREAD_THRESHOLD \
                else _compress(body)
            headers["content-encoding"] = "gzip"
        try:
            resp = await self.client.perform_request(method, path, headers=headers, body=body, params=params)
        except ApiError as e:
            return Answer(e.meta.status, e.body, _api_error_text(e))
        except ConnectionTimeout as e:
            return Answer(None, None, f"request timed out: {e.message}")
        except EsConnectionError as e:
            return Answer(None, None, f"connection failed: {e.message}")
        except TransportError as e:
            return Answer(None, None, f"transport error: {e.message}")
        return Answer(resp.meta.status, resp.body)

    async def bulk(self, body: bytes) -> Answer:
        return await self.request("POST", "/_bulk", body, ndjson=True, params={"filter_path": BULK_FILTER_PATH})

    async def close(self) -> None:
        await self.client.close()


def _api_error_text(e: ApiError) -> str:
    body = e.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f"{err.get('type', 'error')}: {err.get('reason', '')}"
    return str(e.message)
