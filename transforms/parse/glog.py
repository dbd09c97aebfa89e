"""Google glog / absl lines (Caffe, Triton, TensorFlow C++, absl-py).

``Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg``, where ``L`` is one of
``IWEF`` (plus ``D``/``V`` some forks write); glog >= 0.7 may put a four-digit
year before ``mmdd``. The year, when absent, is inferred.
"""

from __future__ import annotations

import re
from typing import Any

from logferry.transforms.parse.common import FormatContext, Parser
from logferry.transforms.parse.timestamps import TimestampParser

_GLOG = re.compile(
    r"([IWEFDV])(\d{4}(?:\d{4})? \d\d:\d\d:\d\d(?:\.\d{1,9})?) +(\d+) ([^:\]\s]+):(\d+)\] ?(.*)",
    re.ASCII | re.DOTALL)
GLOG_LEVELS = {"I": "info", "W": "warn", "E": "error", "F": "critical", "D": "debug", "V": "trace"}


def glog(ctx: FormatContext) -> Parser:
    """Parser for glog/absl lines."""
    match = _GLOG.fullmatch
    when = TimestampParser(["glog"], ctx.clock)

    def parse(line: str) -> dict[str, Any] | None:
        m = match(line)
        if m is None:
            return None
        lvl, ts, tid, file, lineno, msg = m.groups()
        return {"@timestamp": when(ts), "log.level": GLOG_LEVELS[lvl], "process.thread.id": int(tid),
                "log.origin.file.name": file, "log.origin.file.line": int(lineno), "message": msg}

    return parse
