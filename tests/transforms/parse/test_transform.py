"""Tests for the parse transform: config validation and per-event behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from logferry.agent.component import BuildContext
from logferry.agent.event import Batch, Event
from logferry.agent.telemetry import ComponentMetrics
from logferry.transforms.parse.transform import ParseConfig, ParseTransform

READ_TIME = "2026-11-24T00:00:00.000Z"


def config(**fields: Any) -> ParseConfig:
    return msgspec.convert({"type": "parse", "inputs": ["src"], **fields}, ParseConfig)


def run(cfg: ParseConfig, lines: list[str], common: Event | None = None) -> list[Event]:
    batch = ParseTransform(cfg).process(Batch.from_lines(lines, {"@timestamp": READ_TIME} if common is None else common))
    assert batch is not None
    return batch.events


class TestParseConfig:
    def test_defaults(self) -> None:
        """With no options the transform parses `message` with `auto`, in UTC, into top-level fields."""
        cfg = config()
        assert (cfg.formats, cfg.field, cfg.target, cfg.timestamp.timezone) == (["auto"], "message", None, "UTC")

    def test_format_objects_decode(self) -> None:
        """Format objects are told apart by their `format` key and keep their options."""
        cfg = config(formats=[{"format": "regex", "pattern": "(?P<a>x)", "timeout_ms": 5},
                              {"format": "key_value", "field_split": "&"}, "json"])
        assert [type(f).__name__ for f in cfg.formats] == ["RegexSpec", "KeyValueSpec", "str"]

    @pytest.mark.parametrize(("fields", "message"), [
        ({"formats": ["nope"]}, "unknown format 'nope'"),
        ({"formats": [{"format": "regex", "pattern": "(?P<a>"}]}, "does not compile"),
        ({"formats": [{"format": "grok", "pattern": "%{NOPE:x}"}]}, r"unknown pattern %\{NOPE\}"),
        ({"formats": ["grok"]}, "needs a pattern"),
        ({"timestamp": {"timezone": "Mars/Base"}}, "unknown timezone"),
        ({"timestamp": {"field": "t", "formats": ["bogus"]}}, "unknown timestamp format"),
        ({"types": {"x": "date"}}, "Invalid enum value 'date'"),
        ({"formats": [{"format": "regex", "pattern": "(?P<a>x)", "extra": 1}]}, "unknown field"),
    ])
    def test_invalid_config_is_refused(self, fields: dict[str, Any], message: str) -> None:
        """Bad names, patterns, zones and unknown keys fail at load with a message naming the problem."""
        with pytest.raises(msgspec.ValidationError, match=message):
            config(**fields)

    def test_build(self, tmp_path: Path) -> None:
        """`build` returns a working transform."""
        ctx = BuildContext("p", tmp_path, "host", ComponentMetrics("p", "transform", "parse"))
        assert isinstance(config().build(ctx), ParseTransform)


class TestParseTransform:
    def test_fields_replace_message(self) -> None:
        """Parsed fields are added as flat ECS keys and the leftover text replaces `message`."""
        [ev] = run(config(formats=["python_logging"]), ["2026-11-20 10:00:00,123 INFO [a.b] hello"])
        assert ev == {"@timestamp": "2026-11-20T10:00:00.123Z", "message": "hello", "log.level": "info",
                      "log.logger": "a.b"}

    def test_first_matching_format_wins(self) -> None:
        """Formats are tried in order; the first that matches decides the fields."""
        cfg = config(formats=["json", {"format": "regex", "pattern": "(?P<word>\\w+)"}, "logfmt"])
        a, b = run(cfg, ['{"a":1}', "k=v"])
        assert a["a"] == 1 and b["word"] == "k" and "k" not in b

    def test_unmatched_line_is_kept_and_tagged(self) -> None:
        """A line no format matches keeps its message and read time and is tagged `_parse_failure`."""
        [ev] = run(config(formats=["json"]), ["not json"], {"@timestamp": READ_TIME, "tags": ["t"]})
        assert ev == {"@timestamp": READ_TIME, "message": "not json", "tags": ["t", "_parse_failure"]}

    def test_non_text_field_is_a_failure(self) -> None:
        """An event whose source field is missing or not text is tagged, not dropped."""
        batch = Batch.from_events([{"other": 1}, {"message": 5}])
        out = ParseTransform(config(formats=["json"])).process(batch)
        assert out is not None and [e["tags"] for e in out.events] == [["_parse_failure"]] * 2

    def test_missing_time_keeps_read_time_and_tags(self) -> None:
        """A parsed line without a time keeps the read time; with none at all it gets now; both are tagged."""
        line = 'INFO:     127.0.0.1:1 - "GET / HTTP/1.1" 200 OK'
        [ev] = run(config(formats=["uvicorn"]), [line])
        assert ev["@timestamp"] == READ_TIME and ev["tags"] == ["_timestamp_missing"]
        assert ev["message"] == line  # an access line has no free text: the line stays
        [ev] = run(config(formats=["uvicorn"]), [line], {})
        assert ev["@timestamp"].endswith("Z") and ev["@timestamp"] != READ_TIME

    def test_timestamp_field_and_timezone(self) -> None:
        """`timestamp.field` is read with the given formats in the given zone and then removed."""
        cfg = config(formats=["logfmt"], timestamp={"field": "when", "formats": ["%d.%m.%Y %H:%M"],
                                                    "timezone": "Europe/Berlin"})
        [ev] = run(cfg, ['when="20.11.2026 11:00" msg=x'])
        assert ev["@timestamp"] == "2026-11-20T10:00:00Z" and "when" not in ev

    def test_unreadable_timestamp_field_is_tagged(self) -> None:
        """A `timestamp.field` that cannot be read leaves the read time and the field, tagged."""
        cfg = config(formats=["logfmt"], timestamp={"field": "when", "formats": ["epoch_s"]})
        [ev] = run(cfg, ["when=never msg=x"])
        assert ev["@timestamp"] == READ_TIME and ev["when"] == "never" and ev["tags"] == ["_timestamp_missing"]

    def test_timezone_applies_to_builtin_formats(self) -> None:
        """The configured zone is also how built-in formats read naive times."""
        cfg = config(formats=["python_logging"], timestamp={"timezone": "+02:00"})
        [ev] = run(cfg, ["2026-11-20 10:00:00,123 INFO [a] x"])
        assert ev["@timestamp"] == "2026-11-20T08:00:00.123Z"

    def test_types_target_and_original(self) -> None:
        """`types` converts fields, `target` prefixes non-ECS keys, `keep_original` copies the line."""
        cfg = config(formats=["logfmt"], target="app", types={"app.n": "int", "app.ok": "bool", "app.x": "float"},
                     keep_original=True)
        [ev] = run(cfg, ["n=3 ok=true x=1.5 y=z level=warn"])
        assert ev == {"@timestamp": READ_TIME, "message": "n=3 ok=true x=1.5 y=z level=warn",
                      "event.original": "n=3 ok=true x=1.5 y=z level=warn", "app.n": 3, "app.ok": True,
                      "app.x": 1.5, "app.y": "z", "log.level": "warn", "tags": ["_timestamp_missing"]}

    def test_other_source_field(self) -> None:
        """`field` selects which field holds the text."""
        batch = Batch.from_events([{"message": "keep", "raw": '{"level":"error"}'}])
        out = ParseTransform(config(formats=["json"], field="raw")).process(batch)
        assert out is not None and out.events[0]["log.level"] == "error" and out.events[0]["message"] == "keep"

    def test_ml_preset_usable_by_name(self) -> None:
        """Every ML preset registered in ml.ML_FORMATS is accepted as a format name."""
        from logferry.transforms.parse.ml import ML_FORMATS
        for name in ML_FORMATS:
            assert isinstance(config(formats=[name]).build, object)
            ParseTransform(config(formats=[name])).process(Batch.from_lines(["x"], {}))
