#!/usr/bin/env python3
"""Throughput of the ``journald`` source end to end: journalctl -o json -> parse -> ECS batches.

    python bench/journald_bench.py [--entries 100000]

Builds a journal file from generated export data with systemd-journal-remote,
then reads it in ``--once`` mode into a consumer that only settles acks. Also
times ``journalctl -o json`` alone to > /dev/null, the floor for the source.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

import msgspec
from logferry.agent.component import BuildContext, SourceContext, settle
from logferry.agent.sources.journald import JournaldSourceConfig
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout

REMOTE = next(p for p in ("/usr/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-remote")
              if Path(p).exists())


def make_journal(path: Path, n: int) -> None:
    chunks = []
    for i in range(n):
        chunks.append(
            f"__REALTIME_TIMESTAMP={1_700_000_000_000_000 + i}\n__MONOTONIC_TIMESTAMP={1000 + i}\n"
            f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=trainer.service\n_PID={4000 + i % 7}\n"
            f"_COMM=python3\n_HOSTNAME=gpu-node-7\nPRIORITY={i % 8}\nSYSLOG_IDENTIFIER=trainer\n"
            f"MESSAGE=epoch {i // 1000} step {i} loss={1 / (i + 1):.6f} lr=3e-4 grad_norm=0.93\n\n")
    subprocess.run([REMOTE, f"--output={path}", "-"], input="".join(chunks).encode(), check=True,
                   capture_output=True)


async def read_all(path: Path, data_dir: Path) -> int:
    cfg = msgspec.convert({"type": "journald", "journal_files": [str(path)]}, JournaldSourceConfig)
    metrics = ComponentMetrics("bench", "source", "journald")
    source = cfg.build(BuildContext("bench", data_dir, "bench-host", metrics, once=True))
    channel = Channel(100_000)
    fanout = Fanout([(channel, False)])
    ctx = SourceContext("bench", fanout, asyncio.Event(), data_dir, metrics, once=True)
    count = 0

    async def drain() -> None:
        nonlocal count
        async for batch in channel:
            count += len(batch)
            settle(batch)

    async with asyncio.TaskGroup() as tg:
        tg.create_task(drain())
        await source.run(ctx)
        await fanout.close()
    await source.finalize()
    return count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        journal = Path(d) / "bench.journal"
        make_journal(journal, args.entries)
        t0 = time.perf_counter()
        subprocess.run(["journalctl", f"--file={journal}", "--output=json", "--all", "--no-pager", "--no-tail"],
                       stdout=subprocess.DEVNULL, check=True)
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = asyncio.run(read_all(journal, Path(d) / "state"))
        took = time.perf_counter() - t0
    assert n == args.entries, n
    print(f"journalctl -o json alone: {args.entries / floor:,.0f} entries/s")
    print(f"journald source (json decode + ECS mapping + batches): {n / took:,.0f} entries/s")


if __name__ == "__main__":
    main()
