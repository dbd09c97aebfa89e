"""The agent's HTTP API: /health reflects outputs, /metrics is Prometheus text."""

import asyncio

from logferry.agent.api import ApiServer
from logferry.agent.component import Health
from logferry.agent.telemetry import ComponentMetrics


async def get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


class TestApiServer:
    async def test_health_turns_503_when_an_output_is_unhealthy(self) -> None:
        """/health answers 200 while outputs are healthy and 503 naming the failing output otherwise."""
        health = Health()
        api = ApiServer("127.0.0.1:0", lambda: {"es": health})
        await api.start()
        try:
            assert (await get(api.port, "/health"))[0] == 200
            health.fail("connection refused")
            status, body = await get(api.port, "/health")
            assert status == 503
            assert '"es": "connection refused"' in body
        finally:
            await api.close()

    async def test_metrics_exposes_component_counters(self) -> None:
        """/metrics includes per-component counters in Prometheus text format."""
        ComponentMetrics("api_test_src", "source", "file").received(3, 30)
        api = ApiServer("127.0.0.1:0", dict)
        await api.start()
        try:
            status, body = await get(api.port, "/metrics")
            assert status == 200
            assert ('logferry_component_received_events_total{component_id="api_test_src",'
                    'component_kind="source",component_type="file"} 3.0') in body
        finally:
            await api.close()

    async def test_unknown_path_and_method(self) -> None:
        """Other paths are 404 and other methods 405."""
        api = ApiServer("127.0.0.1:0", dict)
        await api.start()
        try:
            assert (await get(api.port, "/nope"))[0] == 404
            assert (await get(api.port, "/health", "POST"))[0] == 405
        finally:
            await api.close()
