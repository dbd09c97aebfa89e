"""Chaos: a rotating writer, an agent SIGKILLed again and again, Elasticsearch away and refusing; nothing lost.

The agent tails a file that is rotated by rename and by copytruncate while
200,000 lines are written, and ships it through disk buffers to the es_wire
server and to moto's S3. It is killed with SIGKILL at 20 random moments and
restarted each time; meanwhile Elasticsearch disappears for 10 s and then
answers 429/503 for a while. A last ``--once`` run drains. Every line must be
in Elasticsearch exactly once (by ``_id``) and in S3 at least once (exactly
once after dedupe by ``event.id``).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.es_wire import EsWireServer
from tests.servers.moto_server import MotoS3, fake_aws_env
from tests.support.agent import AgentProcess
from tests.support.logwriter import RotatingWriter

TOTAL = 200_000
KILLS = 20
SEQ = re.compile(r"^seq (\d+) ")

CONFIG = """\
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
  es:
    type: elasticsearch
    inputs: [app]
    endpoints: ["{es_url}"]
    batch: {{max_events: 1000, timeout_secs: 0.2}}
    request: {{concurrency: 4, retry_initial_backoff_secs: 0.05, retry_max_backoff_secs: 0.5}}
    buffer: {{type: disk, max_size_bytes: 268435456, segment_max_bytes: 4194304, fsync: interval,
              fsync_interval_ms: 50}}
  control:
    type: file
    inputs: [app]
    path: {control}
    encoding: {{only_fields: [message, event.id]}}
  s3:
    type: s3
    inputs: [app]
    bucket: {bucket}
    endpoint_url: {s3_url}
    force_path_style: true
    region: us-east-1
    partition: "host={{host.name}}/"
    batch: {{max_events: 10000, timeout_secs: 1}}
    buffer: {{type: disk, max_size_bytes: 268435456, segment_max_bytes: 3000000, fsync: always}}
