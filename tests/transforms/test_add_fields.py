"""The add_fields transform: static values, environment variables and the host name."""

from __future__ import annotations

import msgspec
import pytest

from logferry.agent.errors import BuildError
from logferry.transforms.add_fields import AddFieldsConfig
from tests.transforms.util import build, decode, run


class TestAddFieldsConfig:
    def test_needs_something_to_add(self) -> None:
        """A block with no fields, env or host name is a config error."""
        with pytest.raises(msgspec.ValidationError, match="needs at least one of"):
            decode(AddFieldsConfig, {"type": "add_fields"})

    def test_bad_field_path_is_rejected(self) -> None:
        """An empty path segment is reported at load."""
        with pytest.raises(msgspec.ValidationError, match="invalid field path 'a..b'"):
            decode(AddFieldsConfig, {"type": "add_fields", "fields": {"a..b": 1}})

    def test_missing_env_var_fails_the_build(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An unset variable stops the build with a message naming it (env_missing: error)."""
        monkeypatch.delenv("LOGFERRY_TEST_UNSET", raising=False)
        cfg = decode(AddFieldsConfig, {"type": "add_fields", "env": {"service.environment": "LOGFERRY_TEST_UNSET"}})
        with pytest.raises(BuildError, match="'LOGFERRY_TEST_UNSET'"):
            build(cfg)


class TestAddFields:
    def test_static_env_and_host_values(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every event gets the static values, the variable's value and the host name."""
        monkeypatch.setenv("LOGFERRY_TEST_ENV", "prod")
        t = build(decode(AddFieldsConfig, {
            "type": "add_fields",
            "fields": {"service.name": "llm-api", "ml.model.name": "llama-3-8b", "ml.model.version": "3"},
            "env": {"service.environment": "LOGFERRY_TEST_ENV"},
            "host_name_field": "host.name",
        }), host_name="gpu-node-7")
        out = run(t, [{"message": "a"}, {"message": "b"}])
        assert out[1] == {"message": "b", "service.name": "llm-api", "ml.model.name": "llama-3-8b",
                          "ml.model.version": "3", "service.environment": "prod", "host.name": "gpu-node-7"}

    def test_overwrite_false_keeps_existing_values(self) -> None:
        """With overwrite: false a value already present (flat or nested) is kept."""
        t = build(decode(AddFieldsConfig, {"type": "add_fields", "overwrite": False,
                                           "fields": {"service.name": "x", "a.b": 2}}))
        out = run(t, [{"service.name": "keep", "a": {"b": 1}}])
        assert out == [{"service.name": "keep", "a": {"b": 1}}]

    def test_skip_missing_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """env_missing: skip leaves the field out instead of failing."""
        monkeypatch.delenv("LOGFERRY_TEST_UNSET", raising=False)
        t = build(decode(AddFieldsConfig, {"type": "add_fields", "env_missing": "skip",
                                           "env": {"x": "LOGFERRY_TEST_UNSET"}, "fields": {"y": 1}}))
        assert run(t, [{}]) == [{"y": 1}]

    def test_list_values_are_not_shared_between_events(self) -> None:
        """Changing a list value in one event leaves the next event's copy alone."""
        t = build(decode(AddFieldsConfig, {"type": "add_fields", "fields": {"labels": ["a"]}}))
        out = run(t, [{}, {}])
        out[0]["labels"].append("b")
        assert out[1]["labels"] == ["a"]
