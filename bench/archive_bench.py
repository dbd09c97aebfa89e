#!/usr/bin/env python3
"""Archive writer throughput: MiB/s of source log bytes into the local archive, NDJSON+gzip and Parquet.

    python bench/archive_bench.py [--lines 500000] [--corpus FILE] [--encodings ndjson:gzip,parquet:zstd]

Generates the corpus with ``../shared/bench/gen_corpus.py`` unless ``--corpus``
is given. Batches of 1000 lines are built the way the file source builds
them (``Batch.from_lines`` with ``LineOrigin``, so events carry ``event.id``,
``log.offset``, ``@timestamp``, ``host.name``, ``log.file.path``) and sent
through a real Channel into ``ArchiveOutput.run``; the clock runs from the
first send until ``run`` returned, i.e. every object is encoded, fsync'ed
and renamed and every ack settled. Events are not parsed, so the Parquet
schema is the file source's flat fields plus ``message``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from logferry.agent.acks import OrderedAcks
from logferry.agent.component import BuildContext, Health, OutputContext
from logferry.agent.event import Batch, LineOrigin
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.outputs.s3.config import ArchiveOutputConfig

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / ".." / "shared" / "bench" / "gen_corpus.py"
MiB = 1024 * 1024


def load_lines(args: argparse.Namespace, tmp: Path) -> list[str]:
    if args.corpus:
        return Path(args.corpus).read_text(encoding="utf-8").splitlines()
    out = tmp / "corpus.log"
    subprocess.run([sys.executable, str(GEN), "--lines", str(args.lines), "--seed", "42", "-o", str(out)],
                   check=True, stderr=subprocess.DEVNULL)
    return out.read_text(encoding="utf-8").splitlines()


def make_batches(lines: list[str], size: int, acks: OrderedAcks) -> list[Batch]:
    common = {"@timestamp": "2024-05-01T12:00:00.000Z", "host.name": "bench-host",
              "log.file.path": "/var/log/ml/serve.log", "event.dataset": "ml.serve"}
    batches, offset = [], 0
    for i in range(0, len(lines), size):
        chunk = lines[i:i + size]
        offsets = []
        for line in chunk:
            offsets.append(offset)
            offset += len(line.encode()) + 1
        batches.append(Batch.from_lines(chunk, common, LineOrigin("5f0c2a9e7b1d3c4a-", offsets),
                                        ack=acks.open(offset)))
    return batches


async def one_run(lines: list[str], encoding: str, codec: str, root: Path, concurrency: int) -> tuple[float, int]:
    cfg = msgspec.convert({"type": "archive", "inputs": ["src"], "path": str(root / "archive"),
                           "encoding": encoding, "compression": codec, "concurrency": concurrency},
                          ArchiveOutputConfig)
    metrics = ComponentMetrics("bench", "output", "archive")
    output = cfg.build(BuildContext("bench", root / "data", "bench-host", metrics))
    advanced: list[int] = []
    batches = make_batches(lines, 1000, OrderedAcks(advanced.append))
    inbox = Channel(max_events=16_000)
    ctx = OutputContext("bench", inbox, root / "data", metrics, Health())
    t0 = time.perf_counter()
    task = asyncio.create_task(output.run(ctx))
    for b in batches:
        await inbox.send(b)
    await inbox.close()
    await task
    elapsed = time.perf_counter() - t0
    assert advanced, "acks never advanced"
    stored = sum(p.stat().st_size for p in (root / "archive").rglob("*") if p.is_file()
                 and not p.name.endswith(".meta.json"))
    return elapsed, stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=500_000)
    ap.add_argument("--corpus")
    ap.add_argument("--encodings", default="ndjson:gzip,ndjson:zstd,parquet:zstd,parquet:snappy")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        lines = load_lines(args, tmp)
        src_bytes = sum(len(x.encode()) + 1 for x in lines)
        print(f"corpus: {len(lines)} lines, {src_bytes / MiB:.1f} MiB; batches of 1000; concurrency "
              f"{args.concurrency}; median of {args.repeat}")
        for spec in args.encodings.split(","):
            encoding, codec = spec.split(":")
            times, stored = [], 0
            for r in range(args.repeat):
                root = tmp / f"{encoding}-{codec}-{r}"
                elapsed, stored = asyncio.run(one_run(lines, encoding, codec, root, args.concurrency))
                times.append(elapsed)
                shutil.rmtree(root)
            t = sorted(times)[len(times) // 2]
            print(f"{encoding:8s} {codec:7s} {src_bytes / MiB / t:8.1f} MiB/s  {len(lines) / t / 1000:8.0f}k lines/s  "
                  f"stored {stored / MiB:6.1f} MiB (ratio {src_bytes / stored:4.1f}x)")


if __name__ == "__main__":
    main()
