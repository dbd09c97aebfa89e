"""Log levels normalised to ECS ``log.level`` values: trace, debug, info, warn, error, critical.

Accepts the names and letters used by Python logging, log4j, syslog, glog,
Android, Apache, Go and Rust loggers, numeric syslog severities (0-7) and the
numeric levels of pino/bunyan (10-60, the usual numeric levels in JSON logs).
"""

from __future__ import annotations

from typing import Any

LEVELS = ("trace", "debug", "info", "warn", "error", "critical")

_NAMES = {
    "trace": "trace", "finest": "trace", "verbose": "trace", "v": "trace", "t": "trace", "trc": "trace",
    "debug": "debug", "dbg": "debug", "d": "debug", "fine": "debug", "finer": "debug", "config": "debug",
    "debug1": "debug", "debug2": "debug", "debug3": "debug",
    "info": "info", "information": "info", "informational": "info", "inf": "info", "i": "info",
    "notice": "info", "n": "info", "log": "info", "notset": "info",
    "warn": "warn", "warning": "warn", "wrn": "warn", "w": "warn",
    "error": "error", "err": "error", "e": "error", "severe": "error", "fail": "error", "failure": "error",
    "critical": "critical", "crit": "critical", "c": "critical", "fatal": "critical", "f": "critical",
    "emerg": "critical", "emergency": "critical", "alert": "critical", "panic": "critical", "a": "critical",
    "dpanic": "critical",
}
# Syslog severities (RFC 5424 section 6.2.1).
SYSLOG_SEVERITY = ("critical", "critical", "critical", "error", "warn", "info", "info", "debug")
SYSLOG_SEVERITY_NAMES = ("emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug")
_PINO = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "critical"}

# Exact spellings first (the hot path: one dict lookup), lower-case fallback after.
LEVEL_MAP: dict[Any, str] = {}
for _k, _v in _NAMES.items():
    LEVEL_MAP[_k] = _v
    LEVEL_MAP[_k.upper()] = _v
    LEVEL_MAP[_k.capitalize()] = _v
for _i, _v in enumerate(SYSLOG_SEVERITY):
    LEVEL_MAP[_i] = _v
    LEVEL_MAP[str(_i)] = _v
for _i, _v in _PINO.items():
    LEVEL_MAP[_i] = _v
    LEVEL_MAP[str(_i)] = _v


def normalize_level(value: Any) -> str | None:
    """The ECS level for ``value``, or ``None`` when it is not a level we know."""
    try:
        r = LEVEL_MAP.get(value)
    except TypeError:  # unhashable (a JSON list or object)
        return None
    if r is not None:
        return r
    if isinstance(value, str):
        v = value.strip().strip("[]<>:").lower()
        return _NAMES.get(v)
    return None
