"""Syslog lines: RFC 5424, and RFC 3164 (BSD) as syslog daemons write it to files.

RFC 3164 also covers what ``/var/log/messages`` and ``auth.log`` hold: no
``<PRI>``, a year-less ``Mmm dd HH:MM:SS`` time (the year is inferred), the
host, then ``tag[pid]: message``. rsyslog's high-precision file format (an
RFC 3339 time instead) is accepted too. Real tags sometimes carry a space
(``syslogd 1.4.1: restart.``); one space is allowed.
"""

from __future__ import annotations

import re
from typing import Any

from logferry.transforms.parse.common import FormatContext, Parser
from logferry.transforms.parse.levels import SYSLOG_SEVERITY, SYSLOG_SEVERITY_NAMES
from logferry.transforms.parse.timestamps import TimestampParser

_RFC3164 = re.compile(
    r"(?:<(\d{1,3})>)?"
    r"(?:([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,9})?)|(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?))"
    r" +(\S+)"
    r"(?: +([^\s\[\]:]+(?: [^\s\[\]:]+)?)(?:\[([^\]]*)\])?:)?"
    r"(?: (.*))?", re.ASCII | re.DOTALL)
_RFC5424 = re.compile(
    r"<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) "
    r"(-|(?:\[(?:[^\]\"\\]|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (.*))?", re.DOTALL)
_SD_ELEMENT = re.compile(r"\[([^\s\]=\"]+)((?:\s+[^\s=\]\"]+=\"(?:[^\"\\]|\\.)*\")*)\s*\]")
_SD_PARAM = re.compile(r"([^\s=\]\"]+)=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")


def _priority_fields(out: dict[str, Any], pri_text: str) -> bool:
    pri = int(pri_text)
    if pri > 191:
        return False
    sev = pri & 7
    out["log.syslog.priority"] = pri
    out["log.syslog.facility.code"] = pri >> 3
    out["log.syslog.severity.code"] = sev
    out["log.syslog.severity.name"] = SYSLOG_SEVERITY_NAMES[sev]
    out["log.level"] = SYSLOG_SEVERITY[sev]
    return True


def _process_fields(out: dict[str, Any], name: str | None, pid: str | None) -> None:
    if name:
        out["process.name"] = name
    if pid:
        if pid.isdigit():
            out["process.pid"] = int(pid)
        else:
            out["log.syslog.procid"] = pid


def structured_data(text: str) -> dict[str, dict[str, str]]:
    """RFC 5424 STRUCTURED-DATA as ``{sd_id: {param: value}}``."""
    sd: dict[str, dict[str, str]] = {}
    for m in _SD_ELEMENT.finditer(text):
        sd[m[1]] = {k: _SD_UNESCAPE.sub(r"\1", v) for k, v in _SD_PARAM.findall(m[2])}
    return sd


def syslog(ctx: FormatContext) -> Parser:
    """Parser for RFC 5424 and RFC 3164 lines."""
    bsd_time = TimestampParser(["syslog"], ctx.clock)
    iso_time = ctx.any_time
    match3164 = _RFC3164.fullmatch
    match5424 = _RFC5424.fullmatch

    def parse(line: str) -> dict[str, Any] | None:
        first = line[:1]
        if first == "<":
            m = match5424(line)
            if m is not None:
                return _rfc5424(m)
        elif not (line[3:4] == " " or line[4:5] == "-"):  # "Jun 14 ..." or "2026-11-20T..."
            return None
        m = match3164(line)
        if m is None:
            return None
        pri, bsd, iso, host, tag, pid, msg = m.groups()
        out: dict[str, Any] = {"@timestamp": bsd_time(bsd) if bsd else iso_time(iso), "host.hostname": host}
        if pri is not None and not _priority_fields(out, pri):
            return None
        _process_fields(out, tag, pid)
        out["message"] = msg or ""
        return out

    def _rfc5424(m: re.Match[str]) -> dict[str, Any] | None:
        pri, version, ts, host, app, procid, msgid, sd, msg = m.groups()
        out: dict[str, Any] = {"@timestamp": iso_time(ts) if ts != "-" else None,
                               "log.syslog.version": version}
        if not _priority_fields(out, pri):
            return None
        if host != "-":
            out["host.hostname"] = host
        if app != "-":
            out["log.syslog.appname"] = app
        _process_fields(out, app if app != "-" else None, procid if procid != "-" else None)
        if msgid != "-":
            out["log.syslog.msgid"] = msgid
        if sd != "-":
            out["log.syslog.structured_data"] = structured_data(sd)
        out["message"] = (msg or "").removeprefix("\ufeff")
        return out

    return parse
