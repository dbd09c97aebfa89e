"""The journald source: ECS mapping, journalctl arguments, and real reads of journal files.

Journal files are made from journal export data with ``systemd-journal-remote``
and read by the real ``journalctl``, the same program the agent runs in
production. ``.ci/run`` installs both (Debian packages systemd and
systemd-journal-remote).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import msgspec
import pytest
from logferry.agent.acks import AckStatus
from logferry.agent.component import BuildContext, SourceContext, settle
from logferry.agent.event import TAG_INVALID_UTF8, Event
from logferry.agent.sources.journald import (
    CURSOR_FILE,
    JournaldSource,
    JournaldSourceConfig,
    entry_to_event,
    journalctl_command,
    read_cursor,
)
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout

DEADLINE_SECS = 30.0  # hang guard only
BOOT_ID = "0123456789abcdef0123456789abcdef"
JOURNALCTL = shutil.which("journalctl")
JOURNAL_REMOTE = next((p for p in ("/usr/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-remote")
                       if Path(p).exists()), None)
needs_journal_tools = pytest.mark.skipif(
    JOURNALCTL is None or JOURNAL_REMOTE is None,
    reason="journalctl/systemd-journal-remote not installed (.ci/run installs systemd and systemd-journal-remote)")


def config(**kw: object) -> JournaldSourceConfig:
    return msgspec.convert({"type": "journald", **kw}, JournaldSourceConfig)


def export_entries(start: int, n: int, unit: str = "app.service", priority: int = 6, **extra: str) -> bytes:
    """Journal export format text for ``n`` entries numbered from ``start``."""
    out = []
    for i in range(start, start + n):
        fields = {"__REALTIME_TIMESTAMP": str(1_700_000_000_000_000 + i * 1000), "__MONOTONIC_TIMESTAMP": str(1000 + i),
                  "_BOOT_ID": BOOT_ID, "_SYSTEMD_UNIT": unit, "_PID": str(4000 + i), "_HOSTNAME": "gpu-node-7",
                  "PRIORITY": str(priority), "SYSLOG_IDENTIFIER": unit.split(".")[0], "MESSAGE": f"line {i}", **extra}
        out.append("".join(f"{k}={v}\n" for k, v in fields.items()) + "\n")
    return "".join(out).encode()


def append_journal(path: Path, export: bytes) -> None:
    assert JOURNAL_REMOTE is not None
    subprocess.run([JOURNAL_REMOTE, f"--output={path}", "-"], input=export, check=True, capture_output=True,
                   timeout=DEADLINE_SECS)


def append_then_stop(journal: Path, shutdown: asyncio.Event, *, after: int,
                     more: int) -> Callable[[list[Event]], None]:
    """An ``on_event`` hook: once ``after`` events arrived append ``more`` entries; once those arrived, shut down."""
    appended = False

    def step(events: list[Event]) -> None:
        nonlocal appended
        if len(events) == after and not appended:
            appended = True
            append_journal(journal, export_entries(after, more))
        if len(events) >= after + more:
            shutdown.set()

    return step


@dataclass
class Harness:
    """A real channel and fanout in front of the source; the test plays the output and settles batches."""

    cfg: JournaldSourceConfig
    data_dir: Path
    once: bool = True
    status: AckStatus = AckStatus.DELIVERED
    events: list[Event] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    on_event: Callable[[list[Event]], None] | None = None

    async def run(self, shutdown: asyncio.Event | None = None) -> JournaldSource:
        shutdown = shutdown or asyncio.Event()
        channel = Channel(10_000)
        fanout = Fanout([(channel, False)])
        metrics = ComponentMetrics("journal", "source", "journald")
        source = self.cfg.build(BuildContext("journal", self.data_dir, "agent-host", metrics, once=self.once))
        assert isinstance(source, JournaldSource)
        ctx = SourceContext("journal", fanout, shutdown, self.data_dir, metrics, once=self.once)

        async def output() -> None:
            async for batch in channel:
                self.events.extend(batch.events)
                self.batch_sizes.append(len(batch))
                settle(batch, self.status)
                if self.on_event is not None:
                    self.on_event(self.events)

        async with asyncio.timeout(DEADLINE_SECS), asyncio.TaskGroup() as tg:
            tg.create_task(output())
            try:
                await source.run(ctx)
            finally:
                await fanout.close()
        await source.finalize()
        return source


class TestEntryToEvent:
    ENTRY: ClassVar[dict[str, str]] = {"__CURSOR": "s=1;i=2", "__REALTIME_TIMESTAMP": "1700000000123456", "_SYSTEMD_UNIT": "trainer.service",
             "_PID": "4242", "PRIORITY": "3", "_HOSTNAME": "gpu-node-7", "MESSAGE": "CUDA out of memory",
             "SYSLOG_IDENTIFIER": "python3", "_COMM": "python3", "_BOOT_ID": BOOT_ID, "CODE_LINE": "17"}

    def test_maps_fields_to_ecs(self) -> None:
        """Unit, PID, PRIORITY, host, time and message land in their ECS fields."""
        e = entry_to_event(dict(self.ENTRY), "agent-host", [], "2024-01-01T00:00:00.000Z")
        assert e["message"] == "CUDA out of memory"
        assert e["service.name"] == "trainer"
        assert e["systemd.unit"] == "trainer.service"
        assert e["process.pid"] == 4242
        assert e["process.name"] == "python3"
        assert e["log.level"] == "error"
        assert e["log.syslog.severity.code"] == 3
        assert e["host.name"] == "gpu-node-7"
        assert e["host.boot.id"] == BOOT_ID
        assert e["log.origin.file.line"] == 17
        assert e["@timestamp"] == "2023-11-14T22:13:20.123Z"

    def test_event_id_follows_cursor(self) -> None:
        """event.id is the same for the same cursor (replays dedupe) and differs between cursors."""
        a = entry_to_event(dict(self.ENTRY), "h", [], "t")
        b = entry_to_event(dict(self.ENTRY), "h", [], "t")
        c = entry_to_event({**self.ENTRY, "__CURSOR": "s=1;i=3"}, "h", [], "t")
        assert a["event.id"] == b["event.id"] != c["event.id"]

    def test_fallbacks_without_unit_or_hostname(self) -> None:
        """Without a unit the syslog identifier names the service; without _HOSTNAME the agent's host is used."""
        entry = {"MESSAGE": "kernel: oops", "SYSLOG_IDENTIFIER": "kernel", "PRIORITY": "7"}
        e = entry_to_event(entry, "agent-host", [], "t")
        assert e["service.name"] == "kernel"
        assert e["host.name"] == "agent-host"
        assert e["log.level"] == "debug"
        assert e["@timestamp"] == "t"

    def test_binary_message_is_repaired_and_tagged(self) -> None:
        """A MESSAGE journalctl prints as a byte array is decoded, with invalid UTF-8 replaced and tagged."""
        e = entry_to_event({"MESSAGE": [104, 105, 255]}, "h", [], "t")
        assert e["message"] == "hi\ufffd"
        assert e["tags"] == [TAG_INVALID_UTF8]

    def test_include_fields(self) -> None:
        """Fields listed in include_fields are kept under journald.custom in lower case."""
        e = entry_to_event({"MESSAGE": "m", "JOB_ID": "77", "OTHER": "x"}, "h", ["JOB_ID"], "t")
        assert e["journald.custom.job_id"] == "77"
        assert not any(k.endswith("other") for k in e)


