"""The rename transform."""

from __future__ import annotations

import msgspec
import pytest

from logferry.transforms.rename import RenameConfig
from tests.transforms.util import build, decode, run


class TestRename:
    def test_flat_and_nested_sources_move(self) -> None:
        """A flat key and a nested JSON value both move to their new flat paths."""
        t = build(decode(RenameConfig, {"type": "rename", "fields": {"lvl": "log.level", "req.id": "http.request.id"}}))
        assert run(t, [{"lvl": "INFO", "req": {"id": "r1", "x": 1}}]) == [
            {"req": {"x": 1}, "log.level": "INFO", "http.request.id": "r1"}]

    def test_absent_source_is_left_alone(self) -> None:
        """Renaming a field the event lacks changes nothing."""
        t = build(decode(RenameConfig, {"type": "rename", "fields": {"a": "b"}}))
        assert run(t, [{"c": 1}]) == [{"c": 1}]

    def test_no_overwrite_keeps_target_and_source(self) -> None:
        """With overwrite: false an existing target wins and the source stays."""
        t = build(decode(RenameConfig, {"type": "rename", "overwrite": False, "fields": {"a": "b"}}))
        assert run(t, [{"a": 1, "b": 2}]) == [{"a": 1, "b": 2}]

    def test_rename_to_itself_is_a_config_error(self) -> None:
        """A rename of a field onto itself is rejected at load."""
        with pytest.raises(msgspec.ValidationError, match="to itself"):
            decode(RenameConfig, {"type": "rename", "fields": {"a": "a"}})
