"""Tests for the parse transform: config validation and per-event behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from logferry.agent.component import BuildContext
from logferry.agent.event import Batch, Event, LineOrigin
from logferry.agent.telemetry import ComponentMetrics
from logferry.transforms.parse.transform import ParseConfig, ParseTransform

READ_TIME = "2026-11-24T00:00:00.000Z"
# What a source sets: the read time, as both the event's time and its ingest time.
READ = {"@timestamp": READ_TIME, "event.ingested": READ_TIME}


def config(**fields: Any) -> ParseConfig:
    return msgspec.convert({"type": "parse", "inputs": ["src"], **fields}, ParseConfig)


def run(cfg: ParseConfig, lines: list[str], common: Event | None = None) -> list[Event]:
    batch = ParseTransform(cfg).process(Batch.from_lines(lines, READ if common is None else common))
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
        assert ev == {"@timestamp": "2026-11-20T10:00:00.123Z", "event.ingested": READ_TIME, "message": "hello",
                      "log.level": "info", "log.logger": "a.b"}

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
        assert ev == {**READ, "message": "n=3 ok=true x=1.5 y=z level=warn",
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


OOM_LINE = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
UVICORN_LINE = 'INFO:     127.0.0.1:1 - "GET / HTTP/1.1" 200 OK'


class TestParseTags:
    def test_preset_tags_are_added_to_source_tags_in_columns(self) -> None:
        """A preset's tags (cuda_oom) are added to the source's line tags (`_multiline`), not put in their place."""
        batch = Batch.from_lines(["x", OOM_LINE], READ, None, {1: ["_multiline"]})
        out = ParseTransform(config(formats=["cuda_oom"])).process(batch)
        assert out is not None
        assert out.events[1]["tags"] == ["_multiline", "cuda_oom", "_timestamp_missing"]
        assert out.events[1]["ml.cuda.requested_bytes"] == 2 * 1024**3

    def test_preset_tags_are_added_to_event_tags(self) -> None:
        """On built events too, a preset's tags join the event's existing tags."""
        batch = Batch.from_events([{**READ, "message": OOM_LINE, "tags": ["_multiline"]}])
        out = ParseTransform(config(formats=["auto"])).process(batch)
        assert out is not None and out.events[0]["tags"] == ["_multiline", "cuda_oom", "_timestamp_missing"]

    def test_failure_tag_does_not_change_shared_tags(self) -> None:
        """Tagging one event never appends to a tag list other events of the batch share."""
        shared = ["t"]
        batch = Batch.from_events([{"message": "a", "tags": shared}, {"message": "b", "tags": shared}])
        ParseTransform(config(formats=["json"])).process(batch)
        assert shared == ["t"] and batch.events[1]["tags"] == ["t", "_parse_failure"]


class TestSecondParseStep:
    def steps(self, batch: Batch) -> Event:
        first = ParseTransform(config(formats=["python_logging"], timestamp={"timezone": "UTC"}))
        second = ParseTransform(config(formats=["uvicorn"], field="message"))
        out = second.process(first.process(batch) or batch)
        assert out is not None
        return out.events[0]

    def test_parsed_time_is_not_tagged_missing_in_columns(self) -> None:
        """A second step without a time keeps the first step's time and does not tag it missing."""
        line = "2026-11-20 10:00:00,123 INFO [uvicorn.access] " + UVICORN_LINE
        ev = self.steps(Batch.from_lines([line], READ))
        assert ev["@timestamp"] == "2026-11-20T10:00:00.123Z"
        assert ev["http.response.status_code"] == 200 and "tags" not in ev

    def test_parsed_time_is_not_tagged_missing_on_events(self) -> None:
        """The same holds for built events: the tag means the event has only its read time."""
        line = "2026-11-20 10:00:00,123 INFO [uvicorn.access] " + UVICORN_LINE
        ev = self.steps(Batch.from_events([{**READ, "message": line}]))
        assert ev["@timestamp"] == "2026-11-20T10:00:00.123Z" and "tags" not in ev

    def test_read_time_only_is_tagged(self) -> None:
        """An event whose time is still its read time (`event.ingested`) is tagged when no step finds one."""
        [ev] = run(config(formats=["uvicorn"]), [UVICORN_LINE])
        assert ev["@timestamp"] == READ_TIME and ev["tags"] == ["_timestamp_missing"]


class TestRename:
    def test_extracted_fields_get_the_wanted_names(self) -> None:
        """`rename` stores extracted fields under the given names; an unparsed line keeps its own fields."""
        cfg = config(formats=["python_logging"], rename={"@timestamp": "ts", "log.level": "level",
                                                         "log.logger": "logger"})
        a, b = run(cfg, ["2026-11-20 10:00:00,123 INFO [a.b] hello", "no match"])
        assert a == {**READ, "ts": "2026-11-20T10:00:00.123Z", "level": "info", "logger": "a.b", "message": "hello"}
        assert b == {**READ, "message": "no match", "tags": ["_parse_failure"]}

    def test_rename_applies_to_every_format(self) -> None:
        """Formats without a hot path (here json) are renamed too, on built events as well."""
        batch = Batch.from_events([{**READ, "message": '{"level": "warn", "x": 1}'}])
        out = ParseTransform(config(formats=["json"], rename={"log.level": "severity"})).process(batch)
        assert out is not None and out.events[0] == {**READ, "message": '{"level": "warn", "x": 1}', "severity": "warn",
                                                     "x": 1, "tags": ["_timestamp_missing"]}

    @pytest.mark.parametrize("rename", [{"a": "a"}, {"tags": "t"}, {"a": ""}])
    def test_invalid_rename_is_refused(self, rename: dict[str, str]) -> None:
        """Renaming a field to itself, to nothing, or touching `tags` fails at load."""
        with pytest.raises(msgspec.ValidationError, match="rename"):
            config(rename=rename)


