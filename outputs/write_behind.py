"""Ordered write-behind on one thread, with group commit, for outputs that write local files.

Why not ``await asyncio.to_thread(write)`` per batch: while the event loop
parses, a worker thread waits up to the interpreter's switch interval (5 ms)
for the GIL before and after each system call. Awaited per batch, that
stalls the output for ~4 ms a batch, the batches behind it wait in the
channels, and by the time they are encoded their objects have gone cold in
the CPU caches: on the parse benchmark that cost a third of the run's CPU
time.

Here the output hands over encoded bytes and moves on; the batch's objects
are freed at once. One thread writes in submission order and takes
everything queued since its last round in one go (one write per file per
round), so GIL waits no longer scale with the number of batches. A batch's
``done`` callback runs on the loop (given the bytes written) only after its round's write (and flush,
and fsync if configured) has returned: acknowledgements stay honest. At
most ``max_bytes`` are queued; ``submit`` waits for room.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from logferry.agent.acks import AckStatus

if TYPE_CHECKING:
    from logferry.agent.acks import AckToken
    from logferry.agent.component import OutputContext
    from logferry.agent.event import Batch

Writes = list[tuple[str, bytes]]
WriteRound = Callable[[Writes], None]
Done = Callable[[int], None]  # called with the number of bytes written


def on_written(ctx: OutputContext, batch: Batch) -> Done:
    """The ``done`` callback for ``batch``: count it sent and settle its ack (holds the token, not the events)."""
    return functools.partial(_settle_written, ctx, batch.ack, len(batch))


def _settle_written(ctx: OutputContext, ack: AckToken | None, events: int, nbytes: int) -> None:
    ctx.metrics.sent(events, nbytes)
    if ack is not None:
        ack.settle(AckStatus.DELIVERED)


class _Item:
    __slots__ = ("done", "nbytes", "writes")

    def __init__(self, writes: Writes, done: Done) -> None:
        self.writes = writes
        self.done = done
        self.nbytes = sum(len(d) for _, d in writes)


class WriteBehind:
    """A writer thread fed in order; ``write_round`` gets every (path, bytes) queued since the last round."""

    def __init__(self, write_round: WriteRound, *, max_bytes: int = 16 << 20, name: str = "write-behind") -> None:
        self._write_round = write_round
        self._max_bytes = max_bytes
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._queued_bytes = 0
        self._in_flight = 0
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(self, writes: Writes, done: Done) -> None:
        """Queue ``writes``; ``done(nbytes)`` runs on the loop once they are written. Raises a failed round's error."""
        item = _Item(writes, done)
        while self._error is None and self._in_flight and self._queued_bytes + item.nbytes > self._max_bytes:
            self._room.clear()
            await self._room.wait()
        self._raise_error()
        self._queued_bytes += item.nbytes
        self._in_flight += 1
        self._idle.clear()
        self._queue.put(item)

    async def drain(self) -> None:
        """Wait until everything submitted is written; raises a failed round's error."""
        await self._idle.wait()
        self._raise_error()

    async def close(self, final: Callable[[], None] | None = None) -> None:
        """Stop the thread after the queued rounds, then run ``final`` on it (closing files); no error raised."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        if final is not None:
            await asyncio.to_thread(final)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            items = [first]
            stop = False
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            error: BaseException | None = None
            if self._error is None:
                try:
                    self._write_round([w for item in items for w in item.writes])
                except Exception as exc:  # noqa: BLE001 - handed to the loop, where the output task raises it
                    error = exc
            self._loop.call_soon_threadsafe(self._finished, items, error)
            if stop:
                return

    def _finished(self, items: list[_Item], error: BaseException | None) -> None:
        if error is not None and self._error is None:
            self._error = error
        for item in items:
            self._queued_bytes -= item.nbytes
            self._in_flight -= 1
            if self._error is None:
                item.done(item.nbytes)
        self._room.set()
        if not self._in_flight:
            self._idle.set()
