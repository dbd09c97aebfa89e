#!/usr/bin/env python3
"""Pure transform cost of ``parse``: lines/s over the benchmark corpus, batches of 1000.

    python bench/parse_bench.py [--lines 200000] [--formats python_logging,auto] [--corpus FILE]

Generates the corpus with ``../shared/bench/gen_corpus.py`` into a temporary
file unless ``--corpus`` is given. Batch construction (``Batch.from_lines`` and
building the event dicts) is timed separately from ``process`` so the figure
is the parse itself.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from logferry.agent.event import Batch
from logferry.transforms.parse.transform import ParseConfig, ParseTransform

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / ".." / "shared" / "bench" / "gen_corpus.py"


def load_lines(args: argparse.Namespace) -> list[str]:
    if args.corpus:
        return Path(args.corpus).read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "corpus.log"
        subprocess.run([sys.executable, str(GEN), "--lines", str(args.lines), "--seed", "42", "-o", str(out)],
                       check=True, stderr=subprocess.DEVNULL)
        return out.read_text(encoding="utf-8").splitlines()


def run(lines: list[str], formats: list[str], batch_size: int, repeat: int) -> None:
    config = msgspec.convert({"type": "parse", "inputs": ["x"], "formats": formats}, ParseConfig)
    transform = ParseTransform(config)
    best = float("inf")
    parsed = failed = 0
    for _ in range(repeat):
        batches = []
        for i in range(0, len(lines), batch_size):
            b = Batch.from_lines(lines[i:i + batch_size], {"@timestamp": "2026-11-24T00:00:00Z"})
            _ = b.events  # build the dicts outside the timed part
            batches.append(b)
        t0 = time.perf_counter()
        for b in batches:
            transform.process(b)
        best = min(best, time.perf_counter() - t0)
        failed = sum("_parse_failure" in e.get("tags", ()) for b in batches for e in b.events)
        parsed = len(lines) - failed
    print(f"formats={','.join(formats):<24} lines={len(lines)} parsed={parsed} failed={failed} "
          f"best={best:.3f}s -> {len(lines) / best / 1000:,.0f}k lines/s ({best / len(lines) * 1e9:,.0f} ns/line)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--corpus", help="existing corpus file (default: generate one)")
    ap.add_argument("--formats", action="append",
                    help="comma-separated format list; repeatable (default: python_logging and auto)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lines = load_lines(args)
    py_lines = [ln for ln in lines if ln[:4].isdigit() and ln[4:5] == "-"]
    for spec in args.formats or ["python_logging", "auto"]:
        formats = spec.split(",")
        run(lines, formats, args.batch, args.repeat)
        if formats == ["python_logging"]:
            run(py_lines, formats, args.batch, args.repeat)  # only Python-logging lines: the per-match cost
    return 0


if __name__ == "__main__":
    sys.exit(main())
