"""Fixtures: a fresh es_wire server per test (Elasticsearch 8 unless a test asks for 9)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.es_wire import EsWireServer


@pytest.fixture
def es() -> Iterator[EsWireServer]:
    server = EsWireServer("8.15.3").start()
    yield server
    server.stop()


@pytest.fixture(params=["8.15.3", "9.1.2"], ids=["es8", "es9"])
def es_any(request: pytest.FixtureRequest) -> Iterator[EsWireServer]:
    server = EsWireServer(request.param).start()
    yield server
    server.stop()
