"""HTTP access lines: NCSA common (``clf``) and ``combined`` (nginx and Apache defaults), and uvicorn.

An access line has no free text: the parsers set no ``message``, so the
event keeps the whole line there. Extra fields nginx configs often append
after the combined ones (request time, upstream time) are allowed and ignored.

uvicorn writes two kinds of lines through its default formatter
(``%(levelprefix)s %(message)s``): access lines
``INFO:     127.0.0.1:45806 - "GET /health HTTP/1.1" 200 OK`` and plain ones
``INFO:     Started server process [3842945]``; ``uvicorn`` parses both.
"""

from __future__ import annotations

import re
from typing import Any

from logferry.transforms.parse.common import FormatContext, Parser
from logferry.transforms.parse.timestamps import TimestampParser

_REQUEST = r"\"(?:([A-Z]+) (\S+)(?: HTTP/(\d(?:\.\d)?))?|[^\"]*)\""
_CLF = (r"(\S+) (\S+) (\S+) \[(\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
        + _REQUEST + r" (\d{3}|-) (\d+|-)")
# Quoted strings as an unrolled loop: an alternation per character is ten times slower in `re`.
_QUOTED = r"\"([^\"\\]*(?:\\.[^\"\\]*)*)\""
_COMBINED_TAIL = rf" {_QUOTED} {_QUOTED}(?: .*)?"
_IP_CHARS = re.compile(r"[\d.]+|[\da-fA-F:]*:[\da-fA-F:.]*", re.ASCII)
_UVICORN_ACCESS = re.compile(
    r"([A-Z]+):\s+(\[?[\w.:\-]+\]?):(\d+) - \"([A-Z]+) (\S+) HTTP/(\d(?:\.\d)?)\" (\d{3})(?: .*)?", re.ASCII)
_UVICORN_PLAIN = re.compile(r"([A-Z]+):\s+(.*)", re.ASCII | re.DOTALL)
UVICORN_LEVELS = {"TRACE": "trace", "DEBUG": "debug", "INFO": "info", "WARNING": "warn",
                  "ERROR": "error", "CRITICAL": "critical"}


def _access_parser(ctx: FormatContext, combined: bool) -> Parser:
    rx = re.compile(_CLF + (_COMBINED_TAIL if combined else r"(?: .*)?"), re.ASCII | re.DOTALL)
    match = rx.fullmatch
    httpdate = TimestampParser(["%d/%b/%Y:%H:%M:%S %z"], ctx.clock)
    is_ip = _IP_CHARS.fullmatch

    def parse(line: str) -> dict[str, Any] | None:
        if '] "' not in line:  # a cheap necessary condition, before a regex that backtracks on spaces
            return None
        m = match(line)
        if m is None:
            return None
        g = m.groups()
        addr = g[0]
        out: dict[str, Any] = {"@timestamp": httpdate(g[3]), "source.address": addr}
        if is_ip(addr):
            out["source.ip"] = addr
        if g[2] != "-":
            out["user.name"] = g[2]
        if g[4] is not None:
            out["http.request.method"] = g[4]
            out["url.original"] = g[5]
            if g[6] is not None:
                out["http.version"] = g[6]
        if g[7] != "-":
            out["http.response.status_code"] = int(g[7])
        if g[8] != "-":
            out["http.response.body.bytes"] = int(g[8])
        if combined:
            if g[9] != "-":
                out["http.request.referrer"] = g[9]
            if g[10] != "-":
                out["user_agent.original"] = g[10]
        return out

    return parse


def clf(ctx: FormatContext) -> Parser:
    """NCSA common log format: ``host ident user [time] "request" status bytes``."""
    return _access_parser(ctx, combined=False)


def combined(ctx: FormatContext) -> Parser:
    """Combined log format: common plus ``"referrer" "user agent"``."""
    return _access_parser(ctx, combined=True)


def uvicorn(ctx: FormatContext) -> Parser:
    """uvicorn's access and plain lines (no time in either: the event keeps its read time)."""
    access = _UVICORN_ACCESS.fullmatch
    plain = _UVICORN_PLAIN.fullmatch
    levels = UVICORN_LEVELS

    def parse(line: str) -> dict[str, Any] | None:
        m = access(line)
        if m is not None:
            lvl, ip, port, method, url, version, status = m.groups()
            level = levels.get(lvl)
            if level is None:
                return None
            return {"log.level": level, "log.logger": "uvicorn.access", "source.address": ip.strip("[]"),
                    "source.ip": ip.strip("[]"), "source.port": int(port), "http.request.method": method,
                    "url.original": url, "http.version": version, "http.response.status_code": int(status)}
        m = plain(line)
        if m is None:
            return None
        lvl = m[1]
        level = levels.get(lvl)
        # uvicorn pads "INFO:" to a fixed width: demanding the padding keeps "INFO: x" free text out.
        if level is None or not line.startswith(" " * (9 - len(lvl)), len(lvl) + 1):
            return None
        return {"log.level": level, "message": m[2]}

    return parse
