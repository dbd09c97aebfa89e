"""Helpers shared by the transform tests: decode a config like the loader does, build it, run a batch."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Batch, Event
from logferry.agent.telemetry import REGISTRY, ComponentMetrics

C = TypeVar("C", bound=TransformConfig)
_ids = itertools.count()


def decode(cls: type[C], body: dict[str, Any]) -> C:
    """The config struct, decoded from plain data with msgspec as the config loader does."""
    return msgspec.convert({"inputs": ["in"], **body}, cls)


def build(cfg: TransformConfig, host_name: str = "test-host") -> Transform:
    """A built transform with its own metrics labels (a fresh component id per call)."""
    cid = f"t{next(_ids)}_{cfg.type}"
    metrics = ComponentMetrics(cid, "transform", cfg.type)
    t = cfg.build(BuildContext(component_id=cid, data_dir=Path("/nonexistent"), host_name=host_name, metrics=metrics))
    t.metrics = metrics
    return t


def run(t: Transform, events: list[Event]) -> list[Event]:
    out = t.process(Batch.from_events(events))
    return [] if out is None else out.events


def dropped(t: Transform, reason: str) -> float:
    assert t.metrics is not None
    labels = {**t.metrics.labels, "reason": reason, "intentional": "true"}
    return REGISTRY.get_sample_value("logferry_component_discarded_events_total", labels) or 0.0
