"""The agent's own HTTP endpoint: ``/health`` and ``/metrics`` (Prometheus text).

Two read-only GET routes do not justify a web framework; this speaks just
enough HTTP/1.1 (one request per connection) for curl, Prometheus and
systemd health probes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from logferry.agent import telemetry
from logferry.agent.component import Health

log = logging.getLogger("logferry.api")

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable", 400: "Bad Request"}


class ApiServer:
    def __init__(self, address: str, healths: Callable[[], dict[str, Health]]) -> None:
        host, _, port = address.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        self.port = int(port)
        self._healths = healths
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        sock = self._server.sockets[0].getsockname()
        self.port = sock[1]
        log.info("API listening.", extra={"address": f"{self.host}:{self.port}"})

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split()
            if len(parts) != 3:
                status, ctype, body = 400, "text/plain", b"bad request\n"
            elif parts[0] != "GET":
                status, ctype, body = 405, "text/plain", b"only GET\n"
            else:
                status, ctype, body = self._route(parts[1].split("?", 1)[0])
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    def _route(self, path: str) -> tuple[int, str, bytes]:
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", telemetry.render()
        if path == "/health":
            unhealthy = {cid: h.reason for cid, h in self._healths().items() if not h.healthy}
            doc = {"status": "unhealthy" if unhealthy else "ok", "unhealthy_outputs": unhealthy}
            return (503 if unhealthy else 200), "application/json", json.dumps(doc).encode() + b"\n"
        return 404, "text/plain", b"not found\n"
