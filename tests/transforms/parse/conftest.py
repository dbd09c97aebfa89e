"""Shared fixtures for the parse transform tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from logferry.transforms.parse.common import FormatContext
from logferry.transforms.parse.timestamps import Clock

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(name="ctx")
def _ctx() -> FormatContext:
    """A format context in UTC with a fixed 'now' (2026-11-24) for year inference."""
    return FormatContext(Clock("UTC", now=lambda: NOW))