"""


def es_docs(server: EsWireServer) -> dict[str, int]:
    """``_id`` -> line number of every document stored."""
    out: dict[str, int] = {}
    for _, doc_id, doc in server.state.search("*", {})[1]:
        m = SEQ.match(doc.get("message", ""))
        assert m is not None, doc
        out[doc_id] = int(m.group(1))
    return out


def restart(server: EsWireServer) -> None:
    """Bring a stopped es_wire server back on its port with its documents (the port may linger a moment)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            server.start()
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def s3_rows(moto: MotoS3, bucket: str) -> list[tuple[str, int]]:
    """(event.id, line number) of every row of every archived object, duplicates included."""
    client = moto.client()
    rows: list[tuple[str, int]] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith(".ndjson.gz"):
                continue
            body = gzip.decompress(client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            for line in body.splitlines():
                rec = json.loads(line)
                m = SEQ.match(rec["message"])
                assert m is not None, rec
                rows.append((rec["event.id"], int(m.group(1))))
    return rows


def control_rows(path: Path) -> list[tuple[str, int]]:
    """(event.id, line number) of every line the control file output wrote."""
    rows = []
    for raw in path.read_bytes().splitlines():
        rec = json.loads(raw)
        m = SEQ.match(rec["message"])
        assert m is not None, rec
        rows.append((rec["event.id"], int(m.group(1))))
    return rows


@dataclass
class ChaosResult:
    kills: int
    rotations: dict[str, int]
    es_ids: dict[str, int]          # _id -> line number
    s3_rows: list[tuple[str, int]]  # (event.id, line number), replays included
    control_rows: list[tuple[str, int]]  # the same from a file output with a memory buffer: what the source sent


def run_chaos(tmp_path: Path, moto_s3: MotoS3) -> ChaosResult:
    """Write, rotate, kill and restart, take Elasticsearch away; then drain with --once and read both stores."""
    rng = random.Random(20261124)
    bucket = f"logferry-chaos-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=bucket)
    env = fake_aws_env(tmp_path / "no-aws-config")
    es = EsWireServer("8.15.3").start()
    logs = tmp_path / "logs"
    logs.mkdir()
    cfg = tmp_path / "agent.yaml"
    control = tmp_path / "control.ndjson"
    cfg.write_text(CONFIG.format(data=tmp_path / "data", logs=logs, es_url=es.url, bucket=bucket,
                                 s3_url=moto_s3.endpoint_url, control=control))
    writer = RotatingWriter(logs, TOTAL, rotate_every=25_000, copytruncate=True, pace_secs=0.12)
    writer.start()
    kills = 0
    down_since: float | None = None
    agent = AgentProcess(cfg, env=env)
    try:
        for i in range(KILLS):
            agent.wait_for_log("Pipeline started.", timeout=60)
            if i == 6:                      # Elasticsearch goes away for 10 s ...
                es.stop()
                down_since = time.monotonic()
            if down_since is not None and time.monotonic() - down_since >= 10:
                restart(es)
                down_since = None
            if i == 12:                     # ... and later answers 429/503 for a while
                es.faults.request_statuses = [429, 503] * 40
                es.faults.item_429_every = 7
            if i == 16:
                es.faults.clear()
            time.sleep(rng.uniform(0.3, 2.0))
            agent.kill()
            kills += 1
            agent = AgentProcess(cfg, env=env)
        if down_since is not None:
            time.sleep(max(0.0, 10 - (time.monotonic() - down_since)))
            restart(es)
        es.faults.clear()
        writer.join(180)
        assert writer.error is None and not writer.is_alive()
        agent.kill()
        agent = AgentProcess(cfg, "--once", env=env)
        assert agent.wait(240) == 0, agent.stderr()[-3000:]
    finally:
        agent.close()
        es.stop()
    return ChaosResult(kills, writer.rotations, es_docs(es), s3_rows(moto_s3, bucket),
                       control_rows(control))


@pytest.fixture(scope="class")
def chaos(tmp_path_factory: pytest.TempPathFactory, moto_s3: MotoS3) -> Iterator[ChaosResult]:
    started = time.monotonic()
    result = run_chaos(tmp_path_factory.mktemp("chaos"), moto_s3)
    es_seqs = list(result.es_ids.values())
    by_id = dict(result.s3_rows)
    s3_seqs = list(by_id.values())
    print(f"\nchaos: {TOTAL} lines, rotations {result.rotations}, {result.kills} SIGKILLs, ES down 10 s then "
          f"429/503, {time.monotonic() - started:.0f} s\n"
          f"  elasticsearch: {len(es_seqs)} docs; lines lost {TOTAL - len(set(es_seqs))}, "
          f"duplicated {len(es_seqs) - len(set(es_seqs))}\n"
          f"  s3: {len(result.s3_rows)} rows ({len(result.s3_rows) - len(by_id)} replayed copies); after dedupe by "
          f"event.id: lines lost {TOTAL - len(set(s3_seqs))}, duplicated {len(s3_seqs) - len(set(s3_seqs))}")
    seen: dict[int, list[str]] = {}
    for doc_id, seq in result.es_ids.items():
        seen.setdefault(seq, []).append(doc_id)
    dup = sorted(seq for seq, ids in seen.items() if len(ids) > 1)
    if dup:
        print(f"  lines under two ids: {dup[0]}..{dup[-1]}, e.g. line {dup[0]} as {sorted(seen[dup[0]])}")
    yield result


@pytest.mark.slow
class TestDiskBufferChaos:
    def test_the_buffers_lose_nothing_the_source_sent(self, chaos: ChaosResult) -> None:
        """Every event id the source sent (the memory-buffered control output) is in Elasticsearch and in S3."""
        assert chaos.kills == KILLS
        assert chaos.rotations["rename"] >= 3 and chaos.rotations["copytruncate"] >= 3
        sent = {event_id for event_id, _ in chaos.control_rows}
        es = set(chaos.es_ids)
        s3 = {event_id for event_id, _ in chaos.s3_rows}
        print(f"\n  event ids sent {len(sent)}: missing in elasticsearch {len(sent - es)}, in s3 {len(sent - s3)}")
        assert {n for _, n in chaos.control_rows} == set(range(TOTAL))
        assert sent - es == set() and es - sent == set()
        assert sent - s3 == set() and s3 - sent == set()

    def test_every_written_line_arrives_exactly_once(self, chaos: ChaosResult) -> None:
        """Every written line is in Elasticsearch exactly once and in S3 exactly once after dedupe by event.id."""
        es_seqs = sorted(chaos.es_ids.values())
        s3_seqs = sorted(dict(chaos.s3_rows).values())
        assert es_seqs == list(range(TOTAL))
        assert s3_seqs == list(range(TOTAL))
