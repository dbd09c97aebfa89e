"""Prometheus metrics of an output's buffer, bound to its labels once.

Gauges for what is held (bytes, events, age of the oldest record) and
counters for what went through, was replayed after a restart, or was
skipped as corrupt. Pushed/popped counter pairs follow Vector's buffer
metrics (``buffer_received_events_total`` / ``buffer_sent_events_total``).
"""

from __future__ import annotations

from collections.abc import Callable

from logferry.agent.telemetry import counter, gauge

_LABELS = ("component_id", "buffer_type")


class BufferMetrics:
    def __init__(self, component_id: str, buffer_type: str) -> None:
        lv = (component_id, buffer_type)
        self.byte_size = gauge("logferry_buffer_byte_size", "Bytes the buffer holds on disk.", _LABELS).labels(*lv)
        self.events = gauge("logferry_buffer_events", "Events in the buffer not yet acknowledged by the output.",
                            _LABELS).labels(*lv)
        self._oldest_age = gauge("logferry_buffer_oldest_record_age_seconds",
                                 "Age of the oldest record not yet acknowledged (0 when none).", _LABELS).labels(*lv)
        self._received = counter("logferry_buffer_received_events_total", "Events written into the buffer.",
                                 _LABELS).labels(*lv)
        self._sent = counter("logferry_buffer_sent_events_total", "Events read from the buffer for the output.",
                             _LABELS).labels(*lv)
        self._replayed_records = counter("logferry_buffer_replayed_records_total",
                                         "Records read again after a restart (written by an earlier run).",
                                         _LABELS).labels(*lv)
        self._replayed_events = counter("logferry_buffer_replayed_events_total",
                                        "Events read again after a restart.", _LABELS).labels(*lv)
        self._corrupt = counter("logferry_buffer_corrupt_records_total",
                                "Damaged records (or regions) skipped, by reason.", _LABELS + ("reason",))
        self._lv = lv

    def oldest_age(self, fn: Callable[[], float]) -> None:
        """Compute the oldest record's age when scraped."""
        self._oldest_age.set_function(fn)

    def received(self, events: int) -> None:
        self._received.inc(events)

    def sent(self, events: int) -> None:
        self._sent.inc(events)

    def replayed(self, records: int, events: int) -> None:
        self._replayed_records.inc(records)
        self._replayed_events.inc(events)

    def corrupt(self, reason: str) -> None:
        """One damaged record (or region) skipped."""
        self._corrupt.labels(*self._lv, reason).inc()
