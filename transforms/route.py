"""The `route` transform: send events to named outputs by condition, the rest to ``_unmatched``.

    router:
      type: route
      inputs: [parse_app]
      routes:
        errors: 'log.level == "error" or exists(error.type)'
        oom: 'tags == "cuda_oom"'
    # consumers name an output as <id>.<route>:
    alerts:  {type: elasticsearch, inputs: [router.errors, router.oom], ...}
    archive: {type: s3, inputs: [router._unmatched], ...}

An event matching several routes goes to each of them (copies for the second and later matches, so a
consumer changing one copy does not change another). Every sub-batch keeps the source batch's
acknowledgement token; the transform runner takes one reference per non-empty sub-batch and settles
the token when none is left (``agent/topology/runners.py``), so this transform never touches acks.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Annotated

from msgspec import Meta

from logferry.agent.component import Transform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Batch, Event
from logferry.transforms.condition import Predicate, compile_condition

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext

UNMATCHED = "_unmatched"
_ROUTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class RouteConfig(TransformConfig):
    routes: Annotated[dict[str, str], Meta(min_length=1, description=(
        "Route name -> condition. Consumers read a route as `<this id>.<route name>`; "
        "events matching no route go to `<this id>._unmatched`."))]

    def __post_init__(self) -> None:
        for name, condition in self.routes.items():
            if not _ROUTE_NAME.fullmatch(name):
                raise ValueError(f"route name {name!r}: use letters, digits, '_' and '-', starting with a letter "
                                 f"or digit ({UNMATCHED!r} is reserved)")
            try:
                compile_condition(condition)
            except ValueError as exc:
                raise ValueError(f"route {name!r}: {exc}") from None

    def output_names(self) -> tuple[str, ...]:
        return (*self.routes, UNMATCHED)

    def build(self, ctx: BuildContext) -> Route:
        return Route({name: compile_condition(c) for name, c in self.routes.items()})


class Route(Transform):
    def __init__(self, routes: dict[str, Predicate]) -> None:
        self._routes = list(routes.items())
        self.named_outputs = (*routes, UNMATCHED)

    def process(self, batch: Batch) -> Batch | None:
        """Not used by the runner (it calls ``route``); passes the batch through unchanged."""
        return batch

    def route(self, batch: Batch) -> list[tuple[str | None, Batch]]:
        buckets: dict[str, list[Event]] = {name: [] for name in self.named_outputs}
        unmatched = buckets[UNMATCHED]
        routes = self._routes
        for event in batch.events:
            matched = False
            for name, pred in routes:
                if pred(event):
                    buckets[name].append(copy.deepcopy(event) if matched else event)
                    matched = True
            if not matched:
                unmatched.append(event)
        return [(name, Batch.from_events(events, ack=batch.ack)) for name, events in buckets.items() if events]
