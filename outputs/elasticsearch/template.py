"""The index template (and optional ILM policy) `logferry setup elasticsearch` installs.

Mappings come from two data files next to this module:

* ``ecs_fields.json``: ECS field mappings, flattened to dotted names, for the field sets log shipping
  uses. It is generated from ECS's composable component templates (``../shared/ecs``) with
  ``python -m logferry.outputs.elasticsearch.template ../shared/ecs``, so types match ECS exactly.
* ``logferry_fields.json``: logferry's own non-ECS fields (``log.offset``, ``ml.*``, ``systemd.*`` ...).

Pure except ``install``.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from logferry.outputs.elasticsearch.config import (
    ElasticsearchOutputConfig,
    LifecycleConfig,
)

#: ECS field sets put in the template (security-specific sets like threat or vulnerability are left out).
ECS_FIELD_SETS = (
    "agent", "base", "client", "cloud", "container", "data_stream", "destination", "ecs", "error", "event",
    "file", "group", "host", "http", "log", "network", "orchestrator", "process", "related", "server",
    "service", "source", "tracing", "url", "user", "user_agent",
)
TEMPLATE_PRIORITY = 200  # above the built-in `logs` template (100)

Mapping = dict[str, Any]


@cache
def _load(name: str) -> dict[str, Any]:
    data = resources.files("logferry.outputs.elasticsearch").joinpath(name).read_text(encoding="utf-8")
    return json.loads(data)  # type: ignore[no-any-return]


def ecs_fields() -> dict[str, Mapping]:
    """ECS leaf field name -> its mapping."""
    return _load("ecs_fields.json")["fields"]  # type: ignore[no-any-return]


def ecs_version() -> str:
    return str(_load("ecs_fields.json")["ecs_version"])


def logferry_fields() -> dict[str, Mapping]:
    """logferry's own (non-ECS) leaf fields -> mapping."""
    return _load("logferry_fields.json")["fields"]  # type: ignore[no-any-return]


def field_mappings() -> dict[str, Mapping]:
    """Every mapped leaf field; logferry's own fields never override an ECS name."""
    out = dict(logferry_fields())
    out.update(ecs_fields())
    return out


def nest(flat: dict[str, Mapping]) -> Mapping:
    """``{"log.file.path": {...}}`` -> ``{"log": {"properties": {"file": {"properties": {"path": {...}}}}}}``."""
    root: Mapping = {}
    for name in sorted(flat):
        node = root
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {}).setdefault("properties", {})
        node[parts[-1]] = dict(flat[name])
    return root


def index_patterns(cfg: ElasticsearchOutputConfig) -> list[str]:
    if cfg.mode == "data_stream":
        ds = cfg.data_stream
        return [f"{ds.type}-{ds.dataset}-*"]
    return [cfg.target_pattern]


def build_index_template(cfg: ElasticsearchOutputConfig) -> Mapping:
    settings: Mapping = {"index": {"mapping": {"total_fields": {"limit": 3000}}}}
    if cfg.lifecycle is not None:
        settings["index"]["lifecycle"] = {"name": cfg.lifecycle.policy_name}
    body: Mapping = {
        "index_patterns": index_patterns(cfg),
        "priority": TEMPLATE_PRIORITY,
        "_meta": {"managed_by": "logferry", "ecs_version": ecs_version()},
        "template": {
            "settings": settings,
            "mappings": {
                "date_detection": False,
                "dynamic_templates": [
                    {"strings_as_keyword": {"match_mapping_type": "string",
                                            "mapping": {"type": "keyword", "ignore_above": 1024}}},
                ],
                "properties": nest(field_mappings()),
            },
        },
    }
    if cfg.mode == "data_stream":
        body["data_stream"] = {}
    return body


def build_ilm_policy(lc: LifecycleConfig) -> Mapping:
    phases: Mapping = {"hot": {"actions": {"rollover": {
        "max_age": lc.rollover_max_age, "max_primary_shard_size": lc.rollover_max_primary_shard_size}}}}
    if lc.delete_after is not None:
        phases["delete"] = {"min_age": lc.delete_after, "actions": {"delete": {}}}
    return {"policy": {"phases": phases, "_meta": {"managed_by": "logferry"}}}


def generate_ecs_fields(ecs_dir: Path) -> Mapping:
    """Flatten ECS's composable component templates for ``ECS_FIELD_SETS`` (build-time helper)."""
    meta = json.loads((ecs_dir / "composable" / "template.json").read_text())["_meta"]
    fields: dict[str, Mapping] = {}
    for name in ECS_FIELD_SETS:
        comp = json.loads((ecs_dir / "composable" / "component" / f"{name}.json").read_text())
        fields.update(_flatten(comp["template"]["mappings"]["properties"]))
    return {"ecs_version": meta["ecs_version"], "field_sets": list(ECS_FIELD_SETS),
            "fields": dict(sorted(fields.items()))}


def _flatten(props: Mapping, prefix: str = "") -> dict[str, Mapping]:
    out: dict[str, Mapping] = {}
    for key, spec in props.items():
        name = prefix + key
        if "properties" in spec:
            out.update(_flatten(spec["properties"], name + "."))
        else:
            out[name] = spec
    return out


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/ecs")
    dest = Path(__file__).with_name("ecs_fields.json")
    data = generate_ecs_fields(src)
    # One field per line keeps the file small and its diffs readable.
    rows = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in data["fields"].items())
    dest.write_text(f'{{"ecs_version": {json.dumps(data["ecs_version"])}, '
                    f'"field_sets": {json.dumps(data["field_sets"])},\n"fields": {{\n{rows}\n}}}}\n')
    print(f"wrote {dest}")