class TestJournaldConfig:
    def test_filters_become_journalctl_arguments(self) -> None:
        """units become _SYSTEMD_UNIT matches, priorities -p, matches FIELD=value terms."""
        cfg = config(units=["nginx", "job.scope"], priorities="warning", matches={"GPU": ["0", "1"], "TEAM": "ml"})
        cmd = journalctl_command(cfg, follow=True, after_cursor=None)
        assert cmd[0] == "journalctl" and "--output=json" in cmd and "--follow" in cmd
        assert "--priority=warning" in cmd
        assert cmd[-5:] == ["_SYSTEMD_UNIT=nginx.service", "_SYSTEMD_UNIT=job.scope", "GPU=0", "GPU=1", "TEAM=ml"]

    def test_resume_point(self) -> None:
        """A saved cursor wins; otherwise read_from picks the whole journal or only new entries."""
        assert "--after-cursor=s=1;i=2" in journalctl_command(config(), follow=False, after_cursor="s=1;i=2")
        assert "--no-tail" in journalctl_command(config(), follow=False, after_cursor=None)
        assert "--lines=0" in journalctl_command(config(read_from="end"), follow=True, after_cursor=None)

    @pytest.mark.parametrize(("kw", "needle"), [
        ({"priorities": "loud"}, "not a priority"),
        ({"matches": {"lower": "x"}}, "not a journal field name"),
        ({"journal_directory": "/d", "journal_files": ["/f"]}, "cannot both be set"),
        ({"units": ["a=b"]}, "not a unit name"),
        ({"batch_max_events": 0}, ">= 1"),
    ])
    def test_rejects_bad_config(self, kw: dict[str, object], needle: str) -> None:
        """Invalid filters are config errors that say what is wrong."""
        with pytest.raises(msgspec.ValidationError, match=needle):
            config(**kw)


