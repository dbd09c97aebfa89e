"""Registers the test-only component types (and only them) for every test in this folder."""

from __future__ import annotations

import pytest

from logferry.agent import registry

_MODULE = "tests.agent.config.components"
DEMO_TYPES = {
    "sources": {"demo": f"{_MODULE}:DemoSourceConfig", "tail": f"{_MODULE}:DemoSourceConfig",
                "ghost": "tests.agent.config.no_such_module:GhostConfig"},
    "transforms": {"demo": f"{_MODULE}:DemoTransformConfig", "route": f"{_MODULE}:DemoRouteConfig"},
    "outputs": {"demo": f"{_MODULE}:DemoOutputConfig", "broken": f"{_MODULE}:BrokenOutputConfig"},
}


@pytest.fixture(autouse=True)
def demo_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the registry tables' contents with the demo types (restored after each test)."""
    for table, types in ((registry.SOURCES, DEMO_TYPES["sources"]), (registry.TRANSFORMS, DEMO_TYPES["transforms"]),
                         (registry.OUTPUTS, DEMO_TYPES["outputs"])):
        for name in list(table):
            monkeypatch.delitem(table, name)
        for name, ref in types.items():
            monkeypatch.setitem(table, name, ref)
