"""Dotted field paths on flat, nested and mixed events."""

from __future__ import annotations

import pytest

from logferry.transforms.fields import MISSING, FieldPath, delete_field, get_field, set_field


class TestGetField:
    def test_flat_key_wins(self) -> None:
        """A flat dotted key is found before any nested walk."""
        assert get_field({"log.level": "INFO", "log": {"level": "x"}}, "log.level") == "INFO"

    def test_nested_walk(self) -> None:
        """A path is found inside nested dicts from JSON payloads."""
        assert get_field({"http": {"request": {"id": "r1"}}}, "http.request.id") == "r1"

    def test_mixed_flat_prefix_holding_a_dict(self) -> None:
        """A flat key holding a dict is walked into for the rest of the path."""
        assert get_field({"ml.metric": {"dimensions": {"Level": "Host"}}}, "ml.metric.dimensions.Level") == "Host"

    def test_missing_is_distinct_from_none(self) -> None:
        """An absent field gives MISSING; a present null gives None."""
        assert get_field({"a": None}, "a") is None
        assert get_field({"a": {"b": 1}}, "a.c") is MISSING
        assert get_field({"a": 1}, "a.b") is MISSING

    def test_bad_paths_are_rejected(self) -> None:
        """Empty segments in a path raise ValueError."""
        for bad in ("", ".a", "a.", "a..b"):
            with pytest.raises(ValueError, match="invalid field path"):
                FieldPath(bad)


class TestSetField:
    def test_new_field_is_flat(self) -> None:
        """A field that exists nowhere is written as a flat dotted key."""
        e: dict[str, object] = {}
        set_field(e, "service.name", "api")
        assert e == {"service.name": "api"}

    def test_existing_nested_field_is_updated_in_place(self) -> None:
        """A field that lives in a nested dict is replaced there, not duplicated flat."""
        e = {"http": {"request": {"id": "old"}}}
        set_field(e, "http.request.id", "new")
        assert e == {"http": {"request": {"id": "new"}}}


class TestDeleteField:
    def test_deletes_flat_and_nested_copies(self) -> None:
        """Both the flat key and the nested value go; the value removed is returned."""
        e = {"user.name": "a", "user": {"name": "b", "id": 1}}
        assert delete_field(e, "user.name") == "a"
        assert e == {"user": {"id": 1}}

    def test_absent_field(self) -> None:
        """Deleting an absent field changes nothing and returns MISSING."""
        e = {"a": 1}
        assert delete_field(e, "b.c") is MISSING and e == {"a": 1}