class TestColumnarPath:
    LINES = ["2026-11-20 10:00:00,123 INFO [a.b] hello", "plain", '{"msg": "m", "level": "error"}']

    def test_columns_and_events_give_the_same_events(self) -> None:
        """Parsing a columnar batch gives exactly the events parsing its built events gives."""
        cfg = config(formats=["python_logging", "json"], keep_original=True, types={"n": "int"})
        common = {**READ, "host.name": "h"}
        columnar = ParseTransform(cfg).process(Batch.from_lines(self.LINES, common, LineOrigin("p-", [0, 40, 46])))
        built = Batch.from_lines(self.LINES, common, LineOrigin("p-", [0, 40, 46]))
        _ = built.events
        eager = ParseTransform(cfg).process(built)
        assert columnar is not None and eager is not None
        assert not columnar.materialized
        assert columnar.events == eager.events

    @pytest.mark.parametrize("rename", [{}, {"@timestamp": "ts", "log.level": "level"}])
    def test_batch_form_equals_line_form(self, rename: dict[str, str]) -> None:
        """python_logging's batch form gives the same events as parsing line by line, tags and times included."""
        lines = ["2026-11-20 10:00:00,123 INFO [a.b] first of its second", "2026-11-20 10:00:00,200 INFO [a.b] again",
                 "2026-13-20 10:00:00,123 INFO [a.b] month 13", "INFO:root:untimed", "INFO:     not python",
                 "2026-11-20 10:00:01 WARNING x.y: other layout", "lower case", "",
                 "2026-11-20 10:00:02,5 NOTICE [a.b] not a Python level", "INFO:\u00a0not a name", "WARN:x.y:short"]
        cfg = config(formats=["python_logging"], rename=rename)
        columnar = ParseTransform(cfg).process(Batch.from_lines(lines, READ))
        built = Batch.from_lines(lines, READ)
        _ = built.events
        eager = ParseTransform(cfg).process(built)
        assert columnar is not None and eager is not None
        assert columnar.events == eager.events
        tags = [e.get("tags") for e in eager.events]
        assert tags == [None, None, ["_timestamp_missing"], ["_timestamp_missing"], ["_parse_failure"], None,
                        ["_parse_failure"], ["_parse_failure"], ["_parse_failure"], ["_parse_failure"],
                        ["_timestamp_missing"]]

    def test_auto_batch_form_equals_line_form(self) -> None:
        """`auto` over a columnar batch gives the same events as over built events, for every kind of line."""
        lines = ["2026-11-20 10:00:00,123 INFO [a.b] hello", '{"ts": "2026-11-20T10:00:00Z", "level": "warn"}',
                 '10.0.0.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"', UVICORN_LINE,
                 "Epoch 3/10", "Traceback (most recent call last):", OOM_LINE, "[rank1]: boom", "plain words",
                 "INFO:root:untimed", "", "step=3 loss=0.5", "2026-11-20 10:00:00 - app - ERROR - cookbook"]
        cfg = config(formats=["auto"])
        columnar = ParseTransform(cfg).process(Batch.from_lines(lines, READ, None, {6: ["_multiline"]}))
        built = Batch.from_lines(lines, READ, None, {6: ["_multiline"]})
        _ = built.events
        eager = ParseTransform(cfg).process(built)
        assert columnar is not None and eager is not None
        assert columnar.events == eager.events
        assert [("_parse_failure" in e.get("tags", ())) for e in eager.events].count(True) == 2

    @pytest.mark.parametrize("common", [READ, {}])
    def test_project_of_batch_form_equals_events(self, common: Event) -> None:
        """Projecting python_logging's laid fields (the NDJSON hot path) equals projecting the built events."""
        lines = ["2026-11-20 10:00:00,123 INFO [a.b] hello", "INFO:root:untimed", "nope", "2026-11-20 10:00:00,2 "
                 "ERROR [c] x"]
        cfg = config(formats=["python_logging"], rename={"@timestamp": "ts", "log.level": "level",
                                                         "log.logger": "logger"})
        names = ["ts", "level", "logger", "message"]
        out = ParseTransform(cfg).process(Batch.from_lines(lines, common))
        again = ParseTransform(cfg).process(Batch.from_lines(lines, common))
        assert out is not None and again is not None
        assert out.project(names) == [{k: e[k] for k in names if k in e} for e in again.events]
        assert out.project(names)[2] == {"message": "nope"}

    def test_project_reads_columns(self) -> None:
        """`project` of a parsed columnar batch gives the wanted fields without building events."""
        cfg = config(formats=["python_logging"], rename={"log.level": "level"})
        out = ParseTransform(cfg).process(Batch.from_lines(self.LINES[:2], READ))
        assert out is not None
        assert out.project(["level", "message"]) == [{"level": "info", "message": "hello"}, {"message": "plain"}]
        assert not out.materialized
