"""Tests for timestamp parsing to ISO-8601 UTC text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logferry.transforms.parse.timestamps import Clock, TimestampParser, load_timezone


def _parser(*formats: str, tz: str = "UTC", now: datetime | None = None) -> TimestampParser:
    fixed = now or datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    return TimestampParser(list(formats), Clock(tz, now=lambda: fixed))


class TestIso8601:
    @pytest.mark.parametrize(("raw", "expected"), [
        ("2026-11-20T10:00:00.123Z", "2026-11-20T10:00:00.123Z"),
        ("2026-11-20 10:00:00,123", "2026-11-20T10:00:00.123Z"),
        ("2026-11-20T10:00:00", "2026-11-20T10:00:00Z"),
        ("2026-11-20T12:30:00.5+02:30", "2026-11-20T10:00:00.5Z"),
        ("2026-11-20T05:00:00-0500", "2026-11-20T10:00:00Z"),
        ("2026-11-20T10:00:00.123456789Z", "2026-11-20T10:00:00.123456789Z"),
    ])
    def test_converts_to_utc_keeping_fraction(self, raw: str, expected: str) -> None:
        """ISO 8601 variants (space or T, comma or dot, any offset) come out in UTC with the source's fraction."""
        assert _parser("iso8601")(raw) == expected

    def test_naive_time_uses_configured_zone(self) -> None:
        """A naive time is read in the configured zone, including its daylight-saving offset."""
        assert _parser("iso8601", tz="Europe/Paris")("2026-07-01 12:00:00") == "2026-07-01T10:00:00Z"
        assert _parser("iso8601", tz="Europe/Paris")("2026-01-01 12:00:00") == "2026-01-01T11:00:00Z"

    def test_rejects_impossible_dates_and_other_text(self) -> None:
        """Month 13, non-strings and free text yield None instead of raising."""
        p = _parser("iso8601")
        assert p("2026-13-01T00:00:00") is None
        assert p(12345) is None
        assert p("yesterday") is None


class TestEpoch:
    @pytest.mark.parametrize(("fmt", "raw", "expected"), [
        ("epoch_s", 1700000000, "2023-11-14T22:13:20Z"),
        ("epoch_s", "1700000000.25", "2023-11-14T22:13:20.25Z"),
        ("epoch_ms", 1700000000123, "2023-11-14T22:13:20.123Z"),
        ("epoch_us", "1700000000123456", "2023-11-14T22:13:20.123456Z"),
        ("epoch_ns", 1700000000123456789, "2023-11-14T22:13:20.123456789Z"),
        ("epoch", 1700000000123, "2023-11-14T22:13:20.123Z"),
    ])
    def test_units(self, fmt: str, raw: object, expected: str) -> None:
        """Epoch seconds, milliseconds, microseconds and nanoseconds, as numbers or text; `epoch` guesses the unit."""
        assert _parser(fmt)(raw) == expected

    def test_auto_epoch_ignores_small_numbers(self) -> None:
        """`epoch` refuses numbers too small to be a recent time (counters, durations)."""
        assert _parser("epoch")(42) is None


class TestYearInference:
    def test_syslog_time_gets_current_year(self) -> None:
        """A year-less syslog time in the past months belongs to the current year."""
        assert _parser("syslog")("Jun 14 15:16:01") == "2026-06-14T15:16:01Z"

    def test_syslog_time_ahead_of_now_is_last_year(self) -> None:
        """A year-less time more than a day ahead of now belongs to the previous year (December seen in January)."""
        now = datetime(2027, 1, 2, tzinfo=UTC)
        assert _parser("syslog", now=now)("Dec 31 23:59:59") == "2026-12-31T23:59:59Z"

    def test_glog_time(self) -> None:
        """glog's MMDD HH:MM:SS.micros gets an inferred year; a leading four-digit year is used as is."""
        assert _parser("glog")("0728 23:55:38.788589") == "2026-07-28T23:55:38.788589Z"
        assert _parser("glog")("20240728 23:55:38.788589") == "2024-07-28T23:55:38.788589Z"

    def test_yearless_strptime(self) -> None:
        """A strptime format without a year infers it, and Feb 29 does not crash."""
        assert _parser("%m.%d %H:%M:%S")("10.30 16:49:06") == "2026-10-30T16:49:06Z"
        assert _parser("%m.%d %H:%M:%S")("02.29 00:00:00") == "2024-02-29T00:00:00Z"


class TestStrptime:
    def test_fraction_suffix_is_kept(self) -> None:
        """A trailing `,%f` is split off and kept digit for digit."""
        assert _parser("%Y%m%d-%H:%M:%S,%f")("20171223-22:15:29,606") == "2017-12-23T22:15:29.606Z"

    def test_aware_format(self) -> None:
        """A `%z` offset in the text wins over the configured zone."""
        p = _parser("%d/%b/%Y:%H:%M:%S %z", tz="Asia/Tokyo")
        assert p("10/Oct/2000:13:55:36 -0700") == "2000-10-10T20:55:36Z"

    def test_formats_tried_in_order(self) -> None:
        """The first format that reads the value wins; later ones are fallbacks."""
        p = _parser("%a %b %d %H:%M:%S %Y", "epoch_s")
        assert p("Sun Dec 04 04:47:44 2005") == "2005-12-04T04:47:44Z"
        assert p("1700000000") == "2023-11-14T22:13:20Z"

    def test_unknown_format_name_is_an_error(self) -> None:
        """A format that is neither a known name nor a strptime format is refused at construction."""
        with pytest.raises(ValueError, match="unknown timestamp format 'nope'"):
            _parser("nope")


class TestLoadTimezone:
    def test_names_and_offsets(self) -> None:
        """IANA names, UTC and fixed offsets are accepted; an unknown zone is a clear error."""
        assert load_timezone("UTC") is UTC
        assert str(datetime(2026, 1, 1, tzinfo=load_timezone("+05:30")).utcoffset()) == "5:30:00"
        with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
            load_timezone("Mars/Olympus")
