"""Small types the disk buffer keeps its bookkeeping in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logferry.agent.acks import AckToken, OrderedAcks


def default_segment_bytes(max_size_bytes: int) -> int:
    """A segment is an eighth of the buffer (so space frees in steps), between 1 and 128 MiB."""
    return max(1 << 20, min(128 << 20, max_size_bytes // 8))


@dataclass
class SegmentState:
    size: int
    header_bytes: int  # 0: the header is damaged, the segment is skipped whole
    key_id: str | None


@dataclass(slots=True)
class PendingRecord:
    payload: bytes
    events: int
    ms: int
    ack: AckToken | None
    size: int


@dataclass(frozen=True)
class BufferStats:
    bytes: int
    records: int
    events: int
    replayed_records: int
    corrupt_records: int
    dropped_events: int
    truncated_bytes: int


class NotifyingAcks(OrderedAcks):
    """``OrderedAcks`` that also reports every settled token (advancing or not, e.g. an ERRORED one that
    blocks the stream), so the reader can wait until all are back."""

    def __init__(self, on_advance: Callable[[Any], None], on_settled: Callable[[], None]) -> None:
        super().__init__(on_advance)
        self._notify = on_settled

    def _on_settled(self) -> None:
        super()._on_settled()
        self._notify()
