"""Tests for the self-describing formats: json, logfmt and key_value."""

from __future__ import annotations

from logferry.transforms.parse.common import FormatContext
from logferry.transforms.parse.structured import json_format, key_value, logfmt
from logferry.transforms.parse.timestamps import Clock


class TestJson:
    def test_well_known_keys_and_nesting(self, ctx: FormatContext) -> None:
        """ts/level/msg/logger map to ECS, nested objects stay nested, other keys stay as named."""
        line = '{"ts":"2026-11-20T10:00:00.014Z","level":"WARN","logger":"feedback","msg":"hi","gpu":{"id":3}}'
        assert json_format(ctx)(line) == {"@timestamp": "2026-11-20T10:00:00.014Z", "log.level": "warn",
                                          "log.logger": "feedback", "message": "hi", "gpu": {"id": 3}}

    def test_target_prefix_and_absolute_names(self) -> None:
        """With a target, plain keys go under it while dotted ECS names stay absolute."""
        ctx = FormatContext(Clock(), target="app")
        assert json_format(ctx)('{"model":"m","process.pid":7}') == {"app.model": "m", "process.pid": 7}

    def test_unreadable_time_stays_a_field(self, ctx: FormatContext) -> None:
        """A time key whose value is not a time is kept as an ordinary field."""
        assert json_format(ctx)('{"time":"soon"}') == {"time": "soon"}

    def test_not_an_object(self, ctx: FormatContext) -> None:
        """Arrays, broken JSON and text are no match."""
        p = json_format(ctx)
        assert p("[1,2]") is None and p('{"a":') is None and p("plain") is None


class TestLogfmt:
    def test_pairs_quotes_and_bare_keys(self, ctx: FormatContext) -> None:
        """Quoted values are unescaped; a bare key means true; level and msg map to ECS."""
        assert logfmt(ctx)('level=info msg="say \\"hi\\"" path=/x cached') == {
            "log.level": "info", "message": 'say "hi"', "path": "/x", "cached": True}

    def test_strict_variant_refuses_prose(self, ctx: FormatContext) -> None:
        """Without bare keys, prose containing one pair is not logfmt."""
        assert logfmt(ctx, allow_bare_keys=False)("hello world x=1") is None
        assert logfmt(ctx)("no pairs here") is None

    def test_pathological_line_fails_fast(self, ctx: FormatContext) -> None:
        """A long token ending in a stray quote fails without exponential backtracking."""
        assert logfmt(ctx)("a" * 20000 + '"') is None


class TestKeyValue:
    def test_default_separators_and_leftover_text(self, ctx: FormatContext) -> None:
        """Pairs anywhere in the line are extracted; the text between them becomes the message."""
        assert key_value(ctx)("GET done user=alice status='ok go' n=3") == {
            "user": "alice", "status": "ok go", "n": "3", "message": "GET done"}

    def test_custom_separators(self, ctx: FormatContext) -> None:
        """Custom field and value separators (`&` and `:`) are honoured."""
        assert key_value(ctx, field_split="&", value_split=":")("a:1&b:two words&c:") == {
            "a": "1", "b": "two words", "c": ""}

    def test_no_pair_is_no_match(self, ctx: FormatContext) -> None:
        """A line without any pair is not a match."""
        assert key_value(ctx)("nothing to see") is None
