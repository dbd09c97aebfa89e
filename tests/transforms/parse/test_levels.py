"""Tests for log level normalisation."""

from __future__ import annotations

import pytest

from logferry.transforms.parse.levels import normalize_level


class TestNormalizeLevel:
    @pytest.mark.parametrize(("raw", "expected"), [
        ("INFO", "info"), ("I", "info"), ("notice", "info"), ("Information", "info"),
        ("W", "warn"), ("WARNING", "warn"), ("warn", "warn"),
        ("ERR", "error"), ("error", "error"), ("E", "error"), ("SEVERE", "error"),
        ("FATAL", "critical"), ("CRITICAL", "critical"), ("emerg", "critical"), ("F", "critical"),
        ("DEBUG", "debug"), ("D", "debug"), ("TRACE", "trace"), ("V", "trace"), ("[Warn]", "warn"),
    ])
    def test_names_and_letters(self, raw: str, expected: str) -> None:
        """Names, abbreviations and single letters of common loggers map to the six ECS levels."""
        assert normalize_level(raw) == expected

    @pytest.mark.parametrize(("raw", "expected"), [
        (0, "critical"), (2, "critical"), (3, "error"), ("4", "warn"), (5, "info"), (6, "info"), (7, "debug"),
        (30, "info"), (50, "error"), (60, "critical"),
    ])
    def test_numbers(self, raw: object, expected: str) -> None:
        """Syslog severities 0-7 and pino/bunyan levels 10-60 are understood."""
        assert normalize_level(raw) == expected

    def test_unknown(self) -> None:
        """Unknown words, numbers and unhashable values give None."""
        assert normalize_level("banana") is None
        assert normalize_level(99) is None
        assert normalize_level(["info"]) is None
