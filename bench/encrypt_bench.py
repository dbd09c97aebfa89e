#!/usr/bin/env python3
"""Throughput of the encrypt transform and of `logferry decrypt` on one core.

Builds the transform from a config (random keys in a temp folder), runs it
over batches of 1024 events with ``--fields`` string fields of ~40 bytes
plus one int each, and reports events/s and encrypted values/s for GCM and
SIV; then times ``Decryptor`` (the engine of ``logferry decrypt``) over the
encrypted output as NDJSON lines.

    /work/venv/bin/python bench/encrypt_bench.py --events 200000 --fields 2
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import msgspec

from logferry.agent.event import Batch
from logferry.transforms.encrypt import EncryptConfig
from logferry.transforms.encrypt_cli import Decryptor, Stats
from logferry.transforms.keyring import load_keyring

BATCH = 1024


def events(n: int, fields: int) -> list[dict[str, object]]:
    return [{"message": f"request {i} served", "user.id": i,
             **{f"secret.f{j}": f"user-{i:08d}@example.invalid-{j}-padding" for j in range(fields)}}
            for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--fields", type=int, default=2, help="string fields encrypted per event (plus user.id)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    src = events(args.events, args.fields)
    names = [f"secret.f{j}" for j in range(args.fields)] + ["user.id"]
    with tempfile.TemporaryDirectory() as tmp:
        for mode, n in (("gcm", 32), ("siv", 64)):
            key = Path(tmp) / f"{mode}.key"
            key.write_text(base64.b64encode(os.urandom(n)).decode())
            key.chmod(0o600)
            cfg = msgspec.convert({"type": "encrypt", "inputs": ["x"], "fields": names, "mode": mode,
                                   "keys": [{"id": mode, "file": str(key)}]}, EncryptConfig)
            t = cfg.build(None)  # type: ignore[arg-type]
            times = []
            out: list[dict[str, object]] = []
            for _ in range(args.repeat):
                batches = [[dict(e) for e in src[i:i + BATCH]] for i in range(0, len(src), BATCH)]
                start = time.perf_counter()
                for b in batches:
                    t.process(Batch.from_events(b))
                times.append(time.perf_counter() - start)
                out = [e for b in batches for e in b]
            best = min(times)
            values = args.events * len(names)
            print(f"encrypt {mode}: {args.events / best:,.0f} events/s, {values / best:,.0f} values/s "
                  f"(best of {args.repeat}, median {statistics.median(times):.3f}s)")
            encoded = msgspec.json.Encoder()
            lines = b"".join(encoded.encode(e) + b"\n" for e in out)
            ring = load_keyring(cfg.keys)
            dtimes = []
            for _ in range(args.repeat):
                stats = Stats()
                sink = io.BytesIO()
                start = time.perf_counter()
                Decryptor(ring, None, stats, io.StringIO()).run("bench", io.BytesIO(lines), sink)
                dtimes.append(time.perf_counter() - start)
                assert stats.decrypted == values and not stats.tampered
            print(f"decrypt {mode}: {args.events / min(dtimes):,.0f} records/s, "
                  f"{len(lines) / min(dtimes) / 2**20:,.1f} MiB/s of NDJSON")


if __name__ == "__main__":
    main()
