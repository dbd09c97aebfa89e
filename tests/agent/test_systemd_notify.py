"""sd_notify messages: the notifier against a datagram socket the test owns, then the real agent process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from logferry.agent.systemd import SystemdNotifier

REPO = Path(__file__).resolve().parents[2]
DEADLINE_SECS = 30.0  # a hang guard, not a speed assertion


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    """A bound AF_UNIX datagram socket in a short /tmp dir (sun_path holds 108 bytes)."""
    with tempfile.TemporaryDirectory(prefix="lfn", dir="/tmp") as d:
        path = os.path.join(d, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(DEADLINE_SECS)
        try:
            yield sock, path
        finally:
            sock.close()


def recv_fields(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.split("\n"))


class TestSystemdNotifier:
    def test_absent_socket_is_noop(self) -> None:
        """Without NOTIFY_SOCKET the notifier is disabled, has no watchdog and sends nothing."""
        n = SystemdNotifier.from_env({"WATCHDOG_USEC": "1000000"})
        assert not n.enabled
        assert n.watchdog_interval_secs is None
        assert n.notify("READY=1") is False
        n.ready("x")
        n.stopping()

    async def test_watchdog_loop_returns_without_watchdog(self, notify_socket: tuple[socket.socket, str]) -> None:
        """With a socket but no WATCHDOG_USEC the heartbeat task ends at once instead of spinning."""
        _, path = notify_socket
        n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path})
        async with asyncio.timeout(DEADLINE_SECS):
            await n.watchdog_loop()
        assert n.watchdog_interval_secs is None

    def test_ready_with_status(self, notify_socket: tuple[socket.socket, str]) -> None:
        """ready() sends READY=1 and the STATUS line in one datagram."""
        sock, path = notify_socket
        n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path})
        n.ready("pipeline running")
        assert recv_fields(sock) == {"READY": "1", "STATUS": "pipeline running"}

    def test_status_cannot_inject_fields(self, notify_socket: tuple[socket.socket, str]) -> None:
        """A newline inside a status text does not become a READY=1 field of its own."""
        sock, path = notify_socket
        SystemdNotifier.from_env({"NOTIFY_SOCKET": path}).status("bad\nREADY=1")
        assert recv_fields(sock) == {"STATUS": "bad READY=1"}

    def test_reloading_carries_monotonic_stamp(self, notify_socket: tuple[socket.socket, str]) -> None:
        """reloading() sends RELOADING=1 with MONOTONIC_USEC taken from CLOCK_MONOTONIC now."""
        sock, path = notify_socket
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        SystemdNotifier.from_env({"NOTIFY_SOCKET": path}).reloading()
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        fields = recv_fields(sock)
        assert fields["RELOADING"] == "1"
        assert before <= int(fields["MONOTONIC_USEC"]) <= after

    def test_stopping(self, notify_socket: tuple[socket.socket, str]) -> None:
        """stopping() sends STOPPING=1."""
        sock, path = notify_socket
        SystemdNotifier.from_env({"NOTIFY_SOCKET": path}).stopping()
        assert recv_fields(sock)["STOPPING"] == "1"

    def test_abstract_socket_address(self) -> None:
        """An '@name' NOTIFY_SOCKET reaches the abstract-namespace socket of that name."""
        name = f"logferry-test-{os.getpid()}-{time.monotonic_ns()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind("\0" + name)
            sock.settimeout(DEADLINE_SECS)
            SystemdNotifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
            assert recv_fields(sock) == {"READY": "1"}

    def test_watchdog_interval_is_half_the_period(self, notify_socket: tuple[socket.socket, str]) -> None:
        """WATCHDOG_USEC=200000 gives a 0.1 s heartbeat, as sd_watchdog_enabled(3) advises."""
        _, path = notify_socket
        n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        assert n.watchdog_interval_secs == pytest.approx(0.1)

    def test_watchdog_for_another_pid_is_ignored(self, notify_socket: tuple[socket.socket, str]) -> None:
        """A WATCHDOG_PID naming another process (we are a child) disables the heartbeat."""
        _, path = notify_socket
        env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid() + 1)}
        assert SystemdNotifier.from_env(env).watchdog_interval_secs is None
        env["WATCHDOG_PID"] = str(os.getpid())
        assert SystemdNotifier.from_env(env).watchdog_interval_secs is not None

    async def test_watchdog_loop_heartbeats_until_cancelled(self, notify_socket: tuple[socket.socket, str]) -> None:
        """The heartbeat task sends WATCHDOG=1 repeatedly while the loop runs and stops when cancelled."""
        sock, path = notify_socket
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000"})
        async with asyncio.timeout(DEADLINE_SECS), asyncio.TaskGroup() as tg:
            task = tg.create_task(n.watchdog_loop())
            beats = [await loop.sock_recv(sock, 64) for _ in range(3)]
            task.cancel()
        assert beats == [b"WATCHDOG=1"] * 3
        assert task.cancelled()

    def test_vanished_socket_does_not_raise(self, tmp_path: Path) -> None:
        """Notifying a socket that no longer exists is logged and reported as not sent, never raised."""
        n = SystemdNotifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
        assert n.enabled
        assert n.notify("READY=1") is False


class TestAgentNotifications:
    def test_run_reload_stop_sequence(self, notify_socket: tuple[socket.socket, str], tmp_path: Path) -> None:
        """`logferry run` under a notify socket sends READY, WATCHDOG, RELOADING (SIGHUP), READY, STOPPING (SIGTERM)."""
        sock, path = notify_socket
        cfg = tmp_path / "pipeline.yaml"
        cfg.write_text(f"data_dir: {tmp_path / 'data'}\napi:\n  enabled: false\n"
                       "sources:\n  in:\n    type: stdin\n"
                       "outputs:\n  out:\n    type: console\n    inputs: [in]\n")
        env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"}
        env.pop("WATCHDOG_PID", None)
        messages: list[str] = []

        def wait_for(field: str) -> None:
            while True:
                msg = sock.recv(4096).decode()
                messages.append(msg)
                if field in msg.split("\n"):
                    return

        proc = subprocess.Popen([sys.executable, "-m", "logferry.agent", "run", "-c", str(cfg)], cwd=tmp_path,
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for("READY=1")
            wait_for("WATCHDOG=1")
            proc.send_signal(signal.SIGHUP)
            wait_for("RELOADING=1")
            wait_for("READY=1")
            proc.send_signal(signal.SIGTERM)
            wait_for("STOPPING=1")
            _, err = proc.communicate(timeout=DEADLINE_SECS)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
        firsts = [m.split("\n")[0] for m in messages]
        assert [f for f in firsts if f != "WATCHDOG=1"] == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]
        assert firsts.index("WATCHDOG=1", firsts.index("READY=1")) < firsts.index("RELOADING=1")
        reloading = next(m for m in messages if m.startswith("RELOADING=1"))
        assert "MONOTONIC_USEC=" in reloading
