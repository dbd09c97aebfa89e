"""The `remove` transform: delete fields from every event (flat and nested copies alike).

    slim:
      type: remove
      inputs: [parse_app]
      fields: [log.offset, ml.metric.dimensions.Level]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from logferry.agent.component import EventTransform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Event
from logferry.transforms.fields import FieldPath

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext


class RemoveConfig(TransformConfig):
    fields: Annotated[list[str], Meta(min_length=1, description="Field paths to delete.")]

    def __post_init__(self) -> None:
        for f in self.fields:
            FieldPath(f)

    def build(self, ctx: BuildContext) -> Remove:
        return Remove(self.fields)


class Remove(EventTransform):
    def __init__(self, fields: list[str]) -> None:
        self._paths = [FieldPath(f) for f in fields]

    def transform_event(self, event: Event) -> Event:
        for path in self._paths:
            path.delete(event)
        return event
