"""Dotted field paths on flat, nested and mixed events."""

from __future__ import annotations

import pytest

from logferry.transforms.fields import MISSING, FieldPath, group_key


class TestGetField:
    def test_flat_key_wins(self) -> None:
        """A flat dotted key is found before any nested walk."""
        assert FieldPath("log.level").get({"log.level": "INFO", "log": {"level": "x"}}) == "INFO"

    def test_nested_walk(self) -> None:
        """A path is found inside nested dicts from JSON payloads."""
        assert FieldPath("http.request.id").get({"http": {"request": {"id": "r1"}}}) == "r1"

    def test_mixed_flat_prefix_holding_a_dict(self) -> None:
        """A flat key holding a dict is walked into for the rest of the path."""
        assert FieldPath("ml.metric.dimensions.Level").get({"ml.metric": {"dimensions": {"Level": "Host"}}}) == "Host"

    def test_missing_is_distinct_from_none(self) -> None:
        """An absent field gives MISSING; a present null gives None."""
        assert FieldPath("a").get({"a": None}) is None
        assert FieldPath("a.c").get({"a": {"b": 1}}) is MISSING
        assert FieldPath("a.b").get({"a": 1}) is MISSING

    def test_deep_path_through_mixed_prefixes(self) -> None:
        """A 40-part path is found through any mix of flat prefixes and nesting (shared lookup plans)."""
        parts = [f"p{i}" for i in range(40)]
        event = {".".join(parts[:7]): {parts[7]: {".".join(parts[8:39]): {parts[39]: "deep"}}}}
        assert FieldPath(".".join(parts)).get(event) == "deep"
        assert FieldPath(".".join(parts[:39] + ["other"])).get(event) is MISSING

    def test_bad_paths_are_rejected(self) -> None:
        """Empty segments in a path raise ValueError."""
        for bad in ("", ".a", "a.", "a..b"):
            with pytest.raises(ValueError, match="invalid field path"):
                FieldPath(bad)


class TestSetField:
    def test_new_field_is_flat(self) -> None:
        """A field that exists nowhere is written as a flat dotted key."""
        e: dict[str, object] = {}
        FieldPath("service.name").set(e, "api")
        assert e == {"service.name": "api"}

    def test_existing_nested_field_is_updated_in_place(self) -> None:
        """A field that lives in a nested dict is replaced there, not duplicated flat."""
        e = {"http": {"request": {"id": "old"}}}
        FieldPath("http.request.id").set(e, "new")
        assert e == {"http": {"request": {"id": "new"}}}


class TestDeleteField:
    def test_deletes_flat_and_nested_copies(self) -> None:
        """Both the flat key and the nested value go; the value removed is returned."""
        e = {"user.name": "a", "user": {"name": "b", "id": 1}}
        assert FieldPath("user.name").delete(e) == "a"
        assert e == {"user": {"id": 1}}

    def test_absent_field(self) -> None:
        """Deleting an absent field changes nothing and returns MISSING."""
        e = {"a": 1}
        assert FieldPath("b.c").delete(e) is MISSING and e == {"a": 1}


class TestGroupKey:
    def test_values_become_hashable_groups(self) -> None:
        """Absent is None; str, int and float stay as they are; anything else is grouped by its str()."""
        assert group_key(MISSING) is None
        assert group_key(None) == "None"
        assert group_key("a") == "a" and group_key(3) == 3 and group_key(2.5) == 2.5
        assert group_key({"b": 1}) == "{'b': 1}" and group_key([1, 2]) == "[1, 2]"
