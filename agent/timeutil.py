"""Time helpers shared by sources and outputs."""

from __future__ import annotations

import time


def iso_utc(secs: int, millis: int) -> str:
    """``secs`` since the epoch plus ``millis`` as ISO 8601 UTC with milliseconds and ``Z`` (``@timestamp``'s form)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{millis:03d}Z"


def iso_now() -> str:
    """Current UTC time as ISO 8601 with milliseconds and ``Z`` (the form of ``@timestamp``)."""
    secs, rem = divmod(time.time_ns(), 1_000_000_000)
    return iso_utc(secs, rem // 1_000_000)
