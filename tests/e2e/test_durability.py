"""Delivery promises with real files, real rotation and real processes killed with SIGKILL."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.agent import AgentProcess, logferry
from tests.support.logwriter import RotatingWriter

TAIL_TO_FILE = """\
data_dir: {data}
api: {{enabled: false}}
sources:
  app:
    type: file
    include: ["{logs}/app.log*"]
    read_from: beginning
    rescan_interval_secs: 0.2
    checkpoint_interval_secs: 0.2
outputs:
  out:
    type: file
    inputs: [app]
    path: {out}
    encoding: {{only_fields: [message, event.id, log.file.path, tags]}}
"""

LINE = re.compile(r"^seq (\d+) ")


def read_output(out: Path) -> tuple[list[int], dict[str, int], int]:
    """(sequence numbers in order, event.id -> seq, number of undecodable lines)."""
    seqs: list[int] = []
    ids: dict[str, int] = {}
    bad = 0
    if not out.exists():
        return seqs, ids, bad
    for raw in out.read_bytes().splitlines():
        try:
            rec = json.loads(raw)
        except ValueError:
            bad += 1
            continue
        m = LINE.match(rec["message"])
        if m is None:
            bad += 1
            continue
        n = int(m.group(1))
        seqs.append(n)
        ids[rec["event.id"]] = n
    return seqs, ids, bad


def wait_for_all(out: Path, total: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    seqs: list[int] = []
    while time.monotonic() < deadline:
        seqs, _, _ = read_output(out)
        if len(set(seqs)) >= total:
            return seqs
        time.sleep(0.1)
    missing = sorted(set(range(total)) - set(seqs))
    raise AssertionError(f"{len(missing)} lines missing, first: {missing[:10]}")


def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    logs = tmp_path / "logs"
    logs.mkdir()
    out = tmp_path / "out.ndjson"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TAIL_TO_FILE.format(data=tmp_path / "data", logs=logs, out=out))
    return logs, out, cfg


class TestRotation:
    def test_rename_and_copytruncate_while_writing_deliver_each_line_once(self, tmp_path: Path) -> None:
        """Rename and copytruncate rotations during a fast writer: every line arrives exactly once."""
        logs, out, cfg = setup(tmp_path)
        total = 60_000
        with AgentProcess(cfg) as agent:
            agent.wait_for_log("Pipeline started.")
            writer = RotatingWriter(logs, total, rotate_every=6_000, copytruncate=True)
            writer.start()
            writer.join(120)
            assert writer.error is None
            wait_for_all(out, total, 60)
            agent.signal(signal.SIGTERM)
            assert agent.wait() == 0
        seqs, _, bad = read_output(out)
        print(f"\nrotation: {total} lines, rotations {writer.rotations}, delivered {len(seqs)}, "
              f"duplicates {len(seqs) - len(set(seqs))}, lost {total - len(set(seqs))}")
        assert writer.rotations["rename"] >= 4 and writer.rotations["copytruncate"] >= 4
        assert bad == 0
        assert sorted(seqs) == list(range(total))


class TestCrashes:
    def test_sigkill_at_random_moments_loses_nothing(self, tmp_path: Path) -> None:
        """The agent killed with SIGKILL 5 times while a writer appends and rotates: 0 lines lost on restart."""
        logs, out, cfg = setup(tmp_path)
        total = 80_000
        rng = random.Random(20261124)
        writer = RotatingWriter(logs, total, rotate_every=20_000, pace_secs=0.01)
        writer.start()
        kills = 0
        agent = AgentProcess(cfg)
        try:
            for _ in range(5):
                agent.wait_for_log("Pipeline started.")
                time.sleep(rng.uniform(0.2, 1.5))
                agent.kill()
                kills += 1
                agent = AgentProcess(cfg)
            writer.join(120)
            assert writer.error is None
            wait_for_all(out, total, 90)
            agent.signal(signal.SIGTERM)
            assert agent.wait() == 0
        finally:
            agent.close()
        seqs, ids, bad = read_output(out)
        lost = total - len(set(seqs))
        dupes = len(seqs) - len(set(seqs))
        print(f"\nsigkill: {kills} kills, {total} lines written, {len(seqs)} records, lost {lost}, "
              f"duplicates {dupes} (all replays of the same event.id: {len(ids) == len(set(seqs))}), "
              f"torn records {bad}")
        assert kills == 5
        assert lost == 0
        # At-least-once: replays are allowed, but a replayed line must carry the same event.id.
        assert len(ids) == len(set(seqs))


class TestHostileInput:
    def test_huge_line_and_binary_garbage_do_not_crash(self, tmp_path: Path) -> None:
        """A 5 MB line is truncated and tagged, binary garbage is replaced and tagged, and nothing else is lost."""
        logs, out, cfg = setup(tmp_path)
        rng = random.Random(7)
        garbage = bytes(rng.getrandbits(8) for _ in range(200_000)).replace(b"\n", b"")
        with open(logs / "app.log", "wb") as f:
            f.write(b"seq 0 first\n")
            f.write(b"A" * (5 * 1024 * 1024) + b"\n")
            f.write(b"seq 1 " + garbage + b"\n")
            f.write(b"seq 2 last\n")
        r = logferry("run", "--once", "-c", str(cfg), timeout=120)
        assert r.returncode == 0, r.stderr
        records = [json.loads(x) for x in out.read_bytes().splitlines()]
        assert len(records) == 4
        assert records[0]["message"] == "seq 0 first"
        assert "_line_truncated" in records[1]["tags"]
        assert len(records[1]["message"].encode()) <= 102400
        assert "_invalid_utf8" in records[2]["tags"]
        assert records[2]["message"].startswith("seq 1 ")
        assert records[3]["message"] == "seq 2 last"


SLOW_STDOUT = """\
data_dir: {data}
api: {{enabled: false}}
sources:
  app:
    type: file
    include: ["{logs}/app.log"]
    read_from: beginning
