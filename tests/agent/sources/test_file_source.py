"""Tests for the `file` source on real files: reading, checkpoints, rotation, truncation, gzip."""

from __future__ import annotations

import asyncio
import collections
import gzip
import os
import re
import shutil
import sys
import threading
from pathlib import Path

import msgspec
import pytest

from logferry.agent.acks import AckStatus
from logferry.agent.event import TAG_INVALID_UTF8, TAG_MULTILINE, TAG_TRUNCATED
from logferry.agent.sources.file.checkpoint import FILE_NAME
from logferry.agent.sources.file.config import FileSourceConfig
from logferry.agent.telemetry import REGISTRY
from tests.agent.sources.harness import (
    DEADLINE_SECS,
    Collector,
    Harness,
    make_config,
    run_once,
    running,
    stepped,
)

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FAST = {"rescan_interval_secs": 0.05, "poll_interval_ms": 20, "checkpoint_interval_secs": 0.05,
        "rotate_wait_secs": 0.2}


def numbered(start: int, stop: int, width: int = 40) -> bytes:
    return b"".join(b"line %08d %s\n" % (i, b"x" * width) for i in range(start, stop))


def append(path: Path, data: bytes) -> None:
    """Append bytes to a file (small, so fine on the loop in a test)."""
    with open(path, "ab") as f:
        f.write(data)


class Writer(threading.Thread):
    """Appends numbered lines as fast as it can, rotating the file at given line numbers."""

    def __init__(self, path: Path, total: int, rotate_at: set[int], mode: str) -> None:
        super().__init__(daemon=True)
        self.path, self.total, self.rotate_at, self.mode = path, total, rotate_at, mode
        self.rotations = 0

    def run(self) -> None:
        f = open(self.path, "ab", buffering=0)  # noqa: SIM115 (reopened on rotation)
        try:
            buf = []
            for i in range(self.total):
                buf.append(b"line %08d %s\n" % (i, b"y" * 30))
                if len(buf) >= 50 or i + 1 in self.rotate_at:
                    f.write(b"".join(buf))
                    buf = []
                if i + 1 in self.rotate_at:
                    f = self._rotate(f)
            f.write(b"".join(buf))
        finally:
            f.close()

    def _rotate(self, f: object) -> object:
        self.rotations += 1
        rotated = f"{self.path}.{self.rotations}"
        if self.mode == "rename":
            os.replace(self.path, rotated)
            f.close()  # type: ignore[attr-defined]
            return open(self.path, "ab", buffering=0)
        # The writer rotates itself, so no line falls between the copy and the truncation.
        shutil.copyfile(self.path, rotated)
        os.truncate(self.path, 0)
        return f


