"""Time helpers shared by sources and outputs."""

from __future__ import annotations

import time


def iso_now() -> str:
    """Current UTC time as ISO 8601 with milliseconds and ``Z`` (the form of ``@timestamp``)."""
    ns = time.time_ns()
    secs, rem = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem // 1_000_000:03d}Z"
