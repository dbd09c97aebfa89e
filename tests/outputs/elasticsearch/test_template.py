"""The index template: ECS types from ../shared/ecs, logferry's own fields, ILM policy."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from logferry.agent.event import Batch, LineOrigin
from logferry.outputs.elasticsearch.encoder import BulkEncoder, EncodedItem
from logferry.outputs.elasticsearch.template import (
    build_ilm_policy,
    build_index_template,
    ecs_fields,
    field_mappings,
    generate_ecs_fields,
    logferry_fields,
)

from tests.outputs.elasticsearch.helpers import make_config

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO / ".." / "shared"
ECS_DIR = SHARED / "ecs"
needs_shared = pytest.mark.skipif(not (ECS_DIR / "ecs_flat.yml").is_file(), reason="../shared/ecs is not present")

_LITERAL = re.compile(r'"(@timestamp|[a-z_]+(?:\.[a-z_@]+)+)"')


@cache
def ecs_flat() -> dict[str, Any]:
    with (ECS_DIR / "ecs_flat.yml").open() as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # type: ignore[no-any-return]


def emitted_field_names() -> set[str]:
    """Dotted field names that logferry's code writes: string literals in agent/, transforms/, outputs/."""
    names: set[str] = set()
    for top in ("agent", "transforms", "outputs"):
        for py in (REPO / top).rglob("*.py"):
            names.update(_LITERAL.findall(py.read_text(encoding="utf-8")))
    return names


def _walk(props: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for k, v in props.items():
        if "properties" in v:
            out.update(_walk(v["properties"], f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@needs_shared
class TestEcsTypes:
    def test_shipped_ecs_fields_match_ecs_flat(self) -> None:
        """Every field in ecs_fields.json is an ECS field with the same type as in ecs_flat.yml."""
        flat = ecs_flat()
        wrong = {n: (m["type"], flat[n]["type"]) for n, m in ecs_fields().items()
                 if n not in flat or flat[n]["type"] != m["type"]}
        assert wrong == {}

    def test_shipped_file_is_what_the_generator_makes(self) -> None:
        """ecs_fields.json equals a fresh generation from ../shared/ecs (no hand edits, no stale copy)."""
        assert generate_ecs_fields(ECS_DIR)["fields"] == ecs_fields()

    def test_every_emitted_ecs_name_has_the_ecs_type(self) -> None:
        """Each ECS-named field that logferry's code emits is in the template with its ecs_flat.yml type."""
        flat = ecs_flat()
        mapped = _walk(build_index_template(make_config("http://h:9200"))["template"]["mappings"]["properties"])
        emitted = {n for n in emitted_field_names() if n in flat}
        assert {"@timestamp", "event.id", "log.file.path", "data_stream.dataset"} <= emitted
        wrong = {n: (mapped.get(n, {}).get("type"), flat[n]["type"]) for n in emitted
                 if mapped.get(n, {}).get("type") != flat[n]["type"]}
        assert wrong == {}, ("(template type, ECS type) differ; for a field set not in the template add it to "
                             "template.ECS_FIELD_SETS and regenerate ecs_fields.json")

    def test_own_fields_are_not_ecs_names(self) -> None:
        """logferry_fields.json only holds non-ECS names, so it can never change an ECS type."""
        assert set(logferry_fields()) & set(ecs_flat()) == set()

    def test_encoded_documents_fit_their_mapping(self) -> None:
        """A document the encoder makes from a file-source batch has only mapped fields, with fitting values."""
        from tests.servers.es_state import _value_fits

        batch = Batch.from_lines(["hello", "world"], {"@timestamp": "2026-05-01T00:00:00Z", "log.file.path": "/a.log",
                                                      "host.name": "n1", "tags": ["_multiline"]},
                                 LineOrigin("abc:", [0, 6]))
        (item, _) = BulkEncoder(make_config("http://h:9200")).encode(batch.events)
        assert isinstance(item, EncodedItem)
        import json
        doc = json.loads(item.data.split(b"\n")[1])
        mappings = field_mappings()
        assert {k: _value_fits(mappings[k]["type"], v) for k, v in doc.items()} == {k: True for k in doc}


class TestIndexTemplate:
    def test_data_stream_template(self) -> None:
        """The data stream template covers logs-<dataset>-*, declares a data stream and outranks the built-in one."""
        tpl = build_index_template(make_config("http://h:9200", data_stream={"dataset": "trainer"}))
        assert tpl["index_patterns"] == ["logs-trainer-*"]
        assert tpl["data_stream"] == {} and tpl["priority"] > 100
        props = tpl["template"]["mappings"]["properties"]
        assert props["log"]["properties"]["offset"] == {"type": "long"}
        assert props["message"]["type"] == "match_only_text"

    def test_index_mode_template_pattern(self) -> None:
        """Index mode turns the name template into a wildcard pattern and declares no data stream."""
        tpl = build_index_template(make_config("http://h:9200", mode="index", index="app-{service.name}-%Y.%m.%d"))
        assert tpl["index_patterns"] == ["app-*-*.*.*"]
        assert "data_stream" not in tpl

    def test_lifecycle_policy(self) -> None:
        """A configured lifecycle names the policy in the template and builds rollover and delete phases."""
        cfg = make_config("http://h:9200", lifecycle={"policy_name": "logs-30d", "delete_after": "30d"})
        assert build_index_template(cfg)["template"]["settings"]["index"]["lifecycle"] == {"name": "logs-30d"}
        assert cfg.lifecycle is not None
        phases = build_ilm_policy(cfg.lifecycle)["policy"]["phases"]
        assert phases["hot"]["actions"]["rollover"]["max_age"] == "1d"
        assert phases["delete"] == {"min_age": "30d", "actions": {"delete": {}}}
