"""``journald`` source: the systemd journal, read through ``journalctl -o json``, mapped to ECS.

journalctl is the stable public interface to the journal (the file format
and libsystemd's ABI are not ours to track), so the source runs it as a
subprocess: ``--follow`` normally, to the end in ``--once`` mode. Filters are
journalctl matches: ``units`` become ``_SYSTEMD_UNIT=`` (values of one field
are OR-ed, different fields AND-ed), ``priorities`` is ``-p``, ``matches``
are extra ``FIELD=value`` terms.

Positions are journal cursors. Each chunk of entries read becomes one batch
whose ack position is the cursor of its last entry; when the settled prefix
moves, the cursor is written to ``<data_dir>/journald.cursor`` (atomically,
by a periodic task and in ``finalize``), and a restart resumes with
``--after-cursor``. ``event.id`` is a hash of the cursor, so a replay after
a crash yields the same ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections import deque
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from logferry.agent.acks import OrderedAcks
from logferry.agent.component import BuildContext, Source, SourceContext
from logferry.agent.config.common import SourceConfig
from logferry.agent.event import TAG_INVALID_UTF8, Batch, Event
from logferry.agent.fsutil import write_atomic
from logferry.agent.timeutil import iso_now, iso_utc

log = logging.getLogger(__name__)

CURSOR_FILE = "journald.cursor"

# syslog(3) severities as journald stores them in PRIORITY, named the way log.level is usually written.
LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
_PRIORITY_NAMES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_PRIORITY_RE = re.compile(rf"(?:[0-7]|{'|'.join(_PRIORITY_NAMES)})(?:\.\.(?:[0-7]|{'|'.join(_PRIORITY_NAMES)}))?")
# journald field names: upper-case letters, digits and '_', not starting with a digit.
_FIELD_RE = re.compile(r"[A-Z_][A-Z0-9_]*")
_UNIT_SUFFIXES = (".service", ".socket", ".scope", ".slice", ".mount", ".timer", ".target", ".swap", ".path",
                  ".device", ".automount")

# Journal field -> ECS field, copied as text.
_TEXT_FIELDS = {
    "_COMM": "process.name",
    "_EXE": "process.executable",
    "_CMDLINE": "process.command_line",
    "SYSLOG_IDENTIFIER": "log.syslog.appname",
    "_MACHINE_ID": "host.id",
    "_BOOT_ID": "host.boot.id",
    "_UID": "user.id",
    "_GID": "user.group.id",
    "CODE_FILE": "log.origin.file.name",
    "CODE_FUNC": "log.origin.function",
    "CONTAINER_NAME": "container.name",
    "CONTAINER_ID_FULL": "container.id",
    "_SYSTEMD_UNIT": "systemd.unit",
    "_SYSTEMD_USER_UNIT": "systemd.user_unit",
    "_TRANSPORT": "systemd.transport",
}
# Journal field -> ECS field, as an integer when it parses as one.
_INT_FIELDS = {
    "_PID": "process.pid",
    "_TID": "process.thread.id",
    "SYSLOG_FACILITY": "log.syslog.facility.code",
    "CODE_LINE": "log.origin.file.line",
}


class JournaldSourceConfig(SourceConfig):
    units: Annotated[list[str], Meta(description="Only these systemd units (`nginx` means `nginx.service`).")] = []
    priorities: Annotated[str | None, Meta(
        description="journalctl -p: `err` (that and more severe), or a range such as `warning..emerg` or `0..4`.",
    )] = None
    matches: Annotated[dict[str, str | list[str]], Meta(
        description="Extra journal matches, FIELD: [values]; values of one field are OR-ed, fields AND-ed.",
    )] = {}
    journal_directory: Annotated[str | None, Meta(
        description="Read the journal files in this directory (journalctl --directory) instead of the system journal.",
    )] = None
    journal_files: Annotated[list[str], Meta(
        description="Read these journal files or globs (journalctl --file) instead of the system journal.",
    )] = []
    read_from: Annotated[Literal["beginning", "end"], Meta(
        description="Where to start when there is no saved cursor yet.",
    )] = "beginning"
    include_fields: Annotated[list[str], Meta(
        description="Other journal fields to keep, as `journald.custom.<field in lower case>`.",
    )] = []
    journalctl_path: Annotated[str, Meta(description="The journalctl program to run.")] = "journalctl"
    batch_max_events: Annotated[int, Meta(gt=0, description="Most entries in one batch.")] = 1000
    read_chunk_bytes: Annotated[int, Meta(gt=0, description="Bytes read from journalctl per call.")] = 262144
    checkpoint_interval_secs: Annotated[float, Meta(gt=0, description="How often the delivered cursor is saved.")] = 1.0
    restart_backoff_max_secs: Annotated[float, Meta(
        gt=0, description="Longest wait before journalctl is started again after it exited.",
    )] = 30.0

    def __post_init__(self) -> None:
        if self.priorities is not None and not _PRIORITY_RE.fullmatch(self.priorities):
            raise ValueError(f"priorities: {self.priorities!r} is not a priority (0-7, {', '.join(_PRIORITY_NAMES)}) "
                             "or a range such as `warning..emerg`")
        for field in [*self.matches, *self.include_fields]:
            if not _FIELD_RE.fullmatch(field):
                raise ValueError(f"{field!r} is not a journal field name (upper-case letters, digits and `_`)")
        for unit in self.units:
            if not unit or "=" in unit or unit.startswith("+"):
                raise ValueError(f"units: {unit!r} is not a unit name")
        if self.journal_directory is not None and self.journal_files:
            raise ValueError("journal_directory and journal_files cannot both be set (journalctl takes one)")

    def build(self, ctx: BuildContext) -> Source:
        return JournaldSource(self, ctx.host_name, ctx.data_dir)


def unit_name(unit: str) -> str:
    return unit if unit.endswith(_UNIT_SUFFIXES) else unit + ".service"


def journalctl_command(cfg: JournaldSourceConfig, *, follow: bool, after_cursor: str | None) -> list[str]:
    """The journalctl argument list for this config and resume point."""
    cmd = [cfg.journalctl_path, "--output=json", "--all", "--no-pager", "--quiet"]
    if cfg.journal_directory is not None:
        cmd.append(f"--directory={cfg.journal_directory}")
    cmd.extend(f"--file={f}" for f in cfg.journal_files)
    if follow:
        cmd.append("--follow")
    if after_cursor is not None:
        cmd += [f"--after-cursor={after_cursor}", "--no-tail"]
    elif cfg.read_from == "end":
        cmd.append("--lines=0")
    else:
        cmd.append("--no-tail")
    if cfg.priorities is not None:
        cmd.append(f"--priority={cfg.priorities}")
    cmd.extend(f"_SYSTEMD_UNIT={unit_name(u)}" for u in cfg.units)
    for field in sorted(cfg.matches):
        values = cfg.matches[field]
        cmd.extend(f"{field}={v}" for v in ([values] if isinstance(values, str) else values))
    return cmd


def _text(value: Any) -> tuple[str, bool]:
    """A journal JSON value as text, and whether it had to be repaired (binary, not UTF-8)."""
    if isinstance(value, str):
        return value, False
    if isinstance(value, list) and value:
        if isinstance(value[0], int):  # a binary field: an array of byte values
            raw = bytes(value)
            try:
                return raw.decode("utf-8"), False
            except UnicodeDecodeError:
                return raw.decode("utf-8", "replace"), True
        return _text(value[0])  # a field given several times: the first value
    return "" if value is None else str(value), False


def _timestamp(usec_text: str) -> str | None:
    if not usec_text.isdigit():
        return None
    secs, usec = divmod(int(usec_text), 1_000_000)
    return iso_utc(secs, usec // 1000)


def entry_to_event(entry: dict[str, Any], host_name: str, include_fields: list[str], ingested: str) -> Event:
    """One journal entry (``journalctl -o json``) as a flat ECS event."""
    message, bad_utf8 = _text(entry.get("MESSAGE"))
    cursor = entry.get("__CURSOR", "")
    event: Event = {"message": message, "event.ingested": ingested, "input.type": "journald"}
    ts = _timestamp(_text(entry.get("_SOURCE_REALTIME_TIMESTAMP") or entry.get("__REALTIME_TIMESTAMP"))[0])
    event["@timestamp"] = ts or ingested
    if cursor:
        event["event.id"] = hashlib.blake2b(cursor.encode(), digest_size=16).hexdigest()
    hostname = entry.get("_HOSTNAME")
    event["host.name"] = _text(hostname)[0] if hostname else host_name
    for src, dst in _TEXT_FIELDS.items():
        if src in entry:
            event[dst] = _text(entry[src])[0]
    for src, dst in _INT_FIELDS.items():
        if src in entry:
            v = _text(entry[src])[0]
            event[dst] = int(v) if v.isdigit() else v
    if "process.pid" not in event and "SYSLOG_PID" in entry:
        pid = _text(entry["SYSLOG_PID"])[0]
        event["process.pid"] = int(pid) if pid.isdigit() else pid
    if "container.id" not in event and "CONTAINER_ID" in entry:
        event["container.id"] = _text(entry["CONTAINER_ID"])[0]
    priority = _text(entry.get("PRIORITY"))[0]
    if len(priority) == 1 and "0" <= priority <= "7":
        level = LEVELS[int(priority)]
        event["log.level"] = level
        event["log.syslog.severity.code"] = int(priority)
        event["log.syslog.severity.name"] = level
    unit = event.get("systemd.unit") or event.get("systemd.user_unit")
    if unit:
        event["service.name"] = unit.removesuffix(".service")
    elif "log.syslog.appname" in event:
        event["service.name"] = event["log.syslog.appname"]
    for field in include_fields:
        if field in entry:
            event[f"journald.custom.{field.lstrip('_').lower()}"] = _text(entry[field])[0]
    if bad_utf8:
        event["tags"] = [TAG_INVALID_UTF8]
    return event


def write_cursor_atomically(path: Path, cursor: str) -> None:
    """Replace the cursor file so a crash leaves either the old or the new cursor, never half of one."""
    # The directory is made here, not at build time: `validate` must not create directories.
    write_atomic(path, (cursor + "\n").encode(), make_parent=True)


def read_cursor(path: Path) -> str | None:
    try:
        cursor = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return cursor or None


class JournaldSource(Source):
    def __init__(self, cfg: JournaldSourceConfig, host_name: str, data_dir: Path) -> None:
        self.cfg = cfg
        self.host_name = host_name
        self.checkpoint_path = data_dir / CURSOR_FILE
        saved = read_cursor(self.checkpoint_path)
        self._read_cursor = saved  # last entry sent downstream: where journalctl resumes after it exits
        self._delivered = saved  # last entry of the settled prefix: what a restart resumes from
        self._written = saved
        self._acks = OrderedAcks(self._on_advance)
        self._stderr_tail: deque[str] = deque(maxlen=5)
        self.entries_read = 0

    def _on_advance(self, cursor: str) -> None:
        self._delivered = cursor

    def save_checkpoint(self) -> None:
        cursor = self._delivered
        if cursor is not None and cursor != self._written:
            write_cursor_atomically(self.checkpoint_path, cursor)
            self._written = cursor

    def statistics(self) -> dict[str, Any]:
        return {"entries_read": self.entries_read, "pending_batches": self._acks.pending,
                "delivered_cursor": self._delivered}

    async def run(self, ctx: SourceContext) -> None:
        async with asyncio.TaskGroup() as tg:
            saver = tg.create_task(self._checkpoint_loop(), name="journald-checkpoint")
            try:
                await self._supervise(ctx)
            finally:
                saver.cancel()

    async def finalize(self) -> None:
        self.save_checkpoint()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.checkpoint_interval_secs)
            if self._delivered != self._written:
                await asyncio.to_thread(self.save_checkpoint)

    async def _supervise(self, ctx: SourceContext) -> None:
        """Run journalctl; in follow mode start it again (with backoff) whenever it exits on its own."""
        first_backoff = min(1.0, self.cfg.restart_backoff_max_secs)
        backoff = first_backoff
        while not ctx.shutdown.is_set():
            read_before = self.entries_read
            cursor_given = self._read_cursor
            rc = await self._run_journalctl(ctx, follow=not ctx.once)
            if ctx.shutdown.is_set() or (ctx.once and rc == 0):
                return
            stderr = " | ".join(self._stderr_tail)
            if cursor_given is not None and self.entries_read == read_before and "cursor" in stderr.lower():
                log.error("journalctl refused the saved cursor; reading from `read_from` instead.",
                          extra={"cursor": cursor_given, "stderr": stderr})
                self._read_cursor = None
                continue
            ctx.metrics.error("journalctl_exited", stage="receiving")
            if ctx.once:
                log.error("journalctl failed.", extra={"exit_code": rc, "stderr": stderr})
                return
            if self.entries_read > read_before:
                backoff = first_backoff
            log.warning("journalctl exited; starting it again.",
                        extra={"exit_code": rc, "stderr": stderr, "retry_in_secs": backoff})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await ctx.shutdown.wait()
            backoff = min(backoff * 2, self.cfg.restart_backoff_max_secs)

    async def _run_journalctl(self, ctx: SourceContext, *, follow: bool) -> int:
        cmd = journalctl_command(self.cfg, follow=follow, after_cursor=self._read_cursor)
        self._stderr_tail.clear()
        try:
            # Own session: a Ctrl-C on the terminal reaches the agent, which then stops journalctl itself.
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as e:
            self._stderr_tail.append(f"cannot start {cmd[0]}: {e}")
            return 127
        assert proc.stdout is not None and proc.stderr is not None
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._collect_stderr(proc.stderr))
                stopper = tg.create_task(self._terminate_on_shutdown(ctx.shutdown, proc))
                try:
                    await self._pump(ctx, proc.stdout)
                finally:
                    stopper.cancel()
                    _terminate(proc)
        finally:
            if proc.returncode is None:
                _terminate(proc)
                try:
                    async with asyncio.timeout(5):
                        await proc.wait()
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        return proc.returncode if proc.returncode is not None else -1

    async def _terminate_on_shutdown(self, shutdown: asyncio.Event, proc: asyncio.subprocess.Process) -> None:
        await shutdown.wait()
        _terminate(proc)

    async def _collect_stderr(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._stderr_tail.append(line)
                log.warning("journalctl: %s", line)

    async def _pump(self, ctx: SourceContext, stdout: asyncio.StreamReader) -> None:
        pending = b""
        while True:
            chunk = await stdout.read(self.cfg.read_chunk_bytes)
            if not chunk:
                return  # journalctl exited; a partial last line is read again after the cursor
            data = pending + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            pending = data[cut + 1:]
            await self._emit(ctx, data[:cut])
            if ctx.shutdown.is_set():
                return

    async def _emit(self, ctx: SourceContext, data: bytes) -> None:
        """Turn complete JSON lines into batches of at most ``batch_max_events`` and send them."""
        ingested = iso_now()
        decode = msgspec.json.decode
        events: list[Event] = []
        cursor: str | None = None
        bad = 0
        nbytes = 0
        for line in data.split(b"\n"):
            if not line:
                continue
            nbytes += len(line) + 1
            try:
                entry = decode(line)
            except msgspec.DecodeError:
                bad += 1
                continue
            if not isinstance(entry, dict):
                bad += 1
                continue
            events.append(entry_to_event(entry, self.host_name, self.cfg.include_fields, ingested))
            cursor = entry.get("__CURSOR") or cursor
            if len(events) >= self.cfg.batch_max_events:
                await self._send(ctx, events, cursor, nbytes)
                events = []
                nbytes = 0
        if bad:
            ctx.metrics.error("invalid_journal_json", stage="receiving", n=bad)
        if events:
            await self._send(ctx, events, cursor, nbytes)

    async def _send(self, ctx: SourceContext, events: list[Event], cursor: str | None, nbytes: int) -> None:
        self.entries_read += len(events)
        ctx.metrics.received(len(events), nbytes)
        token = None
        if ctx.acknowledgements and cursor is not None:
            token = self._acks.open(cursor)
        await ctx.out.send(Batch.from_events(events, ack=token))
        if cursor is not None:
            self._read_cursor = cursor
            if token is None:
                self._delivered = cursor  # no acknowledgements: handed on counts as done


def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
