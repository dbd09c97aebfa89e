"""The agent process: load, build, run, reload on SIGHUP, drain on SIGTERM.

Reload follows Vector: the new file is loaded and built first; only if that
works is the old pipeline drained and the new one started. A broken new file
is logged and the old pipeline keeps running untouched.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from logferry.agent.api import ApiServer
from logferry.agent.component import Health
from logferry.agent.config.load import load_config
from logferry.agent.errors import BuildError, ConfigError
from logferry.agent.runtime_tuning import tune_gc
from logferry.agent.systemd import SystemdNotifier
from logferry.agent.topology.builder import BuiltTopology, build_topology
from logferry.agent.topology.running import RunningTopology

log = logging.getLogger("logferry.agent")


class Agent:
    def __init__(self, config_path: str, *, once: bool = False, graceful_secs: float = 60.0,
                 notifier: SystemdNotifier | None = None) -> None:
        self.config_path = config_path
        self.once = once
        self.graceful_secs = graceful_secs
        self.notifier = notifier or SystemdNotifier.from_env()
        self._signals: asyncio.Queue[signal.Signals] = asyncio.Queue()
        self._current: RunningTopology | None = None
        self.api: ApiServer | None = None

    def _healths(self) -> dict[str, Health]:
        return self._current.built.healths() if self._current else {}

    def _build(self) -> BuiltTopology:
        cfg = load_config(self.config_path)
        for w in cfg.warnings:
            log.warning(w)
        Path(cfg.data_dir).mkdir(parents=True, exist_ok=True)
        return build_topology(cfg, once=self.once)

    async def run(self) -> int:
        """Exit status: 0 after a clean stop, 1 when the graceful limit forced a cancel."""
        built = self._build()  # ConfigError / BuildError propagate to the CLI before anything starts
        tune_gc()  # after the first build: what start-up made stays for the life of the process
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self._signals.put_nowait, sig)
        api_cfg = built.config.api
        if api_cfg.enabled:
            self.api = ApiServer(api_cfg.address, self._healths)
            await self.api.start()
        clean = True
        try:
            async with asyncio.TaskGroup() as tg:
                watchdog = tg.create_task(self.notifier.watchdog_loop(), name="watchdog")
                clean = await self._supervise(tg, built)
                watchdog.cancel()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if self.api is not None:
                await self.api.close()
        return 0 if clean else 1

    async def _supervise(self, tg: asyncio.TaskGroup, built: BuiltTopology) -> bool:
        current = await self._start(tg, built)
        self.notifier.ready(status="pipeline running")
        log.info("Pipeline started.", extra={"config": self.config_path,
                                             "sources": len(built.sources), "outputs": len(built.outputs)})
        while True:
            sig_task = asyncio.ensure_future(self._signals.get())
            done_task = asyncio.ensure_future(current.finished.wait())
            done, _ = await asyncio.wait({sig_task, done_task}, return_when=asyncio.FIRST_COMPLETED)
            if done_task not in done:
                done_task.cancel()
            if sig_task not in done:
                sig_task.cancel()
                # The pipeline ended by itself (--once at end of input, or every source stopped).
                return True
            sig = sig_task.result()
            if sig == signal.SIGHUP:
                current = await self._reload(tg, current)
                continue
            self.notifier.stopping()
            log.info("Stopping: draining the pipeline.", extra={"signal": sig.name,
                                                                "graceful_secs": self.graceful_secs})
            stop = asyncio.ensure_future(current.stop(self.graceful_secs))
            second = asyncio.ensure_future(self._signals.get())
            done, _ = await asyncio.wait({stop, second}, return_when=asyncio.FIRST_COMPLETED)
            if stop in done:
                second.cancel()
                return stop.result()
            log.warning("Second signal: stopping now without waiting for in-flight work.")
            stop.cancel()
            return await current.stop(0.001)

    async def _start(self, tg: asyncio.TaskGroup, built: BuiltTopology) -> RunningTopology:
        running = RunningTopology(built)
        await running.healthchecks()
        running.start(tg)
        self._current = running
        return running

    async def _reload(self, tg: asyncio.TaskGroup, current: RunningTopology) -> RunningTopology:
        self.notifier.reloading()
        try:
            new_built = self._build()
        except (ConfigError, BuildError) as exc:
            log.error("Reload refused: the new config is invalid; the running pipeline is unchanged.",
                      extra={"config": self.config_path, "errors": str(exc)})
            self.notifier.ready(status="reload refused: invalid config")
            return current
        log.info("Reloading: draining the old pipeline.", extra={"config": self.config_path})
        await current.stop(self.graceful_secs)
        running = await self._start(tg, new_built)
        self.notifier.ready(status="pipeline reloaded")
        log.info("Pipeline reloaded.", extra={"config": self.config_path})
        return running
