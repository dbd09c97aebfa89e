"""End to end: `logferry run` (a subprocess) tails a file into the es_wire server; SIGKILL mid-delivery loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.es_wire import EsWireServer
from tests.support.agent import AgentProcess


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "logferry.yaml"
    cfg.write_text(f"""
data_dir: {tmp_path / "data"}
api: {{enabled: false}}
sources:
  app: {{type: file, include: ["{tmp_path}/logs/*.log"], read_from: beginning}}
outputs:
  es:
    type: elasticsearch
    inputs: [app]
    endpoints: ["{url}"]
    batch: {{max_events: 100, timeout_secs: 0.05}}
    request: {{concurrency: 4, retry_initial_backoff_secs: 0.01, retry_max_backoff_secs: 0.1}}
""")
    return cfg


def _write(path: Path, start: int, n: int) -> list[str]:
    lines = [f"2026-05-01 12:00:{i % 60:02d},000 INFO trainer: step {i} loss=0.{i:04d}" for i in range(start, start + n)]
    with path.open("a") as f:
        f.write("\n".join(lines) + "\n")
    return lines


@pytest.mark.slow
class TestCrashRecovery:
    def test_sigkill_and_restart_gives_exact_count(self, es: EsWireServer, tmp_path: Path) -> None:
        """After SIGKILL mid-delivery and a restart, ES holds exactly the lines written: no gaps, no duplicates."""
        (tmp_path / "logs").mkdir()
        log = tmp_path / "logs" / "app.log"
        written = _write(log, 0, 3000)
        es.faults.delay_secs = 0.02          # keep requests in flight when the kill lands
        es.faults.item_429_every = 11        # and some items waiting for a retry
        cfg = _config(tmp_path, es.url)
        with AgentProcess(cfg) as first:
            first.wait_until(lambda: es.state.count() >= 600, timeout=30)
            assert first.proc.poll() is None, first.stderr()
            assert 0 < es.state.count() < 3000
            first.kill()
        written += _write(log, 3000, 2000)
        es.faults.delay_secs = 0.0
        with AgentProcess(cfg, "--once") as second:
            assert second.wait(60) == 0, second.stderr()[-2000:]
        docs = es.state.docs("logs-generic-default")
        assert len(docs) == len(written)
        assert sorted(d["message"] for d in docs) == sorted(written)
        assert es.state.stats.statuses.get(429, 0) > 0
