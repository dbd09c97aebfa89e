"""The remove transform."""

from __future__ import annotations

import msgspec
import pytest

from logferry.transforms.remove import RemoveConfig
from tests.transforms.util import build, decode, run


class TestRemove:
    def test_removes_flat_and_nested_fields(self) -> None:
        """Listed fields go whether flat or nested; others stay."""
        t = build(decode(RemoveConfig, {"type": "remove", "fields": ["log.offset", "user.name"]}))
        assert run(t, [{"log.offset": 3, "user": {"name": "x", "id": 1}, "message": "m"}]) == [
            {"user": {"id": 1}, "message": "m"}]

    def test_empty_list_is_a_config_error(self) -> None:
        """remove needs at least one field."""
        with pytest.raises(msgspec.ValidationError):
            decode(RemoveConfig, {"type": "remove", "fields": []})
