"""Tell systemd how the agent is doing (``sd_notify``), without libsystemd.

The protocol is one ``KEY=VALUE\\n...`` datagram per message on the
``AF_UNIX`` socket named by ``NOTIFY_SOCKET`` (a path, or ``@name`` for the
abstract namespace). With ``Type=notify`` systemd waits for ``READY=1``
before it calls the service started; ``RELOADING=1`` carries the
``MONOTONIC_USEC`` stamp that ``Type=notify-reload`` (systemd >= 253)
requires; ``WATCHDOG=1`` must arrive within ``WatchdogSec`` or the service is
killed and restarted. The heartbeat runs as an asyncio task, so it stops when
the event loop is blocked: exactly the hang the watchdog should catch.

Outside systemd (no ``NOTIFY_SOCKET``) every method is a no-op. Send errors
are logged, never raised: losing a status message must not stop shipping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends ``sd_notify`` messages to one socket; a no-op when ``address`` is ``None``."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._failing = False  # warn once per run of failures, not on every heartbeat

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SystemdNotifier:
        """The notifier systemd asked for through ``NOTIFY_SOCKET``/``WATCHDOG_USEC``/``WATCHDOG_PID``."""
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        address: str | None
        if raw.startswith("@"):
            address = "\0" + raw[1:]
        elif raw.startswith("/"):
            address = raw
        else:
            if raw:
                # e.g. "vsock:..." (systemd >= 254 in VMs): not something a log agent runs under.
                log.warning("NOTIFY_SOCKET=%r is not an AF_UNIX address; systemd notifications are off", raw)
            address = None
        watchdog_usec: int | None = None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        # WATCHDOG_PID names the process systemd watches; a child that inherited the
        # variables (a shell wrapper, a subprocess) must not feed the watchdog.
        if usec.isdigit() and (not pid or pid == str(os.getpid())):
            watchdog_usec = int(usec)
        return cls(address, watchdog_usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval_secs(self) -> float | None:
        """Half of ``WatchdogSec`` (what sd_watchdog_enabled(3) recommends), ``None`` without a watchdog."""
        if self.watchdog_usec is None or self.address is None:
            return None
        return self.watchdog_usec / 2_000_000

    def notify(self, *fields: str) -> bool:
        """Send one message made of ``KEY=VALUE`` fields; ``True`` if it left the process."""
        if self.address is None:
            return False
        payload = "\n".join(fields).encode()
        # A socket per message, as libsystemd's sd_notify does: nothing to leak or close,
        # and a few messages a minute cost nothing.
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # PID 1 drains its queue at once; if it ever does not, wait briefly rather than
                # lose READY=1, but never stall the event loop for long.
                sock.settimeout(1.0)
                sock.sendto(payload, self.address)
        except OSError as e:
            if not self._failing:
                log.warning("Could not notify systemd.", extra={"error": str(e),
                                                                "notify_socket": self.address.replace("\0", "@")})
            self._failing = True
            return False
        self._failing = False
        return True

    def ready(self, status: str = "") -> None:
        """The pipeline runs: ``READY=1`` (with a status line for ``systemctl status``)."""
        self.notify("READY=1", *_status(status))

    def reloading(self) -> None:
        """A SIGHUP reload starts; send ``ready()`` when it is over, whatever the outcome."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}", "STATUS=reloading configuration")

    def stopping(self) -> None:
        """Draining for shutdown has begun."""
        self.notify("STOPPING=1", "STATUS=draining")

    def status(self, text: str) -> None:
        self.notify(*_status(text))

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    async def watchdog_loop(self) -> None:
        """Send ``WATCHDOG=1`` every half watchdog period until cancelled; returns at once without a watchdog."""
        interval = self.watchdog_interval_secs
        if interval is None:
            return
        while True:
            self.watchdog()
            await asyncio.sleep(interval)


def _status(text: str) -> tuple[str, ...]:
    # A newline would start a new KEY=VALUE field and could forge READY=1.
    return (f"STATUS={' '.join(text.splitlines())}",) if text else ()
