#!/usr/bin/env python3
"""Throughput, recall and false positives of the redact transform on the generated corpus.

Runs the whole transform (every detector on, mask action) over batches of
1024 lines on one core and reports MiB/s of message text, best and median of
``--repeat`` runs, by wall clock and by the process's CPU time (which other
processes on a busy machine do not inflate), with the load averages before and
after; then recall and false positives per detector of the scanner on the same
corpus. ``--input FILE`` times a log file of your own instead (no scores).
Every run uses a fresh transform, so no verdict cache carries over from one
run to the next.

Each engine is timed per batch shape (``--shape``): ``lines``, batches as the
file source hands them (lines over common fields, events not built yet),
``parsed``, such batches after the real ``parse`` transform (``formats:
[auto]``) laid its fields over the lines, as in the example pipeline (file ->
parse -> redact; parsed before the clock starts), and ``events``, batches
whose events an earlier transform already built (built before the clock
starts); and per garbage-collector setting (``--gc``):
``default``, and ``agent``, the setting the agent applies at start
(``gc.freeze()`` after start-up, young-generation threshold ``GC_YOUNG_THRESHOLD`` of
``logferry.agent.runtime_tuning``).

    /work/venv/bin/python bench/redact_bench.py --lines 200000 --engine auto,re
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests.transforms.redact.corpus

from logferry.agent.event import Batch  # noqa: E402
from logferry.agent.runtime_tuning import GC_YOUNG_THRESHOLD  # noqa: E402
from logferry.transforms.redact.transform import RedactConfig  # noqa: E402
from tests.transforms.redact.corpus import mixed, score  # noqa: E402

BATCH = 1024
AGENT_GC_THRESHOLD = (GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])  # what the agent sets at start (with gc.freeze())


def build(engine: str):  # type: ignore[no-untyped-def]
    from logferry.agent.component import BuildContext
    from logferry.agent.telemetry import ComponentMetrics

    cfg = RedactConfig(type="redact", inputs=["x"], engine=engine)  # type: ignore[arg-type]
    ctx = BuildContext("bench", Path("/tmp"), "bench-host", ComponentMetrics("bench", "transform", "redact"))
    return cfg.build(ctx)


def build_parse():  # type: ignore[no-untyped-def]
    """The real ``parse`` transform as the example pipeline configures it (``formats: [auto]``)."""
    import msgspec

    from logferry.agent.component import BuildContext
    from logferry.agent.telemetry import ComponentMetrics
    from logferry.transforms.parse.transform import ParseConfig

    cfg = msgspec.convert({"type": "parse", "inputs": ["x"], "formats": ["auto"]}, ParseConfig)
    return cfg.build(BuildContext("bench-parse", Path("/tmp"), "bench-host",
                                  ComponentMetrics("bench-parse", "transform", "parse")))


def time_transform(lines: list[str], engine: str, repeat: int, shape: str) -> tuple[list[float], list[float], str]:
    """Wall-clock and CPU seconds of each run over all batches, and the engine used."""
    walls, cpus = [], []
    used = ""
    common = {"host.name": "gpu-node-7", "log.file.path": "/var/log/serve.log"}
    parse = build_parse() if shape == "parsed" else None
    for _ in range(repeat):
        t = build(engine)
        used = t.scanner.engine
        batches = [Batch.from_lines(lines[i:i + BATCH], common) for i in range(0, len(lines), BATCH)]
        if parse is not None:
            batches = [parse.process(b) for b in batches]
            assert all(b is not None and not b.materialized for b in batches)
        if shape == "events":
            batches = [Batch.from_events(b.events) for b in batches]
        w0, c0 = time.perf_counter(), time.process_time()
        for b in batches:
            t.process(b)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, used


def set_gc(mode: str, default_threshold: tuple[int, int, int]) -> None:
    if mode == "agent":
        gc.collect()
        gc.freeze()
        gc.set_threshold(*AGENT_GC_THRESHOLD)
    else:
        gc.unfreeze()
        gc.set_threshold(*default_threshold)


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--pii-share", type=float, default=0.2, help="share of lines carrying a planted value")
    ap.add_argument("--engine", default="auto,re", help="comma-separated: auto, hyperscan, re")
    ap.add_argument("--shape", default="lines,parsed,events",
                    help="comma-separated batch shapes: lines, parsed, events")
    ap.add_argument("--gc", default="default,agent", help="comma-separated GC settings: default, agent")
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
    default_threshold = gc.get_threshold()
    print(f"gc: default = threshold {default_threshold}; agent = gc.freeze() + threshold {AGENT_GC_THRESHOLD}")
    for engine in args.engine.split(","):
        for shape in args.shape.split(","):
            for gc_mode in args.gc.split(","):
                set_gc(gc_mode, default_threshold)
                load_before = _load()
                walls, cpus, used = time_transform(lines, engine, args.repeat, shape)
                best, median = min(walls), statistics.median(walls)
                print(f"engine={used:9} shape={shape:6} gc={gc_mode:7} best {mib / best:6.1f} MiB/s, median "
                      f"{mib / median:6.1f} MiB/s ({len(lines) / median / 1000:.0f} k lines/s) wall clock; CPU time "
                      f"best {mib / min(cpus):.1f}, median {mib / statistics.median(cpus):.1f} MiB/s; {args.repeat} "
                      f"runs; load average 1/5/15 min {load_before} before, {_load()} after")
    set_gc("default", default_threshold)
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
