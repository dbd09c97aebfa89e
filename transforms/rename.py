"""The `rename` transform: move fields to new paths (flat or nested sources, see ``fields.py``).

    tidy:
      type: rename
      inputs: [parse_app]
      fields: {lvl: log.level, req_id: http.request.id}

A field that is absent is left alone. When the target already exists it is replaced, unless
``overwrite: false``, in which case the source field stays where it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from logferry.agent.component import EventTransform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Event
from logferry.transforms.fields import MISSING, FieldPath

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext


class RenameConfig(TransformConfig):
    fields: Annotated[dict[str, str], Meta(min_length=1, description="Old field path -> new field path.")]
    overwrite: Annotated[bool, Meta(description="Replace an existing value at the new path.")] = True

    def __post_init__(self) -> None:
        for old, new in self.fields.items():
            FieldPath(old)
            FieldPath(new)
            if old == new:
                raise ValueError(f"rename of {old!r} to itself")

    def build(self, ctx: BuildContext) -> Rename:
        return Rename(self.fields, self.overwrite)


class Rename(EventTransform):
    def __init__(self, fields: dict[str, str], overwrite: bool) -> None:
        self._pairs = [(FieldPath(a), FieldPath(b)) for a, b in fields.items()]
        self._overwrite = overwrite

    def transform_event(self, event: Event) -> Event:
        for old, new in self._pairs:
            if not self._overwrite and new.get(event) is not MISSING:
                continue
            value = old.delete(event)
            if value is not MISSING:
                new.set(event, value)
        return event
