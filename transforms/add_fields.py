"""The `add_fields` transform: set static values, environment variables and the host name on every event.

Typical use: ``service.name``, a model name and version, the deployment environment::

    enrich:
      type: add_fields
      inputs: [parse_app]
      fields: {service.name: llm-api, ml.model.name: llama-3-8b, ml.model.version: "3"}
      env: {service.environment: DEPLOY_ENV}     # field -> environment variable, read once at start
      host_name_field: host.name                  # the agent's host name

Values are static: environment variables and the host name are read when the pipeline is built,
not per event. ``${VAR}`` in the config text is also expanded by the config loader.
"""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

from msgspec import Meta

from logferry.agent.component import EventTransform
from logferry.agent.config.common import TransformConfig
from logferry.agent.errors import BuildError
from logferry.agent.event import Event
from logferry.transforms.fields import MISSING, FieldPath

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext


class AddFieldsConfig(TransformConfig):
    fields: Annotated[dict[str, Any], Meta(description=(
        "Field path -> static value (string, number, bool, null, list or map)."))] = {}
    env: Annotated[dict[str, str], Meta(description=(
        "Field path -> name of an environment variable whose value (read at start) is set."))] = {}
    env_missing: Annotated[Literal["error", "skip"], Meta(description=(
        "What to do when a variable in `env` is not set: `error` (refuse to start) or `skip` the field."))] = "error"
    host_name_field: Annotated[str | None, Meta(description=(
        "Field path that receives the agent's host name, e.g. `host.name`."))] = None
    overwrite: Annotated[bool, Meta(description=(
        "Replace a value the event already has; when false, existing fields are kept."))] = True

    def __post_init__(self) -> None:
        names = [*self.fields, *self.env, *([self.host_name_field] if self.host_name_field else [])]
        if not names:
            raise ValueError("add_fields needs at least one of `fields`, `env`, `host_name_field`")
        for name in names:
            FieldPath(name)  # raises ValueError naming the bad path
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"field set twice: {', '.join(sorted(dup))}")

    def build(self, ctx: BuildContext) -> AddFields:
        values: dict[str, Any] = dict(self.fields)
        for field, var in self.env.items():
            value = os.environ.get(var)
            if value is None:
                if self.env_missing == "error":
                    raise BuildError(f"{ctx.component_id}: environment variable {var!r} (for field {field!r}) is not set")
                continue
            values[field] = value
        if self.host_name_field:
            values[self.host_name_field] = ctx.host_name
        return AddFields(values, self.overwrite)


class AddFields(EventTransform):
    def __init__(self, values: dict[str, Any], overwrite: bool) -> None:
        self._items = [(FieldPath(k), v, isinstance(v, (dict, list))) for k, v in values.items()]
        self._overwrite = overwrite

    def transform_event(self, event: Event) -> Event:
        for path, value, mutable in self._items:
            if not self._overwrite and path.get(event) is not MISSING:
                continue
            # lists and maps are copied so a later transform changing one event does not change the others
            path.set(event, copy.deepcopy(value) if mutable else value)
        return event
