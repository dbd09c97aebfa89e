"""Elasticsearch output benchmark: encoding cost per document, and documents/s into the es_wire test server.

    /work/venv/bin/python bench/es_bench.py [--lines 200000] [--corpus FILE]

The corpus is the shared bench corpus (``../shared/bench/gen_corpus.py``, same seed), cut to ``--lines``.
Events are built the way the file source builds them (``Batch.from_lines`` with a LineOrigin), so the
encoder sees realistic documents. The es_wire server runs in a *separate process* so its JSON parsing
does not share our GIL; it parses and checks every document in Python, so the end-to-end figure is a
lower bound set mostly by the test server, not by Elasticsearch.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
sys.path.insert(0, str(REPO))

from logferry.agent.acks import OrderedAcks
from logferry.agent.component import BuildContext, Health, OutputContext
from logferry.agent.event import Batch, LineOrigin
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig
from logferry.outputs.elasticsearch.encoder import BulkEncoder

BATCH = 1000
COMMON = {"@timestamp": "2026-05-01T12:00:00.000Z", "log.file.path": "/var/log/app/serving.log",
          "host.name": "gpu-node-07", "input.type": "file"}


def corpus(lines: int, path: str | None) -> list[str]:
    if path is None:
        out = Path(tempfile.gettempdir()) / f"logferry-es-bench-{lines}.log"
        if not out.exists():
            subprocess.run([sys.executable, str(SHARED / "bench" / "gen_corpus.py"), "--lines", str(lines),
                            "--seed", "42", "-o", str(out)], check=True)
        path = str(out)
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for _, line in zip(range(lines), f)]


def batches(lines: list[str]) -> list[Batch]:
    out = []
    offset = 0
    for i in range(0, len(lines), BATCH):
        chunk = lines[i:i + BATCH]
        offsets = []
        for line in chunk:
            offsets.append(offset)
            offset += len(line) + 1
        out.append(Batch.from_lines(chunk, COMMON, LineOrigin("a1b2c3d4e5f6:", offsets)))
    return out


def config(url: str, **kw: object) -> ElasticsearchOutputConfig:
    raw = {"type": "elasticsearch", "inputs": ["x"], "endpoints": [url],
           "batch": {"max_events": 5000, "max_bytes": 10_000_000, "timeout_secs": 0.2},
           "request": {"concurrency": 8}, **kw}
    return msgspec.convert(raw, ElasticsearchOutputConfig)


def bench_encoding(lines: list[str]) -> None:
    enc = BulkEncoder(config("http://h:9200"))
    bs = batches(lines)
    t0 = time.perf_counter()
    for b in bs:
        b.events  # noqa: B018 - materialize, timed separately
    t_mat = time.perf_counter() - t0
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for b in bs:
            enc.encode(b.events)
        best = min(best, time.perf_counter() - t0)
    n = len(lines)
    items = enc.encode(bs[0].events)
    size = sum(len(i.data) for i in items) / len(items)  # type: ignore[union-attr]
    print(f"encode (data stream, create + _id): {best / n * 1e6:.2f} us/doc  ({n / best:,.0f} docs/s, "
          f"{size:.0f} B/doc)   [event dict build: {t_mat / n * 1e6:.2f} us/doc]")


async def bench_delivery(lines: list[str], url: str, **kw: object) -> tuple[float, float]:
    """(documents/s wall clock, this process's CPU microseconds per document)."""
    cfg = config(url, **kw)
    data = Path(tempfile.mkdtemp())
    metrics = ComponentMetrics("bench", "output", "elasticsearch")
    out = cfg.build(BuildContext("bench", data, "bench", metrics))
    await out.healthcheck()
    inbox = Channel(50_000)
    done: list[int] = []
    acks = OrderedAcks(done.append)
    bs = batches(lines)
    t0 = time.perf_counter()
    c0 = time.process_time()
    task = asyncio.ensure_future(out.run(OutputContext("bench", inbox, data, metrics, Health())))
    for i, b in enumerate(bs):
        b.ack = acks.open(i)
        await inbox.send(b)
    await inbox.close()
    await task
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert done and done[-1] == len(bs) - 1, "not every batch was acknowledged"
    return len(lines) / dt, cpu / len(lines) * 1e6


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=200_000)
    p.add_argument("--corpus")
    args = p.parse_args()
    lines = corpus(args.lines, args.corpus)
    print(f"{len(lines):,} lines from the bench corpus")
    bench_encoding(lines)
    for version in ("8.15.3", "9.1.2"):
        for gzip in ("gzip", "none"):
            server = subprocess.Popen([sys.executable, "-m", "tests.servers.es_wire", "--version", version],
                                      cwd=REPO, stdout=subprocess.PIPE, text=True)
            try:
                assert server.stdout is not None
                url = server.stdout.readline().strip()
                rate, cpu_us = asyncio.run(bench_delivery(lines, url, compression=gzip))
                print(f"delivery into es_wire {version}, compression={gzip}: {rate:,.0f} docs/s "
                      f"(agent side CPU {cpu_us:.1f} us/doc)")
            finally:
                server.terminate()
                server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
