"""Run the real agent as a subprocess for end-to-end tests: one-shot commands and long-running ``logferry run``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

REPO = Path(__file__).resolve().parents[2]


def logferry(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
             **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a logferry command to its end and capture its output (``kw`` goes to ``subprocess.run``, e.g. ``input``)."""
    return subprocess.run([sys.executable, "-m", "logferry.agent", *args], check=False, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})}, **kw)


class AgentProcess:
    """A running ``logferry run`` with helpers to signal it, feed it and wait for its output.

    Use it as a context manager (or call ``close``) so an agent a failed test left running is killed.
    """

    def __init__(self, config: Path, *extra: str, stdin: int | IO[Any] | None = subprocess.DEVNULL,
                 env: dict[str, str] | None = None) -> None:
        self.stderr_path = config.parent / f"agent-{time.monotonic_ns()}.stderr"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "logferry.agent", "run", "-c", str(config), "--graceful-secs", "20", *extra],
            stdin=stdin, stdout=subprocess.DEVNULL, stderr=self._stderr,
            env={**os.environ, **(env or {})},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Kill the agent if it still runs; release its pipes and files."""
        if self.proc.poll() is None:
            self.kill()
        else:
            self.wait()

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.wait(10)

    def wait(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._stderr.close()
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                self.proc.stdin.close()

    def feed(self, data: bytes) -> None:
        """Write ``data`` to the agent's stdin (started with ``stdin=subprocess.PIPE``) and flush it."""
        assert self.proc.stdin is not None, "the agent was not started with stdin=subprocess.PIPE"
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def end_input(self) -> None:
        """Close the agent's stdin: the stdin source sees the end of its input."""
        assert self.proc.stdin is not None, "the agent was not started with stdin=subprocess.PIPE"
        self.proc.stdin.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60, poll_secs: float = 0.01) -> None:
        """Poll ``condition`` until it holds, the agent exits or ``timeout`` passes; the caller asserts what it needs."""
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(poll_secs)

    def wait_for_log(self, needle: str, timeout: float = 20, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stderr().count(needle) >= count:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited ({self.proc.returncode}) before logging {needle!r}:\n{self.stderr()}")
            time.sleep(0.05)
        raise AssertionError(f"agent did not log {needle!r} within {timeout}s:\n{self.stderr()}")


def wait_for_lines(path: Path, n: int, timeout: float = 30) -> list[str]:
    """Wait until ``path`` holds at least ``n`` lines; return them."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text(errors="replace").splitlines()
            if len(lines) >= n:
                return lines
        time.sleep(0.05)
    raise AssertionError(f"{path} has {len(lines)} lines, expected {n}")
