"""Batches: lazy materialisation, ids, tags and copies."""

import pytest

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


    def test_line_tags_leave_the_common_tags_alone(self) -> None:
        """A line's tags follow the common tags in its event; the common list and the other events keep theirs."""
        common = {"tags": ["src"]}
        b = Batch.from_lines(["a", "b"], common, None, {1: [TAG_TRUNCATED]})
        assert [e["tags"] for e in b.events] == [["src"], ["src", TAG_TRUNCATED]]
        assert common == {"tags": ["src"]}


class TestUnmatchedTags:
    """Tags owed to the lines a step laid no fields over, added only when read (a failed parse's tag)."""

    @staticmethod
    def laid() -> Batch:
        b = Batch.from_lines(["a", "b", "c"], {"tags": ["src"]}, None, {2: [TAG_TRUNCATED]})
        b.set_line_fields([{"message": "A", "k": 1}, None, None], {0: ["t0"]}, unmatched_tags=["_nope"])
        return b

    def test_every_reader_sees_them(self) -> None:
        """Events, the line tags and a projection with tags all carry the owed tags on the unmatched lines only."""
        expected = [["src", "t0"], ["src", "_nope"], ["src", TAG_TRUNCATED, "_nope"]]
        assert self.laid().line_tags == {0: ["t0"], 1: ["_nope"], 2: [TAG_TRUNCATED, "_nope"]}
        assert [p["tags"] for p in self.laid().project(["message", "tags"])] == expected
        assert [e["tags"] for e in self.laid().events] == expected
        assert [e["tags"] for e in self.laid().copy().events] == expected

    def test_a_projection_without_tags_leaves_them_owed(self) -> None:
        """Projecting other fields neither builds the events nor adds a tag."""
        b = self.laid()
        assert b.project(["message", "k"]) == [{"message": "A", "k": 1}, {"message": "b"}, {"message": "c"}]
        assert not b.materialized
        assert [e.get("tags") for e in b.events][1] == ["src", "_nope"]

    def test_a_copy_settles_them_on_its_own(self) -> None:
        """Tags owed by a copy and settled there (then laid over) do not reach the original's line tags."""
        b = self.laid()
        c = b.copy()
        c.set_line_fields([None, None, {"k": 3}], unmatched_tags=["_copy"])
        assert c.line_tags == {0: ["t0", "_copy"], 1: ["_nope", "_copy"], 2: [TAG_TRUNCATED, "_nope"]}
        assert b.line_tags == {0: ["t0"], 1: ["_nope"], 2: [TAG_TRUNCATED, "_nope"]}
        assert [e.get("k") for e in b.events] == [1, None, None]

    def test_they_follow_the_fields_laid_with_them_not_later_ones(self) -> None:
        """A later step that lays fields over an unmatched line does not take the earlier step's tag away."""
        b = self.laid()
        b.set_line_fields([None, {"k": 2}, None], unmatched_tags=["_second"])
        assert b.line_tags == {0: ["t0", "_second"], 1: ["_nope"], 2: [TAG_TRUNCATED, "_nope", "_second"]}
        assert [e.get("k") for e in b.events] == [1, 2, None]


class TestAddTags:
    def test_adds_without_duplicates(self) -> None:
        """add_tags keeps order and skips tags already present."""
        e = {"tags": ["a"]}
        add_tags(e, ["a", "b", "b"])
        assert e["tags"] == ["a", "b"]

    def test_starts_a_list_from_a_missing_or_single_tag(self) -> None:
        """An event without tags, or with one tag as a plain string, ends up with a list."""
        bare: dict[str, object] = {}
        single: dict[str, object] = {"tags": "a"}
        add_tags(bare, ["b"])
        add_tags(single, ["b"])
        assert (bare["tags"], single["tags"]) == (["b"], ["a", "b"])

    def test_never_changes_a_shared_list(self) -> None:
        """Tagging one event of a columnar batch leaves its sibling and the batch's common tags unchanged."""
        common = {"tags": ["src"]}
        events = Batch.from_lines(["a", "b"], common, None).events
        add_tags(events[0], ["x"])
        assert [e["tags"] for e in events] == [["src", "x"], ["src"]]
        assert common["tags"] == ["src"]


class TestLineOrigin:
    def test_offsets_from_lengths_are_summed_on_demand(self) -> None:
        """Offsets given as line byte lengths and a first offset equal the explicit start offsets."""
        origin = LineOrigin("p-", lengths=[3, 0, 5], base=10)
        assert origin.offsets == [10, 14, 15]
        batch = Batch.from_lines(["abc", "", "déf"], {}, LineOrigin("p-", lengths=[3, 0, 4], base=0))
        assert [(e["log.offset"], e["event.id"]) for e in batch.events] == [(0, "p-0"), (4, "p-4"), (5, "p-5")]

    def test_with_prefix_keeps_the_offsets(self) -> None:
        """An origin moved to another id prefix has the same offsets, whether or not they were summed yet."""
        unsummed = LineOrigin("", lengths=[3, 0, 5], base=10).with_prefix("p-")
        summed = LineOrigin("", [10, 14, 15])
        moved = summed.with_prefix("q-")
        assert (unsummed.id_prefix, unsummed.offsets) == ("p-", [10, 14, 15])
        assert (moved.id_prefix, moved.offsets, summed.id_prefix) == ("q-", [10, 14, 15], "")

    @pytest.mark.parametrize("summed", [False, True])
    @pytest.mark.parametrize("size", [1, 2, 3, 7])
    def test_runs_split_the_offsets_without_summing_them(self, summed: bool, size: int) -> None:
        """Each run carries exactly its lines' offsets and where it ends (the next line's start, or the given end)."""
        lengths = [3, 0, 5, 1, 0, 2, 4]
        whole = LineOrigin("p-", lengths=lengths, base=10)
        expected = whole.offsets
        origin = LineOrigin("p-", list(expected)) if summed else LineOrigin("p-", lengths=lengths, base=10)
        runs = list(origin.runs(size, 99))
        assert [(first, last) for first, last, _, _ in runs] == [
            (i, min(len(lengths), i + size)) for i in range(0, len(lengths), size)]
        if not summed:  # splitting summed nothing: every run still holds lengths, not offsets
            assert origin._offsets is None and all(part._offsets is None for _, _, part, _ in runs)
        for first, last, part, run_end in runs:
            assert part.id_prefix == "p-"
            assert part.offsets == expected[first:last]
            assert run_end == (expected[last] if last < len(lengths) else 99)
