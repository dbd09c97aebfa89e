"""The agent's own metrics (Prometheus) and logs (JSON lines on stderr).

Metric names follow Vector's component spec. Counters are bumped once per
batch, never per event. Metrics outlive a reload: the registry is process
wide and metric objects are created on first use, so a rebuilt pipeline
keeps counting where the old one stopped.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from logferry.agent.timeutil import iso_utc

REGISTRY = CollectorRegistry(auto_describe=True)
_METRICS: dict[str, Any] = {}

_COMPONENT_LABELS = ("component_id", "component_kind", "component_type")


def _metric(kind: type, name: str, doc: str, labels: tuple[str, ...], **kw: Any) -> Any:
    """The metric called ``name``, created on first use (the first caller's ``doc`` and ``labels`` stay)."""
    m = _METRICS.get(name)
    if m is None:
        m = _METRICS[name] = kind(name, doc, labels, registry=REGISTRY, **kw)
    return m


def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    return _metric(Counter, name, doc, labels)  # type: ignore[no-any-return]


def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
    return _metric(Gauge, name, doc, labels)  # type: ignore[no-any-return]


def histogram(name: str, doc: str, labels: tuple[str, ...] = (), buckets: tuple[float, ...] | None = None) -> Histogram:
    return _metric(Histogram, name, doc, labels, **({"buckets": buckets} if buckets else {}))  # type: ignore[no-any-return]


def render() -> bytes:
    """The Prometheus text exposition of every metric."""
    return generate_latest(REGISTRY)


class ComponentMetrics:
    """Counters for one component, bound to its labels once at build time."""

    def __init__(self, component_id: str, kind: str, type_name: str) -> None:
        lv = (component_id, kind, type_name)
        self.labels = dict(zip(_COMPONENT_LABELS, lv))
        self._received = counter("logferry_component_received_events_total",
                                 "Events a component received.", _COMPONENT_LABELS).labels(*lv)
        self._received_bytes = counter("logferry_component_received_bytes_total",
                                       "Bytes a component received.", _COMPONENT_LABELS).labels(*lv)
        self._sent = counter("logferry_component_sent_events_total",
                             "Events a component sent on.", _COMPONENT_LABELS).labels(*lv)
        self._sent_bytes = counter("logferry_component_sent_bytes_total",
                                   "Bytes a component wrote or sent.", _COMPONENT_LABELS).labels(*lv)
        self._dropped = counter("logferry_component_discarded_events_total",
                                "Events a component dropped, by reason.", _COMPONENT_LABELS + ("reason", "intentional"))
        self._errors = counter("logferry_component_errors_total",
                               "Errors a component met, by type and stage.", _COMPONENT_LABELS + ("error_type", "stage"))
        self._lv = lv

    def received(self, events: int, nbytes: int = 0) -> None:
        self._received.inc(events)
        if nbytes:
            self._received_bytes.inc(nbytes)

    def sent(self, events: int, nbytes: int = 0) -> None:
        self._sent.inc(events)
        if nbytes:
            self._sent_bytes.inc(nbytes)

    def dropped(self, events: int, reason: str, intentional: bool = True) -> None:
        if events:
            self._dropped.labels(*self._lv, reason, "true" if intentional else "false").inc(events)

    def error(self, error_type: str, stage: str = "processing", n: int = 1) -> None:
        self._errors.labels(*self._lv, error_type, stage).inc(n)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    _RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": iso_utc(int(record.created), int(record.msecs)),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        for k, v in record.__dict__.items():
            if k not in self._RESERVED and not k.startswith("_"):
                out[k] = v
        out["message"] = record.getMessage()
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(level: str = "info") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
