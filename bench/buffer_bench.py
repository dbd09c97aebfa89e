"""Disk buffer throughput: write (append + fsync policy) and read (stream + CRC + decode) in MiB/s.

Run: ``/work/venv/bin/python bench/buffer_bench.py [--events 200000] [--fsync interval]``. Events look
like a file source's (message ~100 bytes, event.id, log.offset, log.file.path, host.name, @timestamp),
in batches of 1,000, one record per batch. MiB are of record bytes on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import tempfile
import time
from pathlib import Path

import msgspec

from logferry.agent.acks import AckStatus, OrderedAcks
from logferry.agent.buffers.disk.buffer import DiskBuffer
from logferry.agent.config.common import BufferConfig
from logferry.agent.event import Batch
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel


def make_batches(total: int, per: int) -> list[list[dict[str, object]]]:
    pad = "x" * 60
    return [[{"message": f"2026-05-01T12:00:00Z INFO trainer step={i} loss=0.{i % 997:03d} {pad}",
              "event.id": f"3f9a1c2b7d4e5f60{i:x}", "log.offset": i * 110, "log.file.path": "/var/log/app/train.log",
              "host.name": "gpu-node-17", "@timestamp": "2026-05-01T12:00:00.000Z"}
             for i in range(start, min(start + per, total))] for start in range(0, total, per)]


async def bench(events: int, fsync: str, encrypt: bool) -> tuple[float, float, int]:
    batches = make_batches(events, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "buf"
        enc = None
        if encrypt:
            os.environ["LF_BENCH_KEY"] = base64.b64encode(os.urandom(32)).decode()
            enc = {"key_id": "bench", "key_env": "LF_BENCH_KEY"}
        cfg = msgspec.convert({"type": "disk", "max_size_bytes": 4 << 30, "fsync": fsync,
                               "segment_max_bytes": 64 << 20, "encryption": enc}, BufferConfig)
        # Write phase: upstream only; the output is not read (shutdown set, so nothing is handed over).
        inbox, out = Channel(8192), Channel(8192)
        acked: list[int] = []
        acks = OrderedAcks(acked.append)
        stop = asyncio.Event()
        stop.set()
        buf = DiskBuffer("bench", d, cfg, inbox, out, ComponentMetrics("bench", "output", "bench"), shutdown=stop)
        task = asyncio.ensure_future(buf.run())
        t0 = time.perf_counter()
        for i, evs in enumerate(batches):
            await inbox.send(Batch.from_events(evs, ack=acks.open(i)))
        await inbox.close()
        while (b := await out.recv()) is not None:
            b.ack.settle(AckStatus.ERRORED)  # type: ignore[union-attr]
        await task
        write_secs = time.perf_counter() - t0
        assert acked[-1] == len(batches) - 1
        size = sum(p.stat().st_size for p in d.glob("*.seg"))
        # Read phase: a fresh start streams everything to the output (--once drains).
        inbox, out = Channel(8192), Channel(8192)
        buf = DiskBuffer("bench", d, cfg, inbox, out, ComponentMetrics("bench", "output", "bench"), once=True)
        await inbox.close()
        t0 = time.perf_counter()
        task = asyncio.ensure_future(buf.run())
        n = 0
        while (b := await out.recv()) is not None:
            n += len(b.events)
            b.ack.settle(AckStatus.DELIVERED)  # type: ignore[union-attr]
        await task
        read_secs = time.perf_counter() - t0
        assert n == events
    return size / 2**20 / write_secs, size / 2**20 / read_secs, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    logging.disable(logging.ERROR)  # the write phase abandons what it handed over, on purpose
    for fsync in ("never", "interval", "always"):
        for encrypt in (False, True):
            w, r, size = asyncio.run(bench(args.events, fsync, encrypt))
            print(f"fsync={fsync:<8} encrypted={encrypt!s:<5} {args.events} events, {size / 2**20:.1f} MiB on disk: "
                  f"write {w:.0f} MiB/s ({args.events * w / (size / 2**20) / 1e3:.0f} k events/s), "
                  f"read {r:.0f} MiB/s ({args.events * r / (size / 2**20) / 1e3:.0f} k events/s)")


if __name__ == "__main__":
    main()
