"""Tests of decoding plain data into config Structs with every issue reported."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from logferry.agent.config.common import Strict
from logferry.agent.config.decode import INVALID, Issue, decode, unknown_key, unusable_type
from tests.agent.config.components import BatchCfg, DemoOutputConfig


class Rule(Strict):
    name: str
    level: Literal["low", "high"] = "low"


class Rules(Strict):
    rules: Annotated[list[Rule], Meta(min_length=1)]
    limits: dict[str, Annotated[int, Meta(ge=0)]] = {}
    nested: BatchCfg | None = None


class TestDecode:
    def test_valid_value_converts_in_one_go(self) -> None:
        """A valid value comes back converted, with no issues."""
        assert decode(BatchCfg, {"max_bytes": 10}, "b") == (BatchCfg(max_bytes=10), [])

    def test_items_of_a_list_of_structs_are_checked_one_by_one(self) -> None:
        """Each bad item of a list of Structs is reported with its index, all in one pass."""
        value, issues = decode(Rules, {"rules": [{"name": "a", "level": "mid"}, {"nme": "b"}]}, "t.x")
        assert value is INVALID
        assert issues == [
            Issue("t.x.rules[0].level", 'expected one of "low", "high", got "mid"'),
            Issue("t.x.rules[1].nme", 'unknown key (did you mean "name"?)', at_key=True),
            Issue("t.x.rules[1]", 'missing required field "name"', at_key=True),
        ]

    def test_dict_values_are_checked_by_key(self) -> None:
        """A bad value in a dict is reported under its key."""
        assert decode(Rules, {"rules": [{"name": "a"}], "limits": {"ok": 1, "neg": -1}}, "r")[1] == [
            Issue("r.limits.neg", "expected int >= 0")]

    def test_optional_struct_is_checked_field_by_field(self) -> None:
        """A Struct behind `| None` is still taken apart field by field."""
        issues = decode(Rules, {"rules": [{"name": "a"}], "nested": {"max_bytes": 0, "timeout_secs": "x"}}, "r")[1]
        assert issues == [Issue("r.nested.max_bytes", "expected int >= 1"),
                          Issue("r.nested.timeout_secs", "expected float, got str")]

    def test_container_constraint_is_reported_when_items_are_fine(self) -> None:
        """A list that breaks its own constraint (too short) is reported at the list."""
        assert decode(Rules, {"rules": []}, "r")[1] == [Issue("r.rules", "expected array of length >= 1")]

    def test_post_init_error_points_at_the_struct_key(self) -> None:
        """A `__post_init__` ValueError becomes an issue at the Struct's key, message kept."""
        issues = decode(DemoOutputConfig, {"type": "demo", "inputs": ["a"], "endpoint": "x"}, "outputs.o")[1]
        assert issues == [Issue("outputs.o", "endpoint must start with http:// or https://", at_key=True)]

    def test_wrong_shape_for_a_struct(self) -> None:
        """A scalar where a Struct is expected is one issue at the value."""
        assert decode(BatchCfg, 5, "b")[1] == [Issue("b", "expected object, got int")]


class TestUnusableType:
    def test_constraint_on_optional_is_refused(self) -> None:
        """A constraint on `int | None` is msgspec's error, returned as text."""
        assert unusable_type(Annotated[int | None, Meta(gt=0)]) is not None

    def test_good_type_is_usable(self) -> None:
        """A well-formed config class gives None."""
        assert unusable_type(BatchCfg) is None


class TestUnknownKey:
    def test_hint_for_a_close_key(self) -> None:
        """A near miss names the key that was probably meant."""
        assert unknown_key("max_byte", ["max_bytes", "timeout_secs"]) == 'unknown key (did you mean "max_bytes"?)'

    def test_no_hint_for_a_far_key(self) -> None:
        """A key like no known one gets no hint."""
        assert unknown_key("colour", ["max_bytes"]) == "unknown key"
