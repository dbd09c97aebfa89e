"""End to end: the real agent process tails a file into the local archive, is SIGKILLed mid-stream, restarts."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from tests.outputs.s3 import duck
from tests.servers.moto_server import MotoS3
from tests.support.agent import AgentProcess

CONFIG = """\
data_dir: {data}
api: {{enabled: false}}
sources:
  app:
    type: file
    include: ["{logs}/app.log"]
    read_from: beginning
    checkpoint_interval_secs: 0.5
outputs:
  archive:
    type: archive
    inputs: [app]
    path: {archive}
    encoding: {encoding}
    # No time codes: a replay that crosses an hour boundary would legitimately move events (the file
    # source stamps read time); this test is about replays, the time layout is tested elsewhere.
    partition: "host={{host.name}}/"
    batch: {{max_events: 2000, timeout_secs: 30}}
"""

S3_CONFIG = """\
data_dir: {data}
api: {{enabled: false}}
sources:
  app:
    type: file
    include: ["{logs}/app.log"]
    read_from: beginning
outputs:
  s3:
    type: s3
    inputs: [app]
    bucket: {bucket}
    endpoint_url: {endpoint}
    force_path_style: true
    region: us-east-1
    partition: "host={{host.name}}/"
    batch: {{max_events: 2000, timeout_secs: 30}}
"""

KEY = re.compile(r"(?P<stream>[0-9a-zA-Z_.]+)-(?P<first>[0-9a-f]{12})-(?P<last>[0-9a-f]{12})\.")
LINES = 120_000


def _range_meta(obj: Path) -> tuple[str, str, str]:
    meta = json.loads(obj.with_name(obj.name + ".meta.json").read_text())
    return meta["logferry-events"], meta["logferry-first-event-id"], meta["logferry-last-event-id"]


def _objects(root: Path, ext: str) -> list[Path]:
    return sorted(root.rglob(f"*{ext}"))


def _write_log(logs: Path) -> None:
    logs.mkdir()
    with open(logs / "app.log", "w") as f:
        f.writelines(f"seq {i} level=info component=trainer step={i} loss=0.{i % 1000:03d}\n" for i in range(LINES))


def _assert_ranges_once(names: list[tuple[str, str]]) -> None:
    """Per (partition, stream): every range is one object, and at most one pair of objects overlaps."""
    ranges: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for parent, name in names:
        m = KEY.match(name)
        assert m is not None, name
        ranges[(parent, m["stream"])].append((int(m["first"], 16), int(m["last"], 16)))
    for group in ranges.values():
        group.sort()
        assert len(set(group)) == len(group)
        assert sum(1 for a, b in pairwise(group) if b[0] <= a[1]) <= 1


@pytest.mark.slow
class TestArchiveAfterSigkill:
    @pytest.mark.parametrize(("encoding", "ext", "reader"), [("ndjson", ".ndjson.gz", "read_json"),
                                                             ("parquet", ".parquet", "read_parquet")])
    def test_no_missing_lines_no_duplicate_ranges(self, tmp_path: Path, encoding: str, ext: str, reader: str) -> None:
        """Killed while writing objects, then restarted with --once: every line is archived, each range once."""
        logs, archive = tmp_path / "logs", tmp_path / "archive"
        _write_log(logs)
        cfg = tmp_path / "agent.yaml"
        cfg.write_text(CONFIG.format(data=tmp_path / "data", logs=logs, archive=archive, encoding=encoding))

        with AgentProcess(cfg) as agent:
            agent.wait_until(lambda: len(_objects(archive, ext)) >= 4, poll_secs=0.005)
            agent.kill()
        before = {p: (p.stat().st_ino, _range_meta(p)) for p in _objects(archive, ext)}
        assert 0 < len(before) < LINES // 2000, "the kill should land mid-stream"

        with AgentProcess(cfg, "--once") as second:
            assert second.wait(120) == 0, second.stderr()

        con = duck.connect()
        total, distinct, lo, hi = con.execute(
            f"SELECT count(*), count(DISTINCT \"event.id\"), min(CAST(split_part(message, ' ', 2) AS INT)), "
            f"max(CAST(split_part(message, ' ', 2) AS INT)) FROM {reader}('{archive}/**/*{ext}')").fetchone()
        assert (distinct, lo, hi) == (LINES, 0, LINES - 1)  # no missing line
        _assert_ranges_once([(str(p.parent), p.name) for p in _objects(archive, ext)])
        # Objects written before the kill still exist under the same keys; replayed ones were overwritten in
        # place with the same events (count, first and last id; the body differs only by the read-time
        # `@timestamp` the file source stamps), not added next to the old ones.
        rewritten = 0
        for path, (inode, meta) in before.items():
            assert path.exists() and _range_meta(path) == meta
            rewritten += path.stat().st_ino != inode
        print(f"\nsigkill {encoding}: {len(before)} objects before kill ({rewritten} rewritten by the replay), "
              f"{len(_objects(archive, ext))} after, {total - distinct} duplicate rows")
        assert total - distinct <= 2000

    def test_s3_sigkill_then_restart(self, tmp_path: Path, moto_s3: MotoS3, s3_bucket: str) -> None:
        """Against a real S3 endpoint: killed mid-stream, restarted with --once, the bucket holds every line."""
        logs = tmp_path / "logs"
        _write_log(logs)
        cfg = tmp_path / "agent.yaml"
        cfg.write_text(S3_CONFIG.format(data=tmp_path / "data", logs=logs, bucket=s3_bucket,
                                        endpoint=moto_s3.endpoint_url))
        client = moto_s3.client()

        def keys() -> list[str]:
            return [o["Key"] for p in client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
                    for o in p.get("Contents", [])]

        with AgentProcess(cfg) as agent:
            agent.wait_until(lambda: len(keys()) >= 3)
            agent.kill()
        before = set(keys())
        assert 0 < len(before) < LINES // 2000, "the kill should land mid-stream"
        with AgentProcess(cfg, "--once") as second:
            assert second.wait(120) == 0, second.stderr()
        after = keys()
        assert before <= set(after)
        _assert_ranges_once([k.rpartition("/")[::2] for k in after])
        total, distinct = duck.connect(moto_s3.host_port).execute(
            f"SELECT count(*), count(DISTINCT \"event.id\") FROM read_json('s3://{s3_bucket}/**/*.ndjson.gz')"
        ).fetchone()
        print(f"\nsigkill s3: {len(before)} objects before kill, {len(after)} after, {total - distinct} duplicate rows")
        assert distinct == LINES and total - distinct <= 2000
