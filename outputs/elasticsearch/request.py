"""A bulk request: the input batches it carries, their encoded items, and which items are still open.

Pure bookkeeping. Every item ends in exactly one final state (delivered, or rejected into the DLQ);
an input batch's ack is settled once all of its items are final: DELIVERED, or REJECTED if any of
them went to the DLQ. ``abandon`` settles whatever is still open as ERRORED (shutdown gave up), which
stops the source checkpoint so the lines are read again after a restart.
"""

from __future__ import annotations

from logferry.agent.acks import AckStatus
from logferry.agent.component import settle
from logferry.agent.event import Batch, Event
from logferry.outputs.elasticsearch.encoder import (
    BulkEncoder,
    EncodedItem,
    EncodeFailure,
)


class BulkRequest:
    __slots__ = (
        "batches",
        "dead_lettered",
        "delivered",
        "encode_failures",
        "events",
        "items",
        "open_items",
        "owner",
        "pending",
        "rejected",
    )

    def __init__(self, batches: list[Batch], events: list[Event], items: list[EncodedItem | EncodeFailure],
                 owner: list[int]) -> None:
        self.batches = batches
        self.events = events
        self.items = items
        self.owner = owner
        self.open_items = [0] * len(batches)
        for b in owner:
            self.open_items[b] += 1
        self.rejected = [False] * len(batches)
        #: Item indices to send in the next attempt.
        self.pending = [i for i, it in enumerate(items) if isinstance(it, EncodedItem)]
        #: Item indices that could not be encoded: they go to the DLQ without a round trip.
        self.encode_failures = [i for i, it in enumerate(items) if isinstance(it, EncodeFailure)]
        self.delivered = 0
        self.dead_lettered = 0
        # Batches without events have nothing to wait for.
        for b, n in enumerate(self.open_items):
            if n == 0:
                settle(batches[b], AckStatus.DELIVERED)

    @classmethod
    def build(cls, batches: list[Batch], encoder: BulkEncoder) -> BulkRequest:
        events: list[Event] = []
        owner: list[int] = []
        for b, batch in enumerate(batches):
            evs = batch.events
            events.extend(evs)
            owner.extend([b] * len(evs))
        return cls(batches, events, encoder.encode(events), owner)

    def body(self, indices: list[int] | None = None) -> bytes:
        items = self.items
        return b"".join([items[i].data for i in (self.pending if indices is None else indices)])  # type: ignore[union-attr]

    def index_of(self, i: int) -> str:
        return self.items[i].index

    @property
    def done(self) -> bool:
        return not any(self.open_items)

    def finish(self, i: int, status: AckStatus) -> None:
        """Item ``i`` reached its final state (DELIVERED or REJECTED)."""
        b = self.owner[i]
        if status == AckStatus.REJECTED:
            self.rejected[b] = True
            self.dead_lettered += 1
        else:
            self.delivered += 1
        self.open_items[b] -= 1
        if self.open_items[b] == 0:
            settle(self.batches[b], AckStatus.REJECTED if self.rejected[b] else AckStatus.DELIVERED)

    def finish_delivered(self, indices: list[int]) -> None:
        """Many items delivered at once (the common case): one pass, one settle per finished batch."""
        owner = self.owner
        per_batch: dict[int, int] = {}
        for i in indices:
            b = owner[i]
            per_batch[b] = per_batch.get(b, 0) + 1
        self.delivered += len(indices)
        for b, n in per_batch.items():
            self.open_items[b] -= n
            if self.open_items[b] == 0:
                settle(self.batches[b], AckStatus.REJECTED if self.rejected[b] else AckStatus.DELIVERED)

    def abandon(self) -> int:
        """Settle every batch that still has open items as ERRORED; returns how many items were open."""
        left = 0
        for b, n in enumerate(self.open_items):
            if n:
                left += n
                self.open_items[b] = 0
                settle(self.batches[b], AckStatus.ERRORED)
        self.pending = []
        return left
