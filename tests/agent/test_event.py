"""Batches: lazy materialisation, ids, tags and copies."""

from logferry.agent.event import TAG_TRUNCATED, Batch, LineOrigin, add_tags


class TestBatch:
    def test_lines_become_ecs_events_with_stable_ids(self) -> None:
        """Each line gets message, log.offset and an event.id built from the origin prefix and offset."""
        b = Batch.from_lines(["a", "bb"], {"host.name": "h"}, LineOrigin("f00-", [0, 2]))
        assert b.events == [
            {"host.name": "h", "message": "a", "log.offset": 0, "event.id": "f00-0"},
            {"host.name": "h", "message": "bb", "log.offset": 2, "event.id": "f00-2"},
        ]

    def test_messages_do_not_build_events(self) -> None:
        """Reading messages of a columnar batch leaves it columnar (the passthrough fast path)."""
        b = Batch.from_lines(["x"], {}, None)
        assert b.messages() == ["x"]
        assert not b.materialized

    def test_line_tags_are_applied(self) -> None:
        """Per-line tags from the source end up in that event's tags only."""
        b = Batch.from_lines(["a", "b"], {}, None, {1: [TAG_TRUNCATED]})
        assert "tags" not in b.events[0]
        assert b.events[1]["tags"] == [TAG_TRUNCATED]

    def test_common_fields_are_not_shared_between_events(self) -> None:
        """Changing one event never changes another event built from the same common fields."""
        b = Batch.from_lines(["a", "b"], {"k": 1}, None)
        b.events[0]["k"] = 2
        assert b.events[1]["k"] == 1

    def test_copy_is_independent(self) -> None:
        """A copy's events and tag lists can change without touching the original."""
        b = Batch.from_events([{"message": "m", "tags": ["t"]}])
        c = b.copy()
        c.events[0]["message"] = "changed"
        c.events[0]["tags"].append("u")
        assert b.events[0] == {"message": "m", "tags": ["t"]}


class TestAddTags:
    def test_adds_without_duplicates(self) -> None:
        """add_tags keeps order and skips tags already present."""
        e = {"tags": ["a"]}
        add_tags(e, ["a", "b"])
        assert e["tags"] == ["a", "b"]


class TestLineOrigin:
    def test_offsets_from_lengths_are_summed_on_demand(self) -> None:
        """Offsets given as line byte lengths and a first offset equal the explicit start offsets."""
        origin = LineOrigin("p-", lengths=[3, 0, 5], base=10)
        assert origin.offsets == [10, 14, 15]
        batch = Batch.from_lines(["abc", "", "déf"], {}, LineOrigin("p-", lengths=[3, 0, 4], base=0))
        assert [(e["log.offset"], e["event.id"]) for e in batch.events] == [(0, "p-0"), (4, "p-4"), (5, "p-5")]
