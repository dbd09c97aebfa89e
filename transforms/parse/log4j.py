"""Java log4j / log4j2 / logback layouts seen in the wild.

``log4j`` tries these conversion patterns in order:

* Spark's default ``%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m`` (also ``spark``);
* ZooKeeper's ``%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m`` (also ``zookeeper``);
* TorchServe's ``%d{ISO8601} [%-5p] %t %c - %m``;
* ``%d{ISO8601} %-5p [%t] %c - %m`` and ``%d{ISO8601} [%t] %-5p %c - %m``.

Thread goes to ``process.thread.name``, logger (or caller class) to
``log.logger``, ``%L`` to ``log.origin.file.line``.
"""

from __future__ import annotations

import re
from typing import Any

from logferry.transforms.parse.common import FormatContext, Parser
from logferry.transforms.parse.timestamps import TimestampParser

JAVA_LEVELS = {"TRACE": "trace", "DEBUG": "debug", "INFO": "info", "WARN": "warn", "WARNING": "warn",
               "ERROR": "error", "FATAL": "critical", "SEVERE": "error", "FINE": "debug", "FINER": "debug",
               "FINEST": "trace", "CONFIG": "debug"}
_ISO = r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d{1,9})?)"
_SPARK = re.compile(r"(\d\d/\d\d/\d\d \d\d:\d\d:\d\d) ([A-Z]+) ([^:\s]+): ?(.*)", re.ASCII | re.DOTALL)
_ZOOKEEPER = re.compile(_ISO + r" - ([A-Z]+) +\[(.+?):([\w$.]+)@(\d+)\] - ?(.*)", re.ASCII | re.DOTALL)
# (pattern, group index of level, thread, logger, message)
_ISO_LAYOUTS = (
    (_ISO + r" \[([A-Z]+) *\] (\S+) (\S+) - ?(.*)", 1, 2, 3, 4),
    (_ISO + r" ([A-Z]+) +\[([^\]]*)\] (\S+) - ?(.*)", 1, 2, 3, 4),
    (_ISO + r" \[([^\]]*)\] ([A-Z]+) +(\S+) - ?(.*)", 2, 1, 3, 4),
)


def spark(ctx: FormatContext) -> Parser:
    """Spark's log4j layout: ``17/06/09 20:10:40 INFO executor.Backend: msg``."""
    match = _SPARK.fullmatch
    when = TimestampParser(["%y/%m/%d %H:%M:%S"], ctx.clock)

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        ts, lvl, logger, msg = m.groups()
        level = JAVA_LEVELS.get(lvl)
        if level is None:
            return None
        return {"@timestamp": when(ts), "log.level": level, "log.logger": logger, "message": msg}

    return parse


def zookeeper(ctx: FormatContext) -> Parser:
    """ZooKeeper's layout: ``2015-07-29 17:41:44,747 - INFO  [thread:Class@774] - msg``."""
    match = _ZOOKEEPER.fullmatch
    convert = ctx.iso_seconds_fast()

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        ts, lvl, thread, cls, lineno, msg = m.groups()
        level = JAVA_LEVELS.get(lvl)
        if level is None:
            return None
        return {"@timestamp": convert(ts), "log.level": level, "process.thread.name": thread,
                "log.logger": cls, "log.origin.file.line": int(lineno), "message": msg}

    return parse


def log4j(ctx: FormatContext) -> Parser:
    """All the layouts of this module, first match wins."""
    convert = ctx.iso_seconds_fast()
    spark_layout = spark(ctx)
    zookeeper_layout = zookeeper(ctx)
    layouts = [(re.compile(p, re.ASCII | re.DOTALL).fullmatch, lv, th, lg, ms) for p, lv, th, lg, ms in _ISO_LAYOUTS]

    def parse(line: str) -> dict[str, Any] | None:
        if line[2:3] == "/":
            return spark_layout(line)
        if line[4:5] != "-":
            return None
        out = zookeeper_layout(line)
        if out is not None:
            return out
        for match, li, ti, gi, mi in layouts:
            m = match(line)
            if m is None:
                continue
            g = m.groups()
            level = JAVA_LEVELS.get(g[li])
            if level is None:
                continue
            return {"@timestamp": convert(g[0]), "log.level": level, "process.thread.name": g[ti],
                    "log.logger": g[gi], "message": g[mi]}
        return None

    return parse
