"""``logferry schema``: the JSON Schema (draft 2020-12) of the config file, for editors and docs.

Built from every registered config class, so descriptions in ``Meta`` and
docstrings end up in editor tooltips. Each component is a ``oneOf`` whose
branches are told apart by a ``const`` on ``type``. A registered type whose
module does not load (or whose config class msgspec rejects) is left out and
named in ``$comment`` rather than failing the whole schema.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from logferry.agent import registry
from logferry.agent.config.common import ApiConfig, ComponentConfig
from logferry.agent.config.decode import unusable_type
from logferry.agent.config.model import DEFAULT_DATA_DIR

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REF = "#/$defs/{name}"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a whole config document."""
    available, unavailable = _registered_classes()
    classes = [ApiConfig, *{cls: None for types in available.values() for cls in types.values()}]
    refs, defs = msgspec.json.schema_components(classes, ref_template=_REF)
    ref_of = dict(zip(classes, refs, strict=True))
    properties: dict[str, Any] = {
        "data_dir": {"type": "string", "default": DEFAULT_DATA_DIR,
                     "description": "Where checkpoints and disk buffers live; relative to the working directory."},
        "api": ref_of[ApiConfig],
    }
    for section in registry.KINDS:
        singular = registry.SINGULAR[section]
        branches = [
            {"title": f"{type_name} {singular}", "allOf": [ref_of[cls]],
             "properties": {"type": {"const": type_name}}, "required": ["type"]}
            for type_name, cls in available[section].items()
        ]
        properties[section] = {
            "type": "object",
            "description": f"{singular.capitalize()}s by id; the id is what `inputs` refer to.",
            "propertyNames": {"pattern": "^[A-Za-z0-9_-]+$"},
            # An empty oneOf is not a valid schema: with no loadable type, only require a `type`.
            "additionalProperties": {"oneOf": branches} if branches else {"type": "object", "required": ["type"]},
            **({} if section == "transforms" else {"minProperties": 1}),
        }
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": "logferry configuration",
        "description": "`${VAR}` and `${VAR:-default}` are expanded from the environment before the YAML is read.",
        "type": "object",
        "properties": properties,
        "required": ["sources", "outputs"],
        "additionalProperties": False,
        "$defs": defs,
    }
    if unavailable:
        schema["$comment"] = "Left out, their config does not load: " + "; ".join(unavailable)
    return schema


def _registered_classes() -> tuple[dict[str, dict[str, type[ComponentConfig]]], list[str]]:
    """Loadable config classes by section and type name, and a note for each one that is not."""
    available: dict[str, dict[str, type[ComponentConfig]]] = {section: {} for section in registry.KINDS}
    unavailable: list[str] = []
    for section in registry.KINDS:
        for type_name in registry.type_names(section):
            try:
                cls = registry.lookup(section, type_name)
            except Exception as exc:  # a module still being written must not break the schema
                unavailable.append(f"{section}.{type_name} ({type(exc).__name__}: {exc})")
                continue
            if cls is None:
                continue
            if reason := unusable_type(cls):
                unavailable.append(f"{section}.{type_name} ({reason})")
                continue
            available[section][type_name] = cls
    return available, unavailable


def main(argv: list[str]) -> int:
    """``logferry schema``: print the schema to stdout; left-out types are reported on stderr."""
    if argv:
        print("usage: logferry schema", file=sys.stderr)
        return 2
    schema = json_schema()
    print(json.dumps(schema, indent=2, sort_keys=False))
    if "$comment" in schema:
        print(f"warning: {schema['$comment']}", file=sys.stderr)
    return 0
