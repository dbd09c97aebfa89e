#!/usr/bin/env python3
"""Throughput, recall and false positives of the redact transform on the generated corpus.

Runs the whole transform (events built from lines, every detector on, mask
action) over batches of 1024 lines on one core and reports MiB/s of message
text, best and median of ``--repeat`` runs, by wall clock and by the process's
CPU time (which other processes on a busy machine do not inflate), with the
load averages before and after; then recall and false positives per detector
of the scanner on the same corpus. ``--input FILE`` times a log file of your
own instead (no scores). Every run uses a fresh transform, so no verdict cache
carries over from one run to the next.

    /work/venv/bin/python bench/redact_bench.py --lines 200000 --engine auto
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.transforms.redact.corpus

from logferry.agent.event import Batch  # noqa: E402
from logferry.transforms.redact.transform import RedactConfig  # noqa: E402
from tests.transforms.redact.corpus import mixed, score  # noqa: E402

BATCH = 1024


def build(engine: str):  # type: ignore[no-untyped-def]
    from logferry.agent.component import BuildContext
    from logferry.agent.telemetry import ComponentMetrics

    cfg = RedactConfig(type="redact", inputs=["x"], engine=engine)  # type: ignore[arg-type]
    ctx = BuildContext("bench", Path("/tmp"), "bench-host", ComponentMetrics("bench", "transform", "redact"))
    return cfg.build(ctx)


def time_transform(lines: list[str], engine: str, repeat: int) -> tuple[list[float], list[float], str]:
    """Wall-clock and CPU seconds of each run over all batches, and the engine used."""
    walls, cpus = [], []
    used = ""
    for _ in range(repeat):
        t = build(engine)
        used = t.scanner.engine
        batches = [Batch.from_lines(lines[i:i + BATCH], {"host.name": "gpu-node-7", "log.file.path": "/var/log/serve.log"})
                   for i in range(0, len(lines), BATCH)]
        w0, c0 = time.perf_counter(), time.process_time()
        for b in batches:
            t.process(b)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, used


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--pii-share", type=float, default=0.2, help="share of lines carrying a planted value")
    ap.add_argument("--engine", default="auto,re", help="comma-separated: auto, hyperscan, re")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--input", help="a log file to time instead of the generated corpus")
    args = ap.parse_args(argv)

    if args.input:
        with open(args.input, encoding="utf-8", errors="replace") as f:
            lines = [ln.rstrip("\n") for _, ln in zip(range(args.lines), f)]
        cases = None
    else:
        cases = mixed(args.lines, args.seed, args.pii_share)
        lines = [c.line for c in cases]
    mib = sum(len(s.encode()) for s in lines) / 2**20
    print(f"corpus: {len(lines)} lines, {mib:.1f} MiB, pii share {args.pii_share if cases else 'n/a'}")
    for engine in args.engine.split(","):
        load_before = _load()
        walls, cpus, used = time_transform(lines, engine, args.repeat)
        best, median = min(walls), statistics.median(walls)
        print(f"engine={used:9} transform: best {mib / best:6.1f} MiB/s, median {mib / median:6.1f} MiB/s "
              f"({len(lines) / median / 1000:.0f} k lines/s) wall clock; CPU time best {mib / min(cpus):.1f}, "
              f"median {mib / statistics.median(cpus):.1f} MiB/s; {args.repeat} runs; "
              f"load average 1/5/15 min {load_before} before, {_load()} after")
    if cases is not None:
        scanner = build("auto").scanner
        scores, bad = score(cases, scanner.find)
        negatives = sum(1 for c in cases if not c.planted)
        print(f"\n{'detector':16} {'planted':>8} {'recall':>7} {'FP':>4} {'FP/line':>9}   ({negatives} lines without PII)")
        for d, s in sorted(scores.items()):
            print(f"{d:16} {s.planted:8} {s.recall:7.3f} {s.false_positives:4} {s.false_positives / len(cases):9.2e}")
        for line in bad[:20]:
            print(line[:240])
    return 0


if __name__ == "__main__":
    sys.exit(main())
