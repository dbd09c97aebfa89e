"""End-to-end acknowledgements: one token per source batch, settled by outputs.

A source opens a token per batch it reads (``OrderedAcks.open``). Every copy
of the batch that travels on (fan-out, a route split) holds one reference,
taken with ``retain``. Whoever finishes with a reference settles it: an output
after delivery, a transform that drops the whole batch, a buffer once the
record is durable. When the last reference settles, ``OrderedAcks`` moves
the source position over the longest prefix of settled batches, in read
order, and calls the source back with it.

Pure bookkeeping: no I/O, no event loop. Everything runs on the loop thread.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import Any


class AckStatus(enum.IntEnum):
    """Final state of a batch; when references disagree the highest wins.

    ERRORED outranks REJECTED on purpose: if one output rejected a batch
    (replaying cannot help) but another failed to deliver it, the checkpoint
    must stay put so the second output gets the lines again after a restart.
    """

    DELIVERED = 0
    REJECTED = 1
    ERRORED = 2


class AckToken:
    """Reference-counted acknowledgement for one source batch."""

    __slots__ = ("_refs", "status", "position", "_owner")

    def __init__(self, position: Any, owner: OrderedAcks | None, refs: int = 1) -> None:
        self._refs = refs
        self.status = AckStatus.DELIVERED
        self.position = position
        self._owner = owner

    @property
    def settled(self) -> bool:
        return self._refs == 0

    def retain(self, n: int = 1) -> None:
        """Take ``n`` more references (a batch copied or split for more consumers)."""
        if self._refs <= 0:
            raise RuntimeError("retain() on a settled ack token")
        self._refs += n

    def settle(self, status: AckStatus = AckStatus.DELIVERED) -> None:
        """Give back one reference with its outcome."""
        if self._refs <= 0:
            raise RuntimeError("ack token settled more often than it was retained")
        if status > self.status:
            self.status = status
        self._refs -= 1
        if self._refs == 0 and self._owner is not None:
            self._owner._on_settled()


class OrderedAcks:
    """Tracks the tokens of one ordered stream (one file) and reports the settled prefix.

    ``on_advance(position)`` is called with the position of the last batch of
    the longest settled prefix. An ERRORED batch stops the stream for the rest
    of this run: its lines will be read again after a restart.
    """

    def __init__(self, on_advance: Callable[[Any], None]) -> None:
        self._pending: deque[AckToken] = deque()
        self._on_advance = on_advance
        self.blocked = False
        self.rejected_batches = 0

    def open(self, position: Any, refs: int = 1) -> AckToken:
        token = AckToken(position, self, refs)
        self._pending.append(token)
        return token

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _on_settled(self) -> None:
        if self.blocked:
            return
        advanced = None
        pending = self._pending
        while pending and pending[0].settled:
            token = pending.popleft()
            if token.status == AckStatus.ERRORED:
                self.blocked = True
                break
            if token.status == AckStatus.REJECTED:
                self.rejected_batches += 1
            advanced = token
        if advanced is not None:
            self._on_advance(advanced.position)


def settle_all(tokens: dict[AckToken, int], status: AckStatus) -> None:
    """Settle each token as often as it is counted (an output's request tally)."""
    for token, n in tokens.items():
        for _ in range(n):
            token.settle(status)
