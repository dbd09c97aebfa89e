#!/usr/bin/env python3
"""Pure transform cost of ``parse``: lines/s over the benchmark corpus, batches of 1000.

    python bench/parse_bench.py [--lines 200000] [--formats python_logging,auto] [--corpus FILE]

Generates the corpus with ``../shared/bench/gen_corpus.py`` into a temporary
file unless ``--corpus`` is given. Two paths are timed:

* ``events``: the event dicts are built first, outside the timed part (a
  batch that an earlier transform already turned into events);
* ``columns``: ``process`` on a columnar batch as a file source sends it
  (the parse lays its fields over the lines); ``+project`` adds what an
  NDJSON output with ``only_fields`` does next (``Batch.project``), which is
  the file -> parse -> file pipeline's whole per-line cost past the source.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
from logferry.agent.event import Batch, LineOrigin
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


READ_TIME = "2026-11-24T00:00:00Z"
COMMON = {"@timestamp": READ_TIME, "event.ingested": READ_TIME, "host.name": "bench", "log.file.path": "/x.log"}
# What the bench's parse scenario writes (bench/configs/logferry-parse.yaml).
RENAME = {"@timestamp": "ts", "log.level": "level", "log.logger": "logger"}
ONLY = ["ts", "level", "logger", "message"]


def run(lines: list[str], formats: list[str], batch_size: int, repeat: int, path: str) -> None:
    body = {"type": "parse", "inputs": ["x"], "formats": formats}
    if path == "columns+project":
        body["rename"] = RENAME
    transform = ParseTransform(msgspec.convert(body, ParseConfig))
    best = float("inf")
    parsed = failed = 0
    for _ in range(repeat):
        batches = []
        for i in range(0, len(lines), batch_size):
            chunk = lines[i:i + batch_size]
            b = Batch.from_lines(chunk, COMMON, LineOrigin("bench-", list(range(i, i + len(chunk)))))
            if path == "events":
                _ = b.events  # build the dicts outside the timed part
            batches.append(b)
        t0 = time.perf_counter()
        if path == "columns+project":
            for b in batches:
                transform.process(b)
                b.project(ONLY)
        else:
            for b in batches:
                transform.process(b)
        best = min(best, time.perf_counter() - t0)
        failed = sum("_parse_failure" in e.get("tags", ()) for b in batches for e in b.events)
        parsed = len(lines) - failed
    print(f"formats={','.join(formats):<16} path={path:<16} lines={len(lines)} parsed={parsed} failed={failed} "
          f"best={best:.3f}s -> {len(lines) / best / 1000:,.0f}k lines/s ({best / len(lines) * 1e9:,.0f} ns/line)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--corpus", help="existing corpus file (default: generate one)")
    ap.add_argument("--formats", action="append",
                    help="comma-separated format list; repeatable (default: python_logging and auto)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--path", action="append", choices=["events", "columns", "columns+project"],
                    help="repeatable (default: events and columns; columns+project for python_logging)")
    args = ap.parse_args()
    lines = load_lines(args)
    py_lines = [ln for ln in lines if ln[:4].isdigit() and ln[4:5] == "-"]
    for spec in args.formats or ["python_logging", "auto"]:
        formats = spec.split(",")
        paths = args.path or ["events", "columns"] + (["columns+project"] if formats == ["python_logging"] else [])
        for path in paths:
            run(lines, formats, args.batch, args.repeat, path)
        if formats == ["python_logging"]:
            run(py_lines, formats, args.batch, args.repeat, "columns")  # only Python-logging lines: per-match cost
    return 0


if __name__ == "__main__":
    sys.exit(main())
