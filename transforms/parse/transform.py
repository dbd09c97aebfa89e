"""The ``parse`` transform: structure each event's text with the first of a list of formats that matches.

```yaml
transforms:
  structure:
    type: parse
    inputs: [app]
    formats: [python_logging, {format: grok, pattern: "%{COMBINEDAPACHELOG}"}, auto]
    timestamp: {timezone: Europe/Paris}      # naive times are Paris time; output is UTC
    types: {latency_ms: float}
```

Parsed fields land as flat ECS keys; the free text left over replaces
``message``. A line no format matches keeps its ``message`` and gets the tag
``_parse_failure``: it is never dropped. A parsed line without a usable time
keeps the time the event already has; if that is only the read time (the
source's ``event.ingested``) or none (then now is used) it gets
``_timestamp_missing``. ``rename`` stores extracted fields under other names
(``{log.level: level}``).

A batch still in columns (lines from a file) stays in columns: the parsed
fields of each line are laid over it (``Batch.set_line_fields``) and the full
events are built only if something downstream asks for them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import Strict, TransformConfig
from logferry.agent.event import Batch, Event, add_tags
from logferry.agent.timeutil import iso_now
from logferry.transforms.parse.common import (
    MATCH,
    MATCH_WITHOUT_TIME,
    NO_MATCH,
    FormatContext,
    Into,
    Lay,
    Parser,
)
from logferry.transforms.parse.formats import FormatSpec, build_format
from logferry.transforms.parse.grok import convert_value
from logferry.transforms.parse.timestamps import Clock, TimestampParser, load_timezone

TAG_PARSE_FAILURE = "_parse_failure"
TAG_TIMESTAMP_MISSING = "_timestamp_missing"
DEFAULT_TIME_FORMATS = ("iso8601", "epoch")


class TimestampConfig(Strict):
    """Where ``@timestamp`` comes from and how naive times are read."""

    field: Annotated[str | None, Meta(
        description="Parsed field holding the time (as named after parsing); unset: the format's own time.")] = None
    formats: Annotated[list[str], Meta(min_length=1, description=(
        "Accepted layouts for `field`, tried in order: iso8601, epoch, epoch_s/_ms/_us/_ns, syslog, glog, "
        "or a strptime format."))] = msgspec.field(default_factory=lambda: list(DEFAULT_TIME_FORMATS))
    timezone: Annotated[str, Meta(description="Zone of naive times: IANA name, `UTC`, `local` or `+HH:MM`.")] = "UTC"


class ParseConfig(TransformConfig):
    """Parse the text of each event into ECS fields."""

    formats: Annotated[list[str | FormatSpec], Meta(min_length=1, description=(
        "Formats tried per event in order, first match wins: names (json, logfmt, key_value, syslog, clf, "
        "combined, uvicorn, python_logging, glog, log4j, apache_error, hdfs, healthapp, proxifier, auto, ...) "
        "or objects {format: regex|grok|key_value, ...}."))] = msgspec.field(default_factory=lambda: ["auto"])
    field: Annotated[str, Meta(min_length=1, description="Field holding the text to parse.")] = "message"
    target: Annotated[str | None, Meta(description=(
        "Prefix for extracted fields that are not ECS names (json/logfmt/key_value/regex/grok keys); "
        "unset: top level."))] = None
    rename: Annotated[dict[str, str], Meta(description=(
        "Store extracted fields under other names, e.g. {log.level: level, \"@timestamp\": ts}; only fields "
        "this step extracted are renamed (an unparsed line keeps its `@timestamp`)."))] = msgspec.field(
        default_factory=dict)
    timestamp: TimestampConfig = TimestampConfig()
    types: Annotated[dict[str, Literal["int", "float", "bool", "string"]], Meta(
        description="Convert these parsed fields (names as after parsing).")] = msgspec.field(default_factory=dict)
    keep_original: Annotated[bool, Meta(description="Copy the parsed text to `event.original`.")] = False

    def __post_init__(self) -> None:
        # Build once to validate every pattern and name now; the transform builds its own in __init__.
        _build_parsers(self, Clock(self.timestamp.timezone))
        if self.timestamp.field is not None:
            TimestampParser(self.timestamp.formats, Clock(self.timestamp.timezone))
        if self.target is not None and not self.target.strip("."):
            raise ValueError("target must be a field prefix such as `app`, or left unset")
        for old, new in self.rename.items():
            if not old or not new or old == new:
                raise ValueError(f"rename: {old!r} -> {new!r} must name two different fields")
            if new == "tags" or old == "tags":
                raise ValueError("rename: `tags` cannot be renamed")

    def build(self, ctx: BuildContext) -> Transform:
        return ParseTransform(self)


def _build_parsers(config: ParseConfig, clock: Clock) -> tuple[list[Parser], list[Into]]:
    load_timezone(config.timestamp.timezone)
    fctx = FormatContext(clock, target=config.target.strip(".") if config.target else None,
                         names=dict(config.rename))
    parsers: list[Parser] = [build_format(spec, fctx) for spec in config.formats]
    return parsers, [fctx.as_into(p) for p in parsers]


def _first_match(intos: list[Into]) -> Into:
    """One ``into`` that tries each in order."""
    if len(intos) == 1:
        return intos[0]

    def into(line: str, ev: dict[str, Any]) -> int:
        for f in intos:
            status = f(line, ev)
            if status:
                return status
        return NO_MATCH

    return into


_FAILURE_TAGS = [TAG_PARSE_FAILURE]


class ParseTransform(Transform):
    """Runs the configured parsers over a batch, in place (or over its columns)."""

    def __init__(self, config: ParseConfig) -> None:
        self.config = config
        clock = Clock(config.timestamp.timezone)
        parsers, intos = _build_parsers(config, clock)
        self._into = _first_match(intos)
        # A lone format with a batch form parses a columnar batch in one call.
        self._lay: Lay | None = getattr(parsers[0], "lay", None) if len(parsers) == 1 else None
        self._lay_keys: frozenset[str] | None = getattr(parsers[0], "lay_keys", None) if self._lay else None
        self._field = config.field
        self._keep_original = config.keep_original
        self._types = list(config.types.items())
        self._ts_field = config.timestamp.field
        self._ts_parse = TimestampParser(config.timestamp.formats, clock) if self._ts_field else None
        self._has_post = bool(self._types or self._keep_original or self._ts_field)

    def process(self, batch: Batch) -> Batch | None:
        if not batch.materialized and self._field == "message":
            self._process_columns(batch)
        else:
            self._process_events(batch.events)
        return batch

    def _process_columns(self, batch: Batch) -> None:
        """Parse the lines of a columnar batch into per-line fields; no event dicts are built.

        Tags go to the batch's per-line tags, so the laid fields of a line are
        exactly what was extracted from it.
        """
        lines = batch.messages()
        tags: dict[int, list[str]] = {}
        shape = None
        unmatched = None
        if self._lay is not None and not self._has_post:
            fields, no_time, tags = self._lay(lines)
            unmatched = _FAILURE_TAGS  # the rows without fields share one tag list (line tags are read only)
            shape = self._lay_keys
        else:
            fields, no_time = self._parse_lines(lines, tags)
        if no_time and self._tag_missing_times(batch, fields, no_time, tags) and shape is not None:
            shape = shape | {"@timestamp"}
        batch.set_line_fields(fields, tags, shape, unmatched_tags=unmatched)

    def _parse_lines(self, lines: list[str], tags: dict[int, list[str]]) -> tuple[list[Event | None], list[int]]:
        into = self._into
        post = self._post_process if self._has_post else None
        fields: list[Event | None] = []
        append = fields.append
        no_time: list[int] = []
        for i, line in enumerate(lines):
            own: Event = {}
            status = into(line, own)
            if not status:
                tags[i] = [TAG_PARSE_FAILURE]
                append(None)
                continue
            if "tags" in own:
                tags[i] = list(own.pop("tags"))
            if post is not None:
                status = post(own, line, status)
            if status == MATCH_WITHOUT_TIME:
                no_time.append(i)
            append(own)
        return fields, no_time

    def _tag_missing_times(self, batch: Batch, fields: list[Event | None], rows: list[int],
                           tags: dict[int, list[str]]) -> bool:
        """Tag the rows whose event has no time but its read time; whether any got `@timestamp` (now) laid."""
        stamped = False
        common = batch.common
        earlier = batch.line_fields()
        for i in rows:
            before = earlier[i] if earlier is not None else None
            ts = before["@timestamp"] if before is not None and "@timestamp" in before else common.get("@timestamp")
            if ts is None:
                own = fields[i]
                assert own is not None
                own["@timestamp"] = iso_now()
                stamped = True
            elif ts != common.get("event.ingested"):
                continue  # an earlier step already found this event's time
            tags[i] = [*tags.get(i, ()), TAG_TIMESTAMP_MISSING]
        return stamped

    def _process_events(self, events: list[Event]) -> None:
        field = self._field
        into = self._into
        post = self._post_process if self._has_post else None
        for ev in events:
            line = ev.get(field)
            if line.__class__ is not str:
                add_tags(ev, (TAG_PARSE_FAILURE,))
                continue
            status = into(line, ev)
            if status == MATCH and post is None:
                continue
            if not status:
                add_tags(ev, (TAG_PARSE_FAILURE,))
                continue
            if post is not None:
                status = post(ev, line, status)
            if status == MATCH_WITHOUT_TIME:
                ts = ev.get("@timestamp")
                if ts is None:
                    ev["@timestamp"] = iso_now()
                elif ts != ev.get("event.ingested"):
                    continue  # the event has a real time already (an earlier step parsed it)
                add_tags(ev, (TAG_TIMESTAMP_MISSING,))

    def _post_process(self, ev: Event, line: str, status: int) -> int:
        """The optional steps: explicit timestamp field, type conversions, original text."""
        if self._ts_parse is not None and self._ts_field is not None:
            raw = ev.get(self._ts_field)
            ts = self._ts_parse(raw) if raw is not None else None
            if ts is not None:
                ev["@timestamp"] = ts
                if self._ts_field != "@timestamp":
                    del ev[self._ts_field]
                status = MATCH
            else:
                status = MATCH_WITHOUT_TIME
        for name, type_name in self._types:
            v = ev.get(name)
            if isinstance(v, str):
                ev[name] = convert_value(v, type_name)
        if self._keep_original:
            ev["event.original"] = line
        return status

