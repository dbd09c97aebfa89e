"""Tests for the user `regex` format."""

from __future__ import annotations

import pytest

from logferry.transforms.parse.common import FormatContext
from logferry.transforms.parse.custom_regex import regex_format


class TestRegexFormat:
    def test_named_groups_and_double_underscore(self, ctx: FormatContext) -> None:
        """Named groups become fields, `__` becomes `.`, and level/timestamp groups map to ECS."""
        p = regex_format(ctx, r"^(?P<timestamp>\S+) (?P<level>\w+) pid=(?P<process__pid>\d+) (?P<message>.*)$")
        assert p("2026-11-20T10:00:00Z E pid=42 disk full") == {
            "@timestamp": "2026-11-20T10:00:00Z", "log.level": "error", "process.pid": "42",
            "message": "disk full"}

    def test_unmatched_optional_group_is_absent(self, ctx: FormatContext) -> None:
        """An optional group that did not take part in the match adds no field."""
        assert regex_format(ctx, r"(?P<a>x)(?P<b>y)?")("x") == {"a": "x"}

    def test_timeout_counts_as_no_match(self, ctx: FormatContext) -> None:
        """A catastrophic pattern is cut off by the per-match timeout: the line counts as not matched.

        Without the timeout the first branch would try ~1.6**40 splits before the second one matched.
        """
        pattern = r"^(?:(?P<a>(x|xx)+)y|(?P<b>x+))$"
        assert regex_format(ctx, pattern, timeout_ms=20)("x" * 40) is None
        assert regex_format(ctx, pattern)("xxx") == {"b": "xxx"}

    def test_invalid_patterns(self, ctx: FormatContext) -> None:
        """A pattern that does not compile, or has no named group, is refused."""
        with pytest.raises(ValueError, match="does not compile"):
            regex_format(ctx, "(?P<a>")
        with pytest.raises(ValueError, match="no named group"):
            regex_format(ctx, "(a)")
