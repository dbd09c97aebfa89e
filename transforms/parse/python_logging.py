"""Python ``logging`` lines: the default format and the common ``%(asctime)s`` layouts.

Layouts recognised (tried in this order; the first is the one our benchmark
corpus and many services use):

* ``%(asctime)s %(levelname)s [%(name)s] %(message)s``
* ``%(asctime)s %(levelname)s %(name)s: %(message)s``
* ``%(asctime)s - %(name)s - %(levelname)s - %(message)s`` (the logging cookbook)
* ``%(asctime)s [%(levelname)s] %(name)s: %(message)s``
* ``%(asctime)s:%(levelname)s:%(name)s:%(message)s``
* ``%(asctime)s %(levelname)s %(message)s``
* ``%(levelname)s:%(name)s:%(message)s`` (``logging.basicConfig()``'s default, no time)

A match counts only if the level is a Python level name, so free text that
happens to look similar is left to the next format.
"""

from __future__ import annotations

import re
from typing import Any

from logferry.transforms.parse.common import MATCH, NO_MATCH, FormatContext, Parser

_TS = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d{1,9})?)"
# The first layout again, with seconds and fraction apart so the hot path needs no slicing. The optional
# fraction is written `(?:...|)`, not `(?:...)?`: the same match, but `re` runs a branch instead of a
# repeat context for it (about 1 % of the parse scenario's instructions).
_FAST = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:[,.](\d{1,9})|) ([A-Z]{4,8}) +\[([^\]]+)\] (.*)"
_LEVEL = r"([A-Z]{4,8})"
_NAME = r"([A-Za-z_][\w.\-]*)"

# (pattern, index of timestamp, level, logger, message in groups(); -1 = absent)
_LAYOUTS: tuple[tuple[str, int, int, int, int], ...] = (
    (rf"{_TS} {_LEVEL} +\[([^\]]+)\] (.*)", 0, 1, 2, 3),
    (rf"{_TS} {_LEVEL} +{_NAME}: (.*)", 0, 1, 2, 3),
    (rf"{_TS} - (\S+) - {_LEVEL} - (.*)", 0, 2, 1, 3),
    (rf"{_TS} \[{_LEVEL}\] +{_NAME}: (.*)", 0, 1, 2, 3),
    (rf"{_TS}:{_LEVEL}:([^:\s]+):(.*)", 0, 1, 2, 3),
    (rf"{_TS} {_LEVEL} +(.*)", 0, 1, -1, 2),
    (rf"{_LEVEL}:([^:\s]+):(.*)", -1, 0, 1, 2),
)
PYTHON_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "WARN": "warn", "ERROR": "error",
                 "CRITICAL": "critical", "FATAL": "critical", "NOTSET": "info", "TRACE": "trace"}


# basicConfig's layout starts with a level name, a colon, then a name (one C call instead of Python checks).
_UNTIMED_PREFIX = "(?:" + "|".join(sorted(PYTHON_LEVELS, key=len, reverse=True)) + r"):[^:\s]"
# One match per line for `into` and `lay`: the first layout whole, or an empty match where another layout
# may apply (fifth character "-": a timed layout; basicConfig's prefix), or None: no layout can match.
_FAST_OR_CANDIDATE = rf"(?:{_FAST}\Z|(?=.{{4}}-)|(?={_UNTIMED_PREFIX}))"


def python_logging(ctx: FormatContext) -> Parser:
    """Parser for the Python logging layouts above (with an in-place ``into`` for the transform)."""
    convert = ctx.iso_seconds_fast()
    cache = ctx.clock.cache
    levels = PYTHON_LEVELS
    compiled = [(re.compile(p, re.ASCII | re.DOTALL).fullmatch, t, lv, n, msg) for p, t, lv, n, msg in _LAYOUTS]
    timed = compiled[:-1]
    untimed = compiled[-1:]
    untimed_candidate = re.compile(_UNTIMED_PREFIX).match
    fast_or_candidate = re.compile(_FAST_OR_CANDIDATE, re.ASCII | re.DOTALL).match
    k_ts, k_level, k_logger, k_msg = (ctx.name(k) for k in ("@timestamp", "log.level", "log.logger", "message"))

    def parse(line: str) -> dict[str, Any] | None:
        if line[4:5] == "-":
            layouts = timed
        elif untimed_candidate(line) is not None:
            layouts = untimed
        else:
            return None
        for match, ti, li, ni, mi in layouts:
            m = match(line)
            if m is None:
                continue
            g = m.groups()
            level = levels.get(g[li])
            if level is None:
                continue
            out: dict[str, Any] = {"log.level": level, "message": g[mi]}
            if ti >= 0:
                out["@timestamp"] = convert(g[ti])
            if ni >= 0:
                out["log.logger"] = g[ni]
            return out
        return None

    def into(line: str, ev: dict[str, Any]) -> int:
        # The first layout inline: no intermediate dict, no loop, no slicing; the others through `parse`.
        m = fast_or_candidate(line)
        if m is None:
            return NO_MATCH
        secs, frac, lvl, name, msg = m.groups()
        if secs is not None:
            level = levels.get(lvl)
            p = cache.get(secs)
            if level is not None and p is not None:
                ev[k_ts] = f"{p}.{frac}Z" if frac else p + "Z"
                ev[k_level] = level
                ev[k_logger] = name
                ev[k_msg] = msg
                return MATCH
        return slow_into(line, ev)

    def lay(lines: list[str]) -> tuple[list[dict[str, Any] | None], list[int], dict[int, list[str]]]:
        """``into`` over a whole batch: fields per line (``None``: no match) and the rows without a time.

        The first layout is inlined and its fields built in one dict display:
        this loop is the parse scenario's hot path.
        """
        out: list[dict[str, Any] | None] = []
        append = out.append
        no_time: list[int] = []
        # Every line is matched at C speed first; only the first layout's lines and candidates come back.
        for m in map(fast_or_candidate, lines):
            if m is None:
                append(None)
                continue
            secs, frac, lvl, name, msg = m.groups()
            if secs is not None:
                try:  # KeyError: an unknown level, or a second not converted yet (rare): the slow path
                    append({k_ts: f"{cache[secs]}.{frac}Z" if frac else cache[secs] + "Z", k_level: levels[lvl],
                            k_logger: name, k_msg: msg})
                    continue
                except KeyError:
                    pass
            own: dict[str, Any] = {}
            status = slow_into(m.string, own)
            if status == MATCH:
                append(own)
            elif status:
                no_time.append(len(out))
                append(own)
            else:
                append(None)
        return out, no_time, {}  # these layouts give no tags

    slow_into = ctx.as_into(parse)  # before `parse.into` is set: as_into would hand back `into` itself
    parse.into = into  # type: ignore[attr-defined]
    parse.lay = lay  # type: ignore[attr-defined]
    # Every dict lay gives holds a message and only these keys (unless `message` itself is renamed).
    parse.lay_keys = frozenset({k_ts, k_level, k_logger, k_msg}) if k_msg == "message" else None  # type: ignore

    return parse
