"""Columnar batches with laid-over fields (``Batch.set_line_fields`` / ``Batch.project``), which parse relies on."""

from __future__ import annotations

import pytest

from logferry.agent.event import Batch, Event, LineOrigin

COMMON: Event = {"@timestamp": "t0", "host.name": "h", "tags": ["src"]}


def laid() -> Batch:
    b = Batch.from_lines(["a", "b", "c"], COMMON, LineOrigin("p-", [0, 2, 4]), {2: ["_multiline"]})
    b.set_line_fields([{"message": "A", "level": "info"}, None, {"x": 1, "tags": ["found"]}], {1: ["_parse_failure"]})
    return b


def projection_of_events(b: Batch, names: list[str]) -> list[Event]:
    return [{k: e[k] for k in names if k in e} for e in b.events]


class TestSetLineFields:
    def test_fields_are_laid_over_the_lines(self) -> None:
        """Laid fields replace or add to a line's event; tags from the source, the step and the fields all count."""
        b = laid()
        assert not b.materialized
        assert b.messages() == ["A", "b", "c"]
        assert b.events == [
            {"@timestamp": "t0", "host.name": "h", "tags": ["src"], "message": "A", "log.offset": 0,
             "event.id": "p-0", "level": "info"},
            {"@timestamp": "t0", "host.name": "h", "tags": ["src", "_parse_failure"], "message": "b",
             "log.offset": 2, "event.id": "p-2"},
            {"@timestamp": "t0", "host.name": "h", "tags": ["src", "_multiline", "found"], "message": "c",
             "log.offset": 4, "event.id": "p-4", "x": 1},
        ]

    def test_second_step_keeps_earlier_fields(self) -> None:
        """Fields laid by a later step are added to the earlier ones; a field named again is replaced."""
        b = laid()
        b.set_line_fields([{"level": "warn"}, {"y": 2}, None], {2: ["found", "more"]})
        e0, e1, e2 = b.events
        assert (e0["message"], e0["level"], e1["y"]) == ("A", "warn", 2)
        assert e2["tags"] == ["src", "_multiline", "found", "more"]

    def test_shared_common_tags_are_not_changed(self) -> None:
        """Building events never appends to the common fields' tag list."""
        _ = laid().events
        assert COMMON["tags"] == ["src"]

    def test_copy_keeps_the_laid_fields(self) -> None:
        """A copy of a laid batch builds the same events, independently."""
        b = laid()
        c = b.copy()
        c.events[0]["message"] = "changed"
        assert b.events[0]["message"] == "A" and c.events[1] == b.events[1]


class TestProject:
    @pytest.mark.parametrize("names", [
        ["message", "level", "x"],
        ["@timestamp", "message", "log.offset", "event.id"],
        ["tags", "message"],
        ["host.name"],
        ["nothing"],
    ])
    def test_project_equals_projecting_the_events(self, names: list[str]) -> None:
        """Projecting a laid batch gives the same dicts as projecting its built events, without building them."""
        b = laid()
        got = b.project(names)
        assert not b.materialized or "tags" in names  # line tags asked for: the events are built
        assert got == projection_of_events(laid(), names)

    def test_project_of_plain_lines(self) -> None:
        """A batch of lines only projects to its message and the common fields asked for."""
        b = Batch.from_lines(["a", "b"], {"host.name": "h"})
        assert b.project(["message", "host.name"]) == [{"host.name": "h", "message": "a"},
                                                         {"host.name": "h", "message": "b"}]
        assert not b.materialized

    def test_project_of_events(self) -> None:
        """A batch of built events projects each event."""
        b = Batch.from_events([{"message": "m", "k": 1}, {"k": 2}])
        assert b.project(["k", "message"]) == [{"k": 1, "message": "m"}, {"k": 2}]

    def test_project_merges_laid_tags_with_common_tags(self) -> None:
        """Tags laid with the fields are added to the common tags in a projection, as in the events."""
        def make() -> Batch:
            b = Batch.from_lines(["a", "b"], COMMON)
            b.set_line_fields([{"tags": ["found"]}, None])
            return b
        assert make().project(["tags", "message"]) == projection_of_events(make(), ["tags", "message"])
        assert make().project(["tags"])[0]["tags"] == ["src", "found"]
