"""The `filter` transform: keep the events matching a condition, drop (and count) the rest.

    errors_only:
      type: filter
      inputs: [parse_app]
      condition: 'log.level in ["error", "critical"] or exists(error.type)'

The condition language is described in ``logferry.transforms.condition``. Dropped events are
counted as ``events_dropped{reason="filtered"}`` and their acknowledgement counts as delivered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from logferry.agent.component import Transform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Batch
from logferry.transforms.condition import Predicate, compile_condition

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext


class FilterConfig(TransformConfig):
    condition: Annotated[str, Meta(min_length=1, description=(
        "Events for which this condition is true are kept, e.g. `ml.loss > 10 or log.level == \"error\"`."))]

    def __post_init__(self) -> None:
        compile_condition(self.condition)  # ConditionError (a ValueError) names the column

    def build(self, ctx: BuildContext) -> Filter:
        return Filter(compile_condition(self.condition))


class Filter(Transform):
    def __init__(self, predicate: Predicate) -> None:
        self._predicate = predicate

    def process(self, batch: Batch) -> Batch | None:
        keep = [e for e in batch.events if self._predicate(e)]
        return self.drop_events(batch, keep, "filtered")
