"""Run a built topology: one TaskGroup owns every component task.

Stopping is cooperative: ``request_stop`` tells sources to stop; each closes
its channels, transforms drain and close theirs, outputs finish in-flight
work and return. Only when that takes longer than the graceful limit are the
tasks cancelled. Checkpoints are written last, after every output is done,
so they never claim more than was delivered.
"""

from __future__ import annotations

import asyncio
import logging

from logferry.agent.topology.builder import BuiltTopology
from logferry.agent.topology.runners import run_source, run_transform

log = logging.getLogger("logferry.topology")


class RunningTopology:
    def __init__(self, built: BuiltTopology) -> None:
        self.built = built
        self._task: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()

    async def healthchecks(self) -> None:
        """Probe every output once; a failing one is marked unhealthy (it retries on its own)."""
        for o in self.built.outputs:
            try:
                async with asyncio.timeout(30):
                    await o.output.healthcheck()
                o.ctx.health.ok()
            except Exception as exc:  # reported, not fatal: data waits in the buffer
                o.ctx.health.fail(str(exc))
                log.error("Health check failed; events will wait until the output recovers.",
                          extra={"component_id": o.id, "error": str(exc)})

    async def run(self) -> None:
        """Run until every component has finished (after ``request_stop``, or at EOF with ``--once``)."""
        b = self.built
        try:
            async with asyncio.TaskGroup() as tg:
                for o in b.outputs:
                    tg.create_task(o.output.run(o.ctx), name=f"output:{o.id}")
                    if o.buffer is not None:
                        tg.create_task(o.buffer.run(), name=f"buffer:{o.id}")
                for t in b.transforms:
                    tg.create_task(run_transform(t.id, t.transform, t.inbox, t.fanouts, t.metrics),
                                   name=f"transform:{t.id}")
                for s in b.sources:
                    tg.create_task(run_source(s.source, s.ctx), name=f"source:{s.id}")
        finally:
            # Shielded: a cancelled shutdown must still persist what was delivered.
            await asyncio.shield(self._finalize())
            self.finished.set()

    async def _finalize(self) -> None:
        for s in self.built.sources:
            try:
                await s.source.finalize()
            except Exception as exc:
                log.error("Could not write the final checkpoint; lines since the last one will be re-sent.",
                          extra={"component_id": s.id, "error": repr(exc)})

    def request_stop(self) -> None:
        self.built.shutdown.set()

    async def stop(self, graceful_secs: float) -> bool:
        """Stop and wait; returns False when the graceful limit ran out and tasks were cancelled."""
        self.request_stop()
        if self._task is None:
            return True
        try:
            async with asyncio.timeout(graceful_secs):
                await asyncio.shield(self._task)
            return True
        except TimeoutError:
            log.error("Graceful shutdown limit reached; cancelling. Undelivered lines will be re-read at start.",
                      extra={"graceful_secs": graceful_secs})
            self._task.cancel()
            await asyncio.wait([self._task])
            return False

    def start(self, tg: asyncio.TaskGroup) -> asyncio.Task[None]:
        self._task = tg.create_task(self.run(), name="topology")
        return self._task
