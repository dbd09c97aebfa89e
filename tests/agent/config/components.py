"""Small config classes registered only by tests, so loader tests do not depend on real components."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from logferry.agent.config.common import OutputConfig, SourceConfig, Strict, TransformConfig


class BatchCfg(Strict):
    max_events: Annotated[int, Meta(gt=0)] = 500
    max_bytes: Annotated[int, Meta(gt=0)] = 5_000_000
    timeout_secs: Annotated[float, Meta(gt=0)] = 1.0


class DemoSourceConfig(SourceConfig, kw_only=True):
    """A source reading files."""

    include: Annotated[list[str], Meta(min_length=1)]
    read_from: Literal["beginning", "end"] = "end"
    max_line_bytes: Annotated[int, Meta(gt=0)] = 102_400


class DemoTransformConfig(TransformConfig, kw_only=True):
    field: str = "message"


class DemoRouteConfig(TransformConfig, kw_only=True):
    routes: dict[str, str]

    def output_names(self) -> tuple[str, ...]:
        return tuple(self.routes)


class DemoOutputConfig(OutputConfig, kw_only=True):
    endpoint: str
    batch: BatchCfg = BatchCfg()
    labels: dict[str, int] = {}

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("http://", "https://")):
            raise ValueError("endpoint must start with http:// or https://")


class BrokenOutputConfig(OutputConfig, kw_only=True):
    """A class msgspec refuses: constraints on an optional type."""

    limit: Annotated[int | None, Meta(gt=0)] = None
