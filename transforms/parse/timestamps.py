"""Timestamp text -> ISO-8601 UTC string (``2026-11-20T10:00:00.123Z``), fast.

Every parser here splits a timestamp into its *seconds* part and its
fraction. The seconds part is converted once (local wall time -> UTC, year
inference, strptime) and cached; the fraction is appended by string
concatenation. Lines of one second share the cache entry, so the per-line
cost is a slice, a dict lookup and a concatenation.

Accepted format names (``TimestampParser(formats=[...])``):

* ``iso8601`` (also ``rfc3339``): ``2026-11-20T10:00:00.123Z``, ``2026-11-20 10:00:00,123``,
  with or without offset;
* ``epoch`` (magnitude decides s/ms/us/ns), ``epoch_s``, ``epoch_ms``, ``epoch_us``, ``epoch_ns``;
* ``syslog``: ``Jun 14 15:16:01`` (RFC 3164, year inferred);
* ``glog``: ``0728 23:55:38.788589`` (``MMDD HH:MM:SS.micros``, year inferred);
* anything containing ``%``: a ``strptime`` format; without ``%Y``/``%y`` the year is inferred.

The fraction keeps the digits the source wrote (ms stay ms). Naive times are
read in the configured timezone; the result is always UTC.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

_CACHE_MAX = 4096
_ISO_RX = re.compile(
    r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(?:[.,](\d{1,9}))? ?(Z|z|UTC|[+-]\d\d(?::?\d\d)?)?", re.ASCII)
_SYSLOG_RX = re.compile(r"([A-Za-z]{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$", re.ASCII)
_GLOG_RX = re.compile(r"(\d{4})?(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$", re.ASCII)
_EPOCH_DIVISORS = {"epoch_s": 1, "epoch_ms": 1000, "epoch_us": 1_000_000, "epoch_ns": 1_000_000_000}
_FRACTION_WIDTH = {1: 0, 1000: 3, 1_000_000: 6, 1_000_000_000: 9}
NAMED_FORMATS = ("iso8601", "rfc3339", "epoch", *_EPOCH_DIVISORS, "syslog", "glog")


def load_timezone(name: str) -> tzinfo:
    """A tzinfo for an IANA name, ``UTC``/``Z``, ``local`` or a fixed ``+HH:MM`` offset."""
    if name in ("UTC", "utc", "Z", "GMT"):
        return UTC
    if name == "local":
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", name)
    if m:
        delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
        return timezone(-delta if m[1] == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown timezone {name!r} (use an IANA name such as 'Europe/Paris', 'UTC' or '+02:00')") from e


def _offset_tz(text: str) -> tzinfo:
    """A fixed-offset tz for ``Z``, ``UTC``, ``+HH``, ``+HHMM`` or ``+HH:MM``."""
    if text in ("Z", "z", "UTC"):
        return UTC
    digits = text[1:].replace(":", "")
    return load_timezone(f"{text[0]}{digits[:2]}:{digits[2:4] or '00'}")


class Clock:
    """Local wall time -> UTC seconds text, with the cache and the year inference every parser shares."""

    def __init__(self, timezone: str = "UTC", now: Callable[[], datetime] | None = None) -> None:
        self.tz = load_timezone(timezone)
        self.is_utc = self.tz is UTC
        self._now = now or (lambda: datetime.now(UTC))
        self.cache: dict[Any, str] = {}

    def remember(self, key: Any, value: str) -> str:
        cache = self.cache
        if len(cache) >= _CACHE_MAX:
            cache.clear()  # cheap bound; refilled within one second of lines
        cache[key] = value
        return value

    def utc_seconds(self, y: int, mo: int, d: int, h: int, mi: int, s: int, tz: tzinfo | None = None) -> str:
        """``YYYY-MM-DDTHH:MM:SS`` in UTC for a wall time in ``tz`` (default: the configured zone)."""
        tz = tz or self.tz
        if s == 60:  # leap second: clamp rather than fail
            s = 59
        if tz is UTC:
            datetime(y, mo, d, h, mi, s)  # validates ranges
            return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
        return datetime(y, mo, d, h, mi, s, tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    def infer_year(self, mo: int, d: int) -> int:
        """The year of a year-less date: this year, or last year if that would lie more than a day ahead."""
        now = self._now()
        year = now.year
        try:
            candidate = datetime(year, mo, d, tzinfo=UTC)
        except ValueError:  # Feb 29 in a non-leap year: it was the last leap year's
            return year - 1 - (year - 1) % 4 if mo == 2 and d == 29 else year
        if candidate > now + timedelta(days=1):
            return year - 1
        return year


def _frac(f: str | None) -> str:
    return f".{f}Z" if f else "Z"


class TimestampParser:
    """Try each configured format in order; ``parse(value)`` returns ISO UTC text or ``None``."""

    def __init__(self, formats: list[str], clock: Clock) -> None:
        self.clock = clock
        self._parsers: list[Callable[[Any], str | None]] = [self._build(f) for f in formats]

    def parse(self, value: Any) -> str | None:
        for p in self._parsers:
            r = p(value)
            if r is not None:
                return r
        return None

    __call__ = parse

    def _build(self, fmt: str) -> Callable[[Any], str | None]:
        if fmt in ("iso8601", "rfc3339"):
            return self._iso
        if fmt == "epoch":
            return self._epoch_auto
        if fmt in _EPOCH_DIVISORS:
            div = _EPOCH_DIVISORS[fmt]
            return lambda v: self._epoch(v, div)
        if fmt == "syslog":
            return self._syslog
        if fmt == "glog":
            return self._glog
        if "%" in fmt:
            return _StrptimeParser(fmt, self.clock).parse
        raise ValueError(f"unknown timestamp format {fmt!r}: use one of {', '.join(NAMED_FORMATS)} "
                         "or a strptime format containing '%'")

    # -- named formats -------------------------------------------------------------
    def _iso(self, v: Any) -> str | None:
        if v.__class__ is not str:
            return None
        m = _ISO_RX.fullmatch(v)
        if m is None:
            return None
        secs, frac, off = m.groups()
        clock = self.clock
        key = f"{secs}{off}" if off else secs
        p = clock.cache.get(key)
        if p is None:
            try:
                p = clock.remember(key, clock.utc_seconds(
                    int(secs[:4]), int(secs[5:7]), int(secs[8:10]), int(secs[11:13]), int(secs[14:16]),
                    int(secs[17:19] or 0), _offset_tz(off) if off else None))
            except ValueError:
                return None
        return f"{p}.{frac}Z" if frac else p + "Z"

    def _syslog(self, v: Any) -> str | None:
        if not isinstance(v, str):
            return None
        m = _SYSLOG_RX.match(v)
        if m is None:
            return None
        clock = self.clock
        key = ("sys", v[:m.end(5)])
        p = clock.cache.get(key)
        if p is None:
            mon, d, h, mi, s = m.group(1, 2, 3, 4, 5)
            mo = MONTHS.get(mon.lower())
            if mo is None:
                return None
            try:
                p = clock.remember(key, clock.utc_seconds(clock.infer_year(mo, int(d)), mo, int(d),
                                                          int(h), int(mi), int(s)))
            except ValueError:
                return None
        return p + _frac(m[6])

    def _glog(self, v: Any) -> str | None:
        if not isinstance(v, str):
            return None
        m = _GLOG_RX.match(v)
        if m is None:
            return None
        clock = self.clock
        key = ("glog", v[:m.end(6)])
        p = clock.cache.get(key)
        if p is None:
            y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.group(1, 2, 3, 4, 5, 6))
            try:
                p = clock.remember(key, clock.utc_seconds(y or clock.infer_year(mo, d), mo, d, h, mi, s))
            except ValueError:
                return None
        return p + _frac(m[7])

    def _epoch_auto(self, v: Any) -> str | None:
        n = _number(v)
        if n is None:
            return None
        a = abs(n)
        if a < 1e8:  # before 1973 in seconds: a counter or a duration, not a time
            return None
        div = 1 if a < 1e11 else 1000 if a < 1e14 else 1_000_000 if a < 1e17 else 1_000_000_000
        return self._epoch(v, div)

    def _epoch(self, v: Any, div: int) -> str | None:
        n = _number(v)
        if n is None:
            return None
        if isinstance(n, float) and div == 1:
            secs = int(n // 1)
            text = v if isinstance(v, str) else repr(v)
            frac = text.partition(".")[2][:9].rstrip("0") if "." in text and "e" not in text.lower() else ""
        else:
            whole = int(n)
            secs, rest = divmod(whole, div)
            width = _FRACTION_WIDTH[div]
            frac = f"{rest:0{width}d}" if width else ""
        try:
            p = self.clock.cache.get(("epoch", secs))
            if p is None:
                p = self.clock.remember(("epoch", secs), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)))
        except (OverflowError, OSError, ValueError):
            return None
        return p + _frac(frac)


def _number(v: Any) -> int | float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return None
    return None


class _StrptimeParser:
    """A ``strptime`` format; a trailing ``<sep>%f`` is split off so the cache works per second."""

    def __init__(self, fmt: str, clock: Clock) -> None:
        self.clock = clock
        self.frac_sep: str | None = None
        if len(fmt) > 3 and fmt.endswith("%f") and fmt[-3] != "%":
            self.frac_sep = fmt[-3]
            fmt = fmt[:-3]
        self.has_year = "%Y" in fmt or "%y" in fmt
        self.aware = "%z" in fmt or "%Z" in fmt
        self.fmt = fmt if self.has_year else fmt + " %Y"
        try:
            time.strftime(fmt)
        except ValueError as e:
            raise ValueError(f"bad strptime format {fmt!r}: {e}") from e

    def parse(self, v: Any) -> str | None:
        if not isinstance(v, str):
            return None
        frac = ""
        head = v
        if self.frac_sep is not None:
            head, sep, frac = v.rpartition(self.frac_sep)
            if not sep or not frac.isdigit():
                return None
        clock = self.clock
        key = (self.fmt, head)
        p = clock.cache.get(key)
        if p is None:
            try:
                p = clock.remember(key, self._convert(head))
            except ValueError:
                return None
        return p + _frac(frac)

    def _convert(self, head: str) -> str:
        clock = self.clock
        if self.has_year:
            dt = datetime.strptime(head, self.fmt)
        else:
            # Parse with a leap year first to learn month/day, then with the inferred year.
            probe = datetime.strptime(f"{head} 2000", self.fmt)
            dt = datetime.strptime(f"{head} {clock.infer_year(probe.month, probe.day)}", self.fmt)
        frac = ""
        dt = dt.astimezone(UTC) if dt.tzinfo is not None else dt.replace(tzinfo=clock.tz).astimezone(UTC)
        text = dt.strftime("%Y-%m-%dT%H:%M:%S")
        if dt.microsecond and self.frac_sep is None:
            frac = f".{dt.microsecond:06d}".rstrip("0")
        return text + frac
