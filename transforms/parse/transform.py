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
keeps the read time in ``@timestamp`` (set to now if there is none) and gets
``_timestamp_missing``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec
from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import Strict, TransformConfig
from logferry.agent.event import Batch, Event, add_tags
from logferry.transforms.parse.common import (
    MATCH,
    MATCH_WITHOUT_TIME,
    NO_MATCH,
    FormatContext,
    Parser,
    as_into,
)
from logferry.transforms.parse.formats import FormatSpec, build_format
from logferry.transforms.parse.grok import convert_value
from logferry.transforms.parse.timestamps import Clock, TimestampParser, load_timezone
from msgspec import Meta

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

    def build(self, ctx: BuildContext) -> Transform:
        return ParseTransform(self)


def _build_parsers(config: ParseConfig, clock: Clock) -> list[Parser]:
    load_timezone(config.timestamp.timezone)
    fctx = FormatContext(clock, target=config.target.strip(".") if config.target else None)
    return [build_format(spec, fctx) for spec in config.formats]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ParseTransform(Transform):
    """Runs the configured parsers over a batch, in place."""

    def __init__(self, config: ParseConfig) -> None:
        self.config = config
        clock = Clock(config.timestamp.timezone)
        self._intos = [as_into(p) for p in _build_parsers(config, clock)]
        self._field = config.field
        self._keep_original = config.keep_original
        self._types = list(config.types.items())
        self._ts_field = config.timestamp.field
        self._ts_parse = TimestampParser(config.timestamp.formats, clock) if self._ts_field else None
        self._has_post = bool(self._types or self._keep_original or self._ts_field)

    def process(self, batch: Batch) -> Batch | None:
        events = batch.events
        field = self._field
        intos = self._intos
        only = intos[0] if len(intos) == 1 else None
        post = self._post_process if self._has_post else None
        for ev in events:
            line = ev.get(field)
            if line.__class__ is not str:
                _tag(ev, TAG_PARSE_FAILURE)
                continue
            if only is not None:
                status = only(line, ev)
            else:
                status = NO_MATCH
                for into in intos:
                    status = into(line, ev)
                    if status:
                        break
            if status == MATCH and post is None:
                continue
            if not status:
                _tag(ev, TAG_PARSE_FAILURE)
                continue
            if post is not None:
                status = post(ev, line, status)
            if status == MATCH_WITHOUT_TIME:
                if ev.get("@timestamp") is None:
                    ev["@timestamp"] = _now_iso()
                _tag(ev, TAG_TIMESTAMP_MISSING)
        return batch

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


def _tag(ev: Event, tag: str) -> None:
    tags = ev.get("tags")
    if tags is None:
        ev["tags"] = [tag]
    elif isinstance(tags, list):
        if tag not in tags:
            tags.append(tag)
    else:
        add_tags(ev, (tag,))
