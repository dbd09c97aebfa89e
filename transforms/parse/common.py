"""What every format parser shares: its context, its signature and the well-known field names.

A *parser* is ``Callable[[str], dict | None]``: the line in, ``None`` when the
format does not match, else the extracted fields as flat ECS keys. It sets
``message`` only when the line has free text left over (the transform then
keeps the original ``message`` otherwise), ``@timestamp`` already as ISO UTC
text (``None`` when the line had a time that could not be read) and
``log.level`` already normalised.

For speed a parser may also carry ``parse.into(line, event) -> int`` that
writes straight into the event (see ``as_into``), and ``parse.lay(lines) ->
(fields per line or None, rows matched without a time, tags per row)`` for a whole columnar
batch (see ``Lay``).

Free-form formats (json, logfmt, key_value, regex, grok) name fields as the
data does; ``absorb`` maps the usual spellings of time, level, message and
logger onto ECS and puts every other plain name under the ``target`` prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from logferry.agent.event import add_tags
from logferry.transforms.parse.levels import normalize_level
from logferry.transforms.parse.timestamps import Clock, TimestampParser

Parser = Callable[[str], "dict[str, Any] | None"]
#: The in-place form the transform runs: write the fields into the event, return a ``MATCH_*`` code.
Into = Callable[[str, "dict[str, Any]"], int]
#: The batch form: per line the extracted fields (``None``: no match; never ``tags``), the rows matched
#: without a time, and the tags a format gave, per row.
Lay = Callable[[list[str]], "tuple[list[dict[str, Any] | None], list[int], dict[int, list[str]]]"]
NO_MATCH, MATCH, MATCH_WITHOUT_TIME = 0, 1, 2

TIME_KEYS = frozenset({"@timestamp", "timestamp", "time", "ts", "datetime", "date", "asctime"})
LEVEL_KEYS = frozenset({"level", "lvl", "severity", "levelname", "loglevel", "log.level", "log_level"})
MESSAGE_KEYS = frozenset({"message", "msg"})
LOGGER_KEYS = frozenset({"logger", "logger_name", "log.logger", "loggername"})

FREE_FORM_TIME_FORMATS = ("iso8601", "epoch", "syslog", "%d/%b/%Y:%H:%M:%S %z", "%a %b %d %H:%M:%S %Y")


@dataclass
class FormatContext:
    """Config-derived facilities a format factory may use (built once per transform)."""

    clock: Clock
    #: Parses the time values of free-form formats: ISO 8601, epoch numbers, syslog, httpd and ctime text.
    any_time: TimestampParser = field(init=False)
    #: ``target`` plus a dot, or empty.
    prefix: str = field(init=False)
    #: Prefix for non-ECS fields of free-form formats (``None``: top level).
    target: str | None = None
    #: Extracted fields to store under another name (ECS name -> wanted name).
    names: dict[str, str] = field(default_factory=dict)

    def name(self, ecs: str) -> str:
        """The key an extracted ``ecs`` field is stored under."""
        return self.names.get(ecs, ecs)

    def as_into(self, parse: Parser) -> Into:
        """``as_into`` with this context's renames."""
        return as_into(parse, self.names)

    def __post_init__(self) -> None:
        self.any_time = TimestampParser(list(FREE_FORM_TIME_FORMATS), self.clock)
        self.prefix = f"{self.target}." if self.target else ""

    def iso_seconds_fast(self) -> Callable[[str], str | None]:
        """A converter for ``YYYY-MM-DD[ T]HH:MM:SS[,.]frac`` text already validated by a regex."""
        clock = self.clock
        cache = clock.cache

        def convert(raw: str) -> str | None:
            key = raw[:19]
            p = cache.get(key)
            if p is None:
                try:
                    p = clock.remember(key, clock.utc_seconds(int(raw[:4]), int(raw[5:7]), int(raw[8:10]),
                                                              int(raw[11:13]), int(raw[14:16]), int(raw[17:19])))
                except ValueError:  # e.g. month 13: the line keeps its read time
                    return None
            frac = raw[20:]
            return f"{p}.{frac}Z" if frac else p + "Z"

        return convert


def as_into(parse: Parser, names: dict[str, str] | None = None) -> Into:
    """The parser's own in-place form (a hot format sets ``parse.into``), else one around its dict.

    ``names`` renames extracted fields (ECS name -> wanted name); a hot
    format's own ``into`` applies them itself (its factory read ``ctx.names``).
    """
    own = getattr(parse, "into", None)
    if own is not None:
        return own  # type: ignore[no-any-return]
    pairs = tuple(names.items()) if names else ()

    def into(line: str, event: dict[str, Any]) -> int:
        out = parse(line)
        if out is None:
            return NO_MATCH
        if "tags" in out:
            merge_tags(event, out.pop("tags"))
        status = MATCH
        if out.get("@timestamp") is None:
            out.pop("@timestamp", None)
            status = MATCH_WITHOUT_TIME
        for old, new in pairs:
            if old in out:
                out[new] = out.pop(old)
        event.update(out)
        return status

    return into


def merge_tags(event: dict[str, Any], tags: Any) -> None:
    """Add a parser's ``tags`` to the event's own: a format's result must never wipe tags set upstream."""
    if isinstance(tags, str):
        tags = (tags,)
    elif not isinstance(tags, list | tuple):
        tags = (str(tags),)
    add_tags(event, tags)


_TIME, _LEVEL, _MESSAGE, _LOGGER = range(4)
_WELL_KNOWN: dict[str, int] = {
    **dict.fromkeys(TIME_KEYS, _TIME), **dict.fromkeys(LEVEL_KEYS, _LEVEL),
    **dict.fromkeys(MESSAGE_KEYS, _MESSAGE), **dict.fromkeys(LOGGER_KEYS, _LOGGER)}
_ECS_NAME = {_TIME: "@timestamp", _LEVEL: "log.level", _MESSAGE: "message", _LOGGER: "log.logger"}


def absorb(raw: dict[str, Any], ctx: FormatContext) -> dict[str, Any]:
    """Map well-known keys of a free-form record onto ECS names; prefix the rest with ``ctx.target``."""
    out: dict[str, Any] = {}
    prefix = ctx.prefix
    well_known = _WELL_KNOWN
    for k, v in raw.items():
        kind = well_known.get(k)
        if kind is not None and _ECS_NAME[kind] not in out:
            if kind == _TIME:
                mapped = ctx.any_time(v)
            elif kind == _LEVEL:
                mapped = normalize_level(v)
            else:
                mapped = v if isinstance(v, str) else None
            if mapped is not None:
                out[_ECS_NAME[kind]] = mapped
                continue
        # Dotted names (``process.pid``) are taken as absolute ECS names.
        out[prefix + k if prefix and "." not in k else k] = v
    return out