@needs_journal_tools
class TestJournaldSource:
    @pytest.fixture
    def journal(self, tmp_path: Path) -> Path:
        path = tmp_path / "test.journal"
        append_journal(path, export_entries(0, 5))
        return path

    async def test_reads_all_then_resumes_after_restart(self, journal: Path, tmp_path: Path) -> None:
        """A restart continues after the saved cursor: entries added later are read, earlier ones are not."""
        data_dir = tmp_path / "state"
        first = Harness(config(journal_files=[str(journal)]), data_dir)
        await first.run()
        assert [e["message"] for e in first.events] == [f"line {i}" for i in range(5)]
        assert read_cursor(data_dir / CURSOR_FILE) is not None
        append_journal(journal, export_entries(5, 3))
        second = Harness(config(journal_files=[str(journal)]), data_dir)
        await second.run()
        assert [e["message"] for e in second.events] == ["line 5", "line 6", "line 7"]
        assert {e["event.id"] for e in first.events}.isdisjoint(e["event.id"] for e in second.events)

    async def test_undelivered_batches_are_replayed_with_same_ids(self, journal: Path, tmp_path: Path) -> None:
        """When delivery fails the cursor stays put, and the next run yields the same events and ids."""
        data_dir = tmp_path / "state"
        failed = Harness(config(journal_files=[str(journal)]), data_dir, status=AckStatus.ERRORED)
        await failed.run()
        assert read_cursor(data_dir / CURSOR_FILE) is None
        retry = Harness(config(journal_files=[str(journal)]), data_dir)
        await retry.run()
        assert [e["event.id"] for e in retry.events] == [e["event.id"] for e in failed.events]

    async def test_filters_applied_by_journalctl(self, tmp_path: Path) -> None:
        """Only entries of the listed unit, at or above the priority, with the match, are read."""
        journal = tmp_path / "mixed.journal"
        append_journal(journal, export_entries(0, 2, unit="trainer.service", priority=3, GPU="0")
                       + export_entries(2, 2, unit="trainer.service", priority=6, GPU="0")
                       + export_entries(4, 2, unit="nginx.service", priority=3, GPU="0")
                       + export_entries(6, 2, unit="trainer.service", priority=3, GPU="1"))
        h = Harness(config(journal_files=[str(journal)], units=["trainer"], priorities="err",
                           matches={"GPU": "0"}), tmp_path / "state")
        await h.run()
        assert [e["message"] for e in h.events] == ["line 0", "line 1"]
        assert {e["service.name"] for e in h.events} == {"trainer"}
        assert {e["log.level"] for e in h.events} == {"error"}

    async def test_batches_split_at_max_events(self, journal: Path, tmp_path: Path) -> None:
        """batch_max_events bounds batch size; every batch is checkpointed in order."""
        data_dir = tmp_path / "state"
        h = Harness(config(journal_files=[str(journal)], batch_max_events=2), data_dir)
        source = await h.run()
        assert [e["message"] for e in h.events] == [f"line {i}" for i in range(5)]
        assert sum(h.batch_sizes) == 5 and max(h.batch_sizes) <= 2
        assert source.statistics()["pending_batches"] == 0
        cursor = read_cursor(data_dir / CURSOR_FILE)
        assert cursor is not None  # the saved cursor is the last entry's (its event.id is the cursor's hash)
        assert hashlib.blake2b(cursor.encode(), digest_size=16).hexdigest() == h.events[-1]["event.id"]

    async def test_follow_reads_new_entries_until_shutdown(self, journal: Path, tmp_path: Path) -> None:
        """In follow mode entries appended to the journal arrive, and shutdown stops journalctl and saves the cursor."""
        shutdown = asyncio.Event()
        data_dir = tmp_path / "state"
        step = append_then_stop(journal, shutdown, after=5, more=2)
        h = Harness(config(journal_files=[str(journal)]), data_dir, once=False, on_event=step)
        await h.run(shutdown)
        assert [e["message"] for e in h.events] == [f"line {i}" for i in range(7)]
        resumed = Harness(config(journal_files=[str(journal)]), data_dir)
        await resumed.run()
        assert resumed.events == []

    async def test_restarts_journalctl_after_it_exits(self, journal: Path, tmp_path: Path) -> None:
        """When journalctl dies in follow mode it is started again after the last entry read, without duplicates."""
        # A wrapper around the real journalctl: its first run prints what is there and exits 1,
        # later runs follow as usual. The calls it saw are kept in calls.log.
        calls = tmp_path / "calls.log"
        wrapper = tmp_path / "journalctl"
        wrapper.write_text(f"""#!/bin/sh
echo "$*" >> {calls}
if [ ! -e {tmp_path}/ran-once ]; then
    touch {tmp_path}/ran-once
    args=""
    for a in "$@"; do [ "$a" = --follow ] || args="$args '$a'"; done
    eval "{JOURNALCTL} $args"
    echo "journalctl: simulated crash" >&2
    exit 1
fi
exec {JOURNALCTL} "$@"
""")
        wrapper.chmod(0o755)
        shutdown = asyncio.Event()
        cfg = config(journal_files=[str(journal)], journalctl_path=str(wrapper), restart_backoff_max_secs=0.05)
        h = Harness(cfg, tmp_path / "state", once=False, on_event=append_then_stop(journal, shutdown, after=5, more=1))
        await h.run(shutdown)
        assert [e["message"] for e in h.events] == [f"line {i}" for i in range(6)]
        runs = calls.read_text().splitlines()
        assert len(runs) >= 2 and "--after-cursor=" not in runs[0] and "--after-cursor=" in runs[1]

    async def test_refused_cursor_falls_back_to_read_from(self, journal: Path, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
        """A corrupt saved cursor is reported and reading starts over instead of failing forever."""
        data_dir = tmp_path / "state"
        data_dir.mkdir()
        (data_dir / CURSOR_FILE).write_text("garbage\n")
        h = Harness(config(journal_files=[str(journal)]), data_dir)
        with caplog.at_level(logging.ERROR):
            await h.run()
        assert len(h.events) == 5
        assert "refused the saved cursor" in caplog.text

    async def test_read_from_end_skips_history(self, journal: Path, tmp_path: Path) -> None:
        """With read_from=end and no saved cursor, entries already in the journal are not read."""
        h = Harness(config(journal_files=[str(journal)], read_from="end"), tmp_path / "state")
        await h.run()
        assert h.events == []


class TestJournalctlMissing:
    async def test_missing_program_ends_once_run_with_error(self, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
        """A journalctl_path that does not exist is logged as an error, not a crash, in --once mode."""
        h = Harness(config(journalctl_path=str(tmp_path / "no-journalctl")), tmp_path / "state")
        with caplog.at_level(logging.ERROR):
            await h.run()
        assert h.events == []
        assert "journalctl failed" in caplog.text