def gzip_away(path: Path) -> None:
    """Compress ``path`` to ``path.gz`` and remove it, as logrotate's ``compress`` does."""
    with open(path, "rb") as src, gzip.open(f"{path}.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.unlink(path)


def truncate_and_write(path: Path, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)


def checkpoint_offsets(path: Path) -> list[int]:
    return [cp["offset"] for cp in msgspec.json.decode(path.read_bytes())["checkpoints"].values()]


async def wait_open(h: Harness, n: int) -> None:
    async with asyncio.timeout(DEADLINE_SECS):
        while len(h.source.statistics()["files"]) < n:
            await asyncio.sleep(0.01)


def assert_each_once(c: Collector, total: int) -> None:
    counts = collections.Counter(c.messages())
    dupes = [m for m, n in counts.items() if n > 1]
    assert not dupes, f"duplicated: {dupes[:5]}"
    missing = [i for i in range(total) if f"line {i:08d} {'y' * 30}" not in counts]
    assert not missing, f"missing {len(missing)} lines, first {missing[:5]}"
    assert len(c.events) == total


async def tail_fast_writer(tmp_path: Path, rotate_at: set[int], mode: str, total: int = 100_000) -> None:
    """Tail ``app.log*`` while a ``Writer`` appends ``total`` lines, rotating at ``rotate_at``; each line once."""
    log = tmp_path / "app.log"
    log.touch()
    cfg = make_config(include=[str(tmp_path / "app.log*")], **FAST)
    async with running(cfg, tmp_path / "data") as h:
        await wait_open(h, 1)
        writer = Writer(log, total, rotate_at, mode)
        writer.start()
        await h.collector.wait_for(lambda c: len(c.events) >= total)
        await asyncio.to_thread(writer.join)
        await asyncio.sleep(0.3)
    assert writer.rotations == len(rotate_at)
    assert_each_once(h.collector, total)


class TestFileSourceReading:
    async def test_event_fields(self, tmp_path: Path) -> None:
        """Events carry message, path, byte offset, host, ISO timestamps and a deterministic id."""
        log = tmp_path / "a.log"
        log.write_bytes(b"first\nsecond line\n")
        cfg = make_config(include=[str(tmp_path / "*.log")])
        h = await run_once(cfg, tmp_path / "data")
        assert h.collector.batches_with_token == h.collector.batches == 1
        e0, e1 = h.collector.events
        assert (e0["message"], e1["message"]) == ("first", "second line")
        assert (e0["log.offset"], e1["log.offset"]) == (0, 6)
        assert e0["log.file.path"] == str(log)
        assert ISO_MS_Z.match(e0["@timestamp"]) and e0["event.ingested"] == e0["@timestamp"]
        assert e0["host.name"] == h.build_ctx.host_name
        assert e1["event.id"].endswith("-6") and e0["event.id"].endswith("-0")
        again = await run_once(cfg, tmp_path / "data2")
        assert [e["event.id"] for e in again.collector.events] == [e0["event.id"], e1["event.id"]]

    async def test_many_files_large_input(self, tmp_path: Path) -> None:
        """Several files bigger than one chunk are read completely, each in order."""
        for n in range(3):
            # distinct content: identical first bytes would make them copies of one file
            (tmp_path / f"f{n}.log").write_bytes(numbered(n * 100_000, n * 100_000 + 30_000))
        cfg = make_config(include=[str(tmp_path / "*.log")], read_chunk_bytes=65536)
        h = await run_once(cfg, tmp_path / "data")
        by_file = collections.defaultdict(list)
        for e in h.collector.events:
            by_file[e["log.file.path"]].append(e["log.offset"])
        assert len(by_file) == 3
        assert all(len(v) == 30_000 and v == sorted(v) for v in by_file.values())

    async def test_exclude_double_star(self, tmp_path: Path) -> None:
        """Files under an excluded ``**`` glob are not read; others at any depth are."""
        (tmp_path / "app" / "old").mkdir(parents=True)
        (tmp_path / "app" / "x.log").write_bytes(b"keep-1\n")
        (tmp_path / "app" / "old" / "y.log").write_bytes(b"skip\n")
        (tmp_path / "z.log").write_bytes(b"keep-2\n")
        cfg = make_config(include=[f"{tmp_path}/**/*.log"], exclude=[f"{tmp_path}/**/old/**"])
        h = await run_once(cfg, tmp_path / "data")
        assert sorted(h.collector.messages()) == ["keep-1", "keep-2"]

    async def test_huge_line_and_garbage(self, tmp_path: Path) -> None:
        """A 5 MB line is truncated and tagged, binary garbage is tagged, nothing after them is lost."""
        log = tmp_path / "a.log"
        log.write_bytes(b"before\n" + b"A" * 5_000_000 + b"\nmiddle\n" + os.urandom(300_000) + b"\nafter\n")
        cfg = make_config(include=[str(log)], max_line_bytes=1000, read_chunk_bytes=65536)
        h = await run_once(cfg, tmp_path / "data")
        msgs = h.collector.messages()
        assert msgs[0] == "before" and msgs[1] == "A" * 1000 and msgs[2] == "middle" and msgs[-1] == "after"
        assert h.collector.events[1]["tags"] == [TAG_TRUNCATED]
        assert h.collector.events[1]["log.offset"] == 7
        garbage = h.collector.events[3:-1]
        assert garbage and any(TAG_INVALID_UTF8 in e.get("tags", []) for e in garbage)
        assert all(len(m.encode()) <= 3000 for m in msgs)

    async def test_gzip_file(self, tmp_path: Path) -> None:
        """A rotated ``.gz`` file is read decompressed, with offsets in the decompressed stream."""
        data = numbered(0, 5000)
        with gzip.open(tmp_path / "app.log.1.gz", "wb") as f:
            f.write(data)
        cfg = make_config(include=[str(tmp_path / "app.log*")])
        h = await run_once(cfg, tmp_path / "data")
        assert h.collector.messages() == data.decode().splitlines()
        assert h.collector.events[1]["log.offset"] == data.index(b"line 00000001")

    async def test_short_file_below_fingerprint_size(self, tmp_path: Path) -> None:
        """A file shorter than the fingerprint is read, keeps its position as it grows, and is not re-read."""
        log = tmp_path / "a.log"
        log.write_bytes(b"tiny\n")
        cfg = make_config(include=[str(log)], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: c.messages() == ["tiny"])
            append(log, numbered(0, 20))
            await h.collector.wait_for(lambda c: len(c.events) == 21)
        keys = list(msgspec.json.decode((tmp_path / "data" / FILE_NAME).read_bytes())["checkpoints"])
        assert keys and all(k.startswith("c:") for k in keys)
        append(log, b"later\n")
        h2 = await run_once(cfg, tmp_path / "data")
        assert h2.collector.messages() == ["later"]


class TestFileSourceCheckpoints:
    async def test_resume_after_restart(self, tmp_path: Path) -> None:
        """After a restart only lines appended since are read: no duplicates, no gaps."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 1000))
        cfg = make_config(include=[str(log)], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 1000)
            append(log, numbered(1000, 1500) + b"partial-no-newline")
            await h.collector.wait_for(lambda c: len(c.events) == 1500)
        append(log, b"-done\n" + numbered(1500, 2000))
        async with running(cfg, tmp_path / "data") as h2:
            await h2.collector.wait_for(lambda c: len(c.events) == 501)
        first = h.collector.messages() + h2.collector.messages()
        assert first == numbered(0, 1500).decode().splitlines() + ["partial-no-newline-done"] + \
            numbered(1500, 2000).decode().splitlines()

    async def test_resume_after_sigkill(self, tmp_path: Path) -> None:
        """After SIGKILL mid-file, the next run resumes from the last checkpoint: no gaps, not from zero."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 40_000))
        out = tmp_path / "out.txt"
        repo = Path(__file__).resolve().parents[3]
        args = [sys.executable, "-m", "tests.agent.sources.tail_child", str(log), str(tmp_path / "data"), str(out)]
        proc = await asyncio.create_subprocess_exec(*args, cwd=repo)
        checkpoints = tmp_path / "data" / FILE_NAME
        async with asyncio.timeout(DEADLINE_SECS):
            while not checkpoints.exists() or checkpoint_offsets(checkpoints) == [0]:
                await asyncio.sleep(0.01)
        proc.kill()
        await proc.wait()
        [resume_at] = checkpoint_offsets(checkpoints)
        written = out.read_bytes()
        out.write_bytes(written[:written.rfind(b"\n") + 1])  # the kill may have cut the last write
        first = out.read_text().splitlines()
        assert 0 < len(first) < 40_000
        proc = await asyncio.create_subprocess_exec(*args, "--once", cwd=repo)
        async with asyncio.timeout(DEADLINE_SECS):
            assert await proc.wait() == 0
        second = out.read_text().splitlines()[len(first):]
        expected = numbered(0, 40_000).decode().splitlines()
        line_bytes = len(expected[0]) + 1
        assert resume_at % line_bytes == 0  # checkpoints fall on line boundaries
        assert second == expected[resume_at // line_bytes:]
        assert set(first + second) == set(expected)

    async def test_errored_batches_are_read_again(self, tmp_path: Path) -> None:
        """Lines whose batch was not delivered (ERRORED) are read again after a restart (at least once)."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 100))
        cfg = make_config(include=[str(log)])
        await run_once(cfg, tmp_path / "data", status=AckStatus.ERRORED)
        h = await run_once(cfg, tmp_path / "data")
        assert len(h.collector.events) == 100

    async def test_without_acknowledgements(self, tmp_path: Path) -> None:
        """With acknowledgements off the position moves when the batch is accepted."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 10))
        cfg = make_config(include=[str(log)])
        h = await run_once(cfg, tmp_path / "data", acknowledgements=False)
        assert h.collector.batches >= 1 and h.collector.batches_with_token == 0
        assert len(h.collector.events) == 10
        assert checkpoint_offsets(tmp_path / "data" / FILE_NAME) == [log.stat().st_size]

    async def test_read_from_end(self, tmp_path: Path) -> None:
        """With ``read_from: end`` lines present at startup are skipped and new ones are read."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 100))
        cfg = make_config(include=[str(log)], read_from="end", **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await asyncio.sleep(0.1)
            append(log, b"new one\n")
            await h.collector.wait_for(lambda c: len(c.events) >= 1)
        assert h.collector.messages() == ["new one"]

    async def test_ignore_older(self, tmp_path: Path) -> None:
        """Files not modified for ``ignore_older_secs`` are skipped."""
        (tmp_path / "old.log").write_bytes(b"old\n")
        os.utime(tmp_path / "old.log", (1_000_000, 1_000_000))
        (tmp_path / "new.log").write_bytes(b"new\n")
        cfg = make_config(include=[str(tmp_path / "*.log")], ignore_older_secs=3600)
        h = await run_once(cfg, tmp_path / "data")
        assert h.collector.messages() == ["new"]


class TestFileSourceRotation:
    async def test_rename_rotation_under_fast_writer(self, tmp_path: Path) -> None:
        """Renaming the file away while a writer appends as fast as it can loses and duplicates nothing."""
        await tail_fast_writer(tmp_path, {20_000, 40_000, 60_000, 80_000}, "rename")

    async def test_copytruncate_under_fast_writer(self, tmp_path: Path) -> None:
        """copytruncate rotation while a writer appends delivers every line exactly once (copies matched)."""
        await tail_fast_writer(tmp_path, {25_000, 50_000, 75_000}, "copytruncate")

    async def test_rename_drains_old_descriptor(self, tmp_path: Path) -> None:
        """With only the live name matched, lines written to the renamed file are still read, then it is closed."""
        log = tmp_path / "app.log"
        log.write_bytes(b"a\n")
        cfg = make_config(include=[str(log)], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 1)
            with open(log, "ab") as old:  # noqa: ASYNC230 (held open across the rename)
                os.replace(log, tmp_path / "app.log.1")
                log.write_bytes(b"new\n")
                old.write(b"b\n")
                old.flush()
                await h.collector.wait_for(lambda c: len(c.events) == 3)
            await asyncio.sleep(0.5)
            assert list(h.source.statistics()["files"]) == [str(log)]
        assert sorted(h.collector.messages()) == ["a", "b", "new"]

    async def test_copy_seen_before_truncation_is_continued(self, tmp_path: Path) -> None:
        """A copytruncate copy found before the truncation is later continued where the original stopped."""
        log = tmp_path / "app.log"
        log.write_bytes(numbered(0, 100))
        cfg = make_config(include=[str(tmp_path / "app.log*")])
        async with stepped(cfg, tmp_path / "data") as h:
            tracker = h.source.tracker
            await tracker.scan(startup=True)
            await h.read_all()
            append(log, numbered(100, 200))           # written, not read yet
            shutil.copyfile(log, tmp_path / "app.log.1")
            await tracker.scan(startup=False)         # the copy: original unchanged, so not read
            assert len(tracker.readers) == 1
            truncate_and_write(log, numbered(1000, 1010))
            await tracker.scan(startup=False)         # original truncated: the copy continues its stream
            assert len(tracker.readers) == 2
            await h.read_all()
        expected = numbered(0, 200) + numbered(1000, 1010)
        assert sorted(h.collector.messages()) == sorted(expected.decode().splitlines())

    async def test_copy_of_short_file_is_continued(self, tmp_path: Path) -> None:
        """A copytruncate copy of a file read while shorter than the fingerprint resumes after the bytes read."""
        log = tmp_path / "app.log"
        log.write_bytes(numbered(0, 2))  # 110 bytes: below the 256-byte fingerprint
        cfg = make_config(include=[str(tmp_path / "app.log*")])
        async with stepped(cfg, tmp_path / "data") as h:
            await h.source.tracker.scan(startup=True)
            await h.read_all()
            append(log, numbered(2, 100))
            shutil.copyfile(log, tmp_path / "app.log.1")
            truncate_and_write(log, numbered(1000, 1010))
            await h.source.tracker.scan(startup=False)
            await h.read_all()
        expected = numbered(0, 100) + numbered(1000, 1010)
        assert sorted(h.collector.messages()) == sorted(expected.decode().splitlines())

    async def test_deleted_while_open(self, tmp_path: Path) -> None:
        """A deleted file is drained through the open descriptor, then closed."""
        log = tmp_path / "a.log"
        log.write_bytes(b"one\n")
        cfg = make_config(include=[str(log)], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 1)
            with open(log, "ab") as f:  # noqa: ASYNC230 (held open across the deletion)
                os.unlink(log)
                f.write(b"two\nthree")
                f.flush()
                await h.collector.wait_for(lambda c: len(c.events) == 3)
            await asyncio.sleep(0.5)
            assert h.source.statistics()["files"] == {}
            assert REGISTRY.get_sample_value("logferry_files_open", {"component_id": "src"}) == 0
        assert h.collector.messages() == ["one", "two", "three"]

    async def test_rotated_then_gzipped_is_not_reread(self, tmp_path: Path) -> None:
        """A file already read that is compressed to ``.gz`` (and removed) is not read again."""
        log = tmp_path / "app.log"
        log.write_bytes(numbered(0, 2000))
        cfg = make_config(include=[str(tmp_path / "app.log*")], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 2000)
            os.replace(log, tmp_path / "app.log.1")
            log.write_bytes(b"fresh\n")
            await h.collector.wait_for(lambda c: len(c.events) == 2001)
            gzip_away(tmp_path / "app.log.1")
            await asyncio.sleep(0.6)
        assert len(h.collector.events) == 2001
        h2 = await run_once(cfg, tmp_path / "data")
        assert h2.collector.messages() == []

    async def test_new_file_after_delete_is_read_from_start(self, tmp_path: Path) -> None:
        """A file recreated at the same path (possibly reusing the inode) with new content is read from 0."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 100))
        cfg = make_config(include=[str(log)], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 100)
            os.unlink(log)
            await asyncio.sleep(0.4)  # drained and closed
            log.write_bytes(numbered(500, 520))
            await h.collector.wait_for(lambda c: len(c.events) == 120)
        assert h.collector.messages()[100:] == numbered(500, 520).decode().splitlines()

    async def test_truncated_in_place(self, tmp_path: Path) -> None:
        """A file truncated below the read offset is read again from the start."""
        log = tmp_path / "a.log"
        log.write_bytes(numbered(0, 50))
        cfg = make_config(include=[str(log)], **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 50)
            truncate_and_write(log, b"after truncate\n")
            await h.collector.wait_for(lambda c: len(c.events) == 51)
        assert h.collector.messages()[-1] == "after truncate"


class TestFileSourceMultiline:
    async def test_multiline_timeout_while_tailing(self, tmp_path: Path) -> None:
        """A held multi-line event is emitted after ``timeout_ms`` without a following line."""
        log = tmp_path / "a.log"
        log.write_bytes(b"ERROR boom\nTraceback (most recent call last):\n  File \"x.py\", line 1\nValueError: x\n")
        cfg = make_config(include=[str(log)], multiline={"preset": "python_traceback", "timeout_ms": 100}, **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 1)
        ev = h.collector.events[0]
        assert ev["message"].count("\n") == 3 and TAG_MULTILINE in ev["tags"]

    async def test_checkpoint_never_passes_held_lines(self, tmp_path: Path) -> None:
        """At shutdown, lines held by multiline are not checkpointed, so the next run reads them."""
        log = tmp_path / "a.log"
        log.write_bytes(b"first\nsecond\n  cont\n")
        cfg = make_config(include=[str(log)], multiline={"continue_pattern": "^ ", "timeout_ms": 60000}, **FAST)
        async with running(cfg, tmp_path / "data") as h:
            await h.collector.wait_for(lambda c: len(c.events) == 1)
            await asyncio.sleep(0.2)
        assert h.collector.messages() == ["first"]
        assert checkpoint_offsets(tmp_path / "data" / FILE_NAME) == [6]
        h2 = await run_once(cfg, tmp_path / "data")
        assert h2.collector.messages() == ["second\n  cont"]


class TestFileSourceConfig:
    def test_defaults(self) -> None:
        """Defaults are those documented for the source."""
        cfg = make_config(include=["/var/log/*.log"])
        assert (cfg.read_from, cfg.max_line_bytes, cfg.fingerprint.bytes, cfg.decompress_gz) == \
            ("beginning", 102400, 256, True)

    def test_relative_glob_resolves_against_working_directory(self, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
        """A relative include glob matches files under the directory the agent starts in."""
        from logferry.agent.component import BuildContext
        from logferry.agent.sources.file.source import FileSource
        from logferry.agent.telemetry import ComponentMetrics

        (tmp_path / "logs").mkdir()
        (tmp_path / "logs" / "a.log").write_text("x\n")
        monkeypatch.chdir(tmp_path)
        ctx = BuildContext("src", tmp_path, "host", ComponentMetrics("src", "source", "file"))
        src = FileSource(make_config(include=["logs/*.log"]), ctx)
        assert list(src.globs.scan()) == [str(tmp_path / "logs" / "a.log")]

    def test_empty_include_rejected(self) -> None:
        """``include`` needs at least one glob."""
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert({"type": "file", "include": []}, FileSourceConfig)