outputs:
  out:
    type: console
    inputs: [app]
    encoding: {{codec: text}}
    buffer: {{max_events: 2000}}
"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class TestBackpressure:
    def test_slow_output_stops_reading_and_memory_stays_bounded(self, tmp_path: Path) -> None:
        """A consumer that reads slowly makes the agent stop reading: RSS stays far below the file size, nothing is lost."""
        logs = tmp_path / "logs"
        logs.mkdir()
        total = 1_500_000
        line_pad = "y" * 100
        with open(logs / "app.log", "w") as f:
            f.writelines(f"seq {i} {line_pad}\n" for i in range(total))
        size_mib = (logs / "app.log").stat().st_size / 2**20
        cfg = tmp_path / "config.yaml"
        cfg.write_text(SLOW_STDOUT.format(data=tmp_path / "data", logs=logs))
        proc = subprocess.Popen([sys.executable, "-m", "logferry.agent", "run", "--once", "-c", str(cfg)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            # Read slowly at first: the agent must wait, not buffer the file.
            head = b""
            peak = 0.0
            for _ in range(30):
                head += proc.stdout.read(64 * 1024)
                peak = max(peak, rss_mib(proc.pid))
                time.sleep(0.05)
            rest = proc.stdout.read()
            assert proc.wait(120) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        lines = (head + rest).decode().splitlines()
        print(f"\nbackpressure: file {size_mib:.0f} MiB, agent peak RSS while throttled {peak:.0f} MiB")
        assert len(lines) == total
        assert lines[0] == f"seq 0 {line_pad}" and lines[-1] == f"seq {total - 1} {line_pad}"
        assert peak < size_mib / 2


class TestOnce:
    def test_once_reads_to_end_and_resumes_from_checkpoint(self, tmp_path: Path) -> None:
        """run --once delivers every line and exits 0; a second run ships only lines appended since."""
        logs, out, cfg = setup(tmp_path)
        (logs / "app.log").write_text("".join(f"seq {i} a\n" for i in range(1000)))
        assert logferry("run", "--once", "-c", str(cfg)).returncode == 0
        with open(logs / "app.log", "a") as f:
            f.write("".join(f"seq {i} a\n" for i in range(1000, 1500)))
        assert logferry("run", "--once", "-c", str(cfg)).returncode == 0
        seqs, _, _ = read_output(out)
        assert seqs == list(range(1500))


class TestEventIds:
    def test_copytruncate_of_a_file_that_started_short_gives_new_ids(self, tmp_path: Path) -> None:
        """Lines written after a copytruncate never reuse the event.id of earlier lines at the same offsets.

        A file first seen while shorter than the fingerprint window is identified by its inode,
        which copytruncate keeps; reused ids would make Elasticsearch answer 409 and drop the new lines.
        """
        logs, out, cfg = setup(tmp_path)
        log = logs / "app.log"

        def lines(start: int, stop: int) -> str:
            # Fixed width, so lines before and after the truncation sit at the same offsets.
            return "".join(f"seq {i} {'x' * (12 - len(str(i)))}\n" for i in range(start, stop))

        log.write_text(lines(0, 2))
        with AgentProcess(cfg) as agent:
            agent.wait_for_log("Pipeline started.")
            wait_for_all(out, 2, 20)
            with open(log, "a") as f:
                f.write(lines(2, 100))
            wait_for_all(out, 100, 20)
            shutil.copyfile(log, logs / "app.log.1")
            os.truncate(log, 0)
            with open(log, "a") as f:
                f.write(lines(100, 102))  # short again: identified by its (unchanged) inode
            wait_for_all(out, 102, 20)
            with open(log, "a") as f:
                f.write(lines(102, 200))
            wait_for_all(out, 200, 30)
            agent.signal(signal.SIGTERM)
            assert agent.wait() == 0
        seqs, ids, _ = read_output(out)
        assert sorted(set(seqs)) == list(range(200))
        # Every distinct line has its own id (a replayed line would repeat its own id, never another's).
        assert len(ids) == len(set(seqs))
