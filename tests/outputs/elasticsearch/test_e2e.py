"""End to end: `logferry run` (a subprocess) tails a file into the es_wire server; SIGKILL mid-delivery loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers.es_wire import EsWireServer

REPO = Path(__file__).resolve().parents[3]


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


def _agent(cfg: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "logferry.agent", "run", *extra, "-c", str(cfg)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


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
        first = _agent(cfg)
        try:
            deadline = time.monotonic() + 30
            while es.state.count() < 600 and time.monotonic() < deadline and first.poll() is None:
                time.sleep(0.01)
            assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
            assert 0 < es.state.count() < 3000
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
            if first.stderr:
                first.stderr.close()
        written += _write(log, 3000, 2000)
        es.faults.delay_secs = 0.0
        second = _agent(cfg, "--once")
        try:
            _, err = second.communicate(timeout=60)
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
        assert second.returncode == 0, err.decode()[-2000:]
        docs = es.state.docs("logs-generic-default")
        assert len(docs) == len(written)
        assert sorted(d["message"] for d in docs) == sorted(written)
        assert es.state.stats.statuses.get(429, 0) > 0
