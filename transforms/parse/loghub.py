"""Presets for the remaining Loghub systems' formats: Apache error log, HDFS, HealthApp, Proxifier.

(Linux and OpenSSH are RFC 3164 syslog, Spark and ZooKeeper are log4j
layouts: see ``syslog.py`` and ``log4j.py``.)
"""

from __future__ import annotations

import re
from typing import Any

from logferry.transforms.parse.common import FormatContext, Parser
from logferry.transforms.parse.levels import normalize_level
from logferry.transforms.parse.timestamps import TimestampParser

_APACHE_ERROR = re.compile(
    r"\[([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)(?:\.(\d{1,9}))? (\d{4})\] "
    r"\[(?:([\w-]+):)?(\w+)\]"
    r"(?: \[pid (\d+)(?::tid (\d+))?\])?"
    r"(?: \[client ([^\]\s]+?)(?::(\d+))?\])? ?(.*)", re.ASCII | re.DOTALL)
_HDFS = re.compile(r"(\d{6} \d{6}) (\d+) ([A-Z]+) ([^:\s]+): ?(.*)", re.ASCII | re.DOTALL)
_HEALTHAPP = re.compile(r"(\d{4})(\d\d)(\d\d)-(\d{1,2}):(\d{1,2}):(\d{1,2}):(\d{1,3})\|([^|]*)\|(\d+)\|(.*)",
                        re.ASCII | re.DOTALL)
_PROXIFIER = re.compile(r"\[(\d\d\.\d\d \d\d:\d\d:\d\d)\] (.+?) - (.*)", re.DOTALL)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)


def apache_error(ctx: FormatContext) -> Parser:
    """Apache httpd error log, 2.2 (``[time] [level] msg``) and 2.4 (``[time] [module:level] [pid N:tid M]``)."""
    match = _APACHE_ERROR.fullmatch
    when = TimestampParser(["%a %b %d %H:%M:%S %Y"], ctx.clock)

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        base, frac, year, module, lvl, pid, tid, client, port, msg = m.groups()
        level = normalize_level(lvl)
        if level is None:
            return None
        ts = when(f"{base} {year}")
        if ts is not None and frac:
            ts = f"{ts[:-1]}.{frac}Z"
        out: dict[str, Any] = {"@timestamp": ts, "log.level": level, "message": msg}
        if module:
            out["log.logger"] = module
        if pid:
            out["process.pid"] = int(pid)
        if tid:
            out["process.thread.id"] = int(tid)
        if client:
            out["source.address"] = client
            if _IPV4.fullmatch(client) or ":" in client:
                out["source.ip"] = client
            if port:
                out["source.port"] = int(port)
        return out

    return parse


def hdfs(ctx: FormatContext) -> Parser:
    """Hadoop HDFS (Loghub HDFS_v1): ``081109 203615 148 INFO dfs.DataNode$PacketResponder: msg``.

    The number after the time is the logging thread's id.
    """
    match = _HDFS.fullmatch
    when = TimestampParser(["%y%m%d %H%M%S"], ctx.clock)

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        ts, tid, lvl, logger, msg = m.groups()
        level = normalize_level(lvl)
        if level is None:
            return None
        return {"@timestamp": when(ts), "process.thread.id": int(tid), "log.level": level,
                "log.logger": logger, "message": msg}

    return parse


def healthapp(ctx: FormatContext) -> Parser:
    """Android HealthApp: ``20171223-22:15:29:606|Step_LSC|30002312|msg`` (fields not zero-padded)."""
    match = _HEALTHAPP.fullmatch
    clock = ctx.clock

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        y, mo, d, h, mi, s, ms, component, pid, msg = m.groups()
        key = ("healthapp", line[:m.end(6)])
        p = clock.cache.get(key)
        if p is None:
            try:
                p = clock.remember(key, clock.utc_seconds(int(y), int(mo), int(d), int(h), int(mi), int(s)))
            except ValueError:
                p = None
        return {"@timestamp": f"{p}.{int(ms):03d}Z" if p else None, "log.logger": component,
                "process.pid": int(pid), "message": msg}

    return parse


def proxifier(ctx: FormatContext) -> Parser:
    """Proxifier: ``[10.30 16:49:06] chrome.exe - msg`` (no year: inferred)."""
    match = _PROXIFIER.fullmatch
    when = TimestampParser(["%m.%d %H:%M:%S"], ctx.clock)

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        ts, program, msg = m.groups()
        return {"@timestamp": when(ts), "process.name": program, "message": msg}

    return parse
