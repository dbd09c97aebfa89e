"""Tests of the JSON Schema printed by `logferry schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from logferry.agent.config.interpolate import interpolate
from logferry.agent.config.schema import json_schema, main

DATA = Path(__file__).parent / "data"


def branch_types(schema: dict[str, Any], section: str) -> list[str]:
    branches = schema["properties"][section]["additionalProperties"]["oneOf"]
    return [branch["properties"]["type"]["const"] for branch in branches]


def pipeline_document() -> Any:
    text = (DATA / "pipeline.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(interpolate(text, {"LOG_DIR": "/var/log/app"}).text)


class TestJsonSchema:
    def test_schema_is_valid_draft_2020_12(self) -> None:
        """The schema is JSON-serialisable and valid against the draft 2020-12 meta-schema."""
        schema = json.loads(json.dumps(json_schema()))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)

    def test_each_loadable_registered_type_is_a_branch(self) -> None:
        """Every registered type whose class loads appears as a `oneOf` branch with a const `type`."""
        schema = json_schema()
        assert branch_types(schema, "sources") == ["demo", "tail"]
        assert branch_types(schema, "transforms") == ["demo", "route"]
        assert branch_types(schema, "outputs") == ["demo"]
        assert {"DemoSourceConfig", "DemoOutputConfig", "BatchCfg", "BufferConfig", "ApiConfig"} <= set(schema["$defs"])

    def test_unavailable_types_are_named_not_fatal(self) -> None:
        """Types whose module or class does not load are left out and named in `$comment`."""
        comment = json_schema()["$comment"]
        assert "sources.ghost (ModuleNotFoundError" in comment
        assert "outputs.broken (Can only set `gt` on a numeric type" in comment

    def test_valid_config_validates(self) -> None:
        """The valid example pipeline passes schema validation."""
        jsonschema.validate(pipeline_document(), json_schema())

    @pytest.mark.parametrize("change", [
        lambda doc: doc.update(extra=1),
        lambda doc: doc["sources"]["app"].update(bogus=True),
        lambda doc: doc["sources"]["app"].update(type="nope"),
        lambda doc: doc["outputs"]["search"]["batch"].update(max_bytes=0),
        lambda doc: doc["sources"].update({"bad.id": {"type": "demo", "include": ["x"]}}),
        lambda doc: doc.pop("outputs"),
    ])
    def test_invalid_configs_fail_validation(self, change: Any) -> None:
        """Unknown keys, unknown types, broken constraints, dotted ids and missing sections fail validation."""
        document = pipeline_document()
        change(document)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, json_schema())


class TestSchemaCommand:
    def test_prints_the_schema_as_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`logferry schema` prints the schema on stdout and names left-out types on stderr."""
        assert main([]) == 0
        out, err = capsys.readouterr()
        assert json.loads(out) == json_schema()
        assert err.startswith("warning: Left out, their config does not load: ")

    def test_rejects_arguments(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Extra arguments are a usage error with exit status 2."""
        assert main(["--bogus"]) == 2
        assert capsys.readouterr().err == "usage: logferry schema\n"
