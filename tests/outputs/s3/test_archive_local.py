"""Tests of the local archive output (``type: archive``) driven through ``run(ctx)`` with real batches."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
from logferry.agent.acks import AckStatus
from logferry.agent.errors import HealthcheckError

from tests.outputs.s3 import duck
from tests.outputs.s3.driver import Harness, build, make_events, run_batches


def _objects(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.endswith(".meta.json")}


def _chunks(events: list, size: int) -> list[list]:
    return [events[i:i + size] for i in range(0, len(events), size)]


class TestArchiveOutput:
    @pytest.mark.parametrize("encoding", ["ndjson", "parquet"])
    async def test_counts_per_partition_match_what_was_sent(self, tmp_path: Path, encoding: str) -> None:
        """DuckDB with hive_partitioning counts per dataset/dt/hour exactly the events sent, and all acks advance."""
        root = tmp_path / "archive"
        events = make_events(600, datasets=("api", "trainer", "gpu"), hours=(9, 10))
        out = build("archive", tmp_path / "data", path=str(root), encoding=encoding)
        h = await run_batches(out, tmp_path / "data", _chunks(events, 64))
        assert h.advanced[-1] == len(h.tokens) - 1
        expected = Counter((e["event.dataset"], int(e["@timestamp"][11:13])) for e in events)
        reader = "read_parquet" if encoding == "parquet" else "read_json"
        ext = "parquet" if encoding == "parquet" else "ndjson.gz"
        rows = duck.connect().execute(
            f"SELECT dataset, hour, count(*), count(DISTINCT \"event.id\") FROM {reader}('{root}/**/*.{ext}', "
            "hive_partitioning=true) GROUP BY ALL").fetchall()
        assert {(d, int(h_)): n for d, h_, n, _ in rows} == expected
        assert all(n == distinct for _, _, n, distinct in rows)

    async def test_parquet_column_types(self, tmp_path: Path) -> None:
        """Parquet columns read back with ECS types: timestamptz, bigint, varchar list, plus typed hive keys."""
        root = tmp_path / "archive"
        out = build("archive", tmp_path / "data", path=str(root), encoding="parquet")
        await run_batches(out, tmp_path / "data", [make_events(10)])
        types = dict(duck.connect().execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{root}/**/*.parquet', "
            "hive_partitioning=true))").fetchall())
        assert types["@timestamp"] == "TIMESTAMP WITH TIME ZONE"
        assert types["http.response.status_code"] == "BIGINT" and types["log.offset"] == "BIGINT"
        assert types["tags"] == "VARCHAR[]" and types["message"] == "VARCHAR"
        assert types["dt"] == "DATE"

    async def test_ack_settles_only_after_every_object_is_written(self, tmp_path: Path) -> None:
        """A batch spread over three partitions advances the source only when all three objects are on disk."""
        root = tmp_path / "archive"
        seen_at_ack: list[int] = []
        out = build("archive", tmp_path / "data", path=str(root))
        h = Harness(out, tmp_path / "data")
        h.acks._on_advance = lambda pos: seen_at_ack.append(len(_objects(root)))
        h.start()
        await h.send(make_events(30, datasets=("a", "b", "c")))
        await h.finish()
        assert seen_at_ack == [3]

    async def test_age_flush_writes_while_running(self, tmp_path: Path) -> None:
        """A partial group is written once it is `timeout_secs` old, before end of stream."""
        root = tmp_path / "archive"
        out = build("archive", tmp_path / "data", path=str(root), batch={"timeout_secs": 0.05})
        h = Harness(out, tmp_path / "data").start()
        token = await h.send(make_events(5))
        await h.wait_until(lambda: token.settled, tries=200)
        assert token.settled and len(_objects(root)) == 1
        await h.finish()

    async def test_metadata_sidecar(self, tmp_path: Path) -> None:
        """Each object has metadata with its event count, first/last id and the sha256 of its body."""
        import hashlib

        root = tmp_path / "archive"
        events = make_events(7)
        await run_batches(build("archive", tmp_path / "data", path=str(root)), tmp_path / "data", [events])
        (obj,) = [root / k for k in _objects(root)]
        meta = json.loads(obj.with_name(obj.name + ".meta.json").read_text())
        assert meta["logferry-events"] == "7"
        assert (meta["logferry-first-event-id"], meta["logferry-last-event-id"]) == (events[0]["event.id"],
                                                                                      events[-1]["event.id"])
        assert meta["logferry-sha256"] == hashlib.sha256(obj.read_bytes()).hexdigest()

    async def test_events_without_id_are_named_by_content(self, tmp_path: Path) -> None:
        """Id-less events land in a content-named object, so sending the same batch twice keeps one object."""
        root = tmp_path / "archive"
        events = [{"@timestamp": "2024-05-01T00:00:00Z", "message": f"m{i}"} for i in range(4)]
        for _ in range(2):
            out = build("archive", tmp_path / "data", path=str(root))
            await run_batches(out, tmp_path / "data", [[dict(e) for e in events]])
        (key,) = _objects(root)
        assert "/nostream-" in key

    async def test_healthcheck_names_the_problem(self, tmp_path: Path) -> None:
        """An archive path below a regular file fails the health check with the path in the message."""
        blocker = tmp_path / "file"
        blocker.write_text("x")
        out = build("archive", tmp_path / "data", path=str(blocker / "archive"))
        with pytest.raises(HealthcheckError, match="local archive .*file/archive is not writable"):
            await out.healthcheck()

    async def test_write_failure_is_retried_until_it_heals(self, tmp_path: Path) -> None:
        """While the archive directory cannot be created the output retries and reports unhealthy; then it delivers."""
        blocker = tmp_path / "archive"
        blocker.write_text("not a directory")
        out = build("archive", tmp_path / "data", path=str(blocker))
        out._retry = (0.01, 0.02)  # type: ignore[attr-defined]
        h = Harness(out, tmp_path / "data").start()
        token = await h.send(make_events(3))
        await h.inbox.close()
        await h.wait_unhealthy()
        assert not h.health.healthy and not token.settled
        blocker.unlink()
        assert h.task is not None
        await h.task
        assert token.settled and token.status == AckStatus.DELIVERED and h.health.healthy
        assert len(_objects(blocker)) == 1


class TestReplay:
    async def test_replay_from_object_start_rewrites_the_same_keys(self, tmp_path: Path) -> None:
        """Re-sending a stream from an object boundary with other batch sizes writes exactly the earlier keys."""
        root, data = tmp_path / "archive", tmp_path / "data"
        events = make_events(1000, datasets=("a", "b"))
        await run_batches(build("archive", data, path=str(root), batch={"max_events": 100}), data,
                          _chunks(events, 64))
        first = _objects(root)
        # 200 events = 100 per dataset: the replay starts where both datasets' objects start.
        await run_batches(build("archive", data, path=str(root), batch={"max_events": 100}), data,
                          _chunks(events[200:], 37))
        assert _objects(root) == first

    async def test_replay_from_mid_object_adds_at_most_one_object_per_group(self, tmp_path: Path) -> None:
        """A replay from inside an object re-forms one partial object per group, then the earlier keys again."""
        root, data = tmp_path / "archive", tmp_path / "data"
        events = make_events(1000, datasets=("a", "b"))
        cfg = {"path": str(root), "batch": {"max_events": 100}, "encoding": "parquet"}
        await run_batches(build("archive", data, **cfg), data, _chunks(events, 64))
        first = _objects(root)
        # Simulate the first run's tail being cut by age at other points: replay starts mid-object.
        await run_batches(build("archive", data, **cfg), data, _chunks(events[333:], 50))
        added = _objects(root) - first
        assert len(added) == 2  # one partial object per (dataset, stream)
        n, distinct = duck.connect().execute(
            f"SELECT count(*), count(DISTINCT \"event.id\") FROM read_parquet('{root}/**/*.parquet')").fetchone()
        assert distinct == 1000 and n - distinct < 100

    async def test_journal_realigns_after_age_cuts(self, tmp_path: Path) -> None:
        """Objects cut by age in the first run are cut at the same offsets on replay, so keys repeat."""
        root, data = tmp_path / "archive", tmp_path / "data"
        events = make_events(90)
        h = Harness(build("archive", data, path=str(root), batch={"timeout_secs": 0.02}), data).start()
        for chunk in _chunks(events, 30):
            token = await h.send(chunk)
            await h.wait_until(lambda: token.settled)  # noqa: B023 - called before the loop moves on
            assert token.settled
        await h.finish()
        first = _objects(root)
        assert len(first) == 3
        await run_batches(build("archive", data, path=str(root)), data, [events])
        assert _objects(root) == first

    @pytest.mark.parametrize("batch", [{"max_bytes": 3000}, {"max_events": 1000}])
    async def test_size_and_window_cuts_repeat_with_other_batch_sizes(self, tmp_path: Path,
                                                                      batch: dict[str, int]) -> None:
        """Cuts by bytes and by offset window depend only on the stream, not on how it was batched."""
        runs = []
        for n, size in enumerate((100, 7)):
            root, data = tmp_path / f"a{n}", tmp_path / f"d{n}"
            out = build("archive", data, path=str(root), batch=batch, object_span_bytes=5000)
            await run_batches(out, data, _chunks(make_events(400, datasets=("a", "b")), size))
            runs.append(_objects(root))
        assert runs[0] == runs[1] and len(runs[0]) > 4

    async def test_offsets_going_backwards_keep_every_event(self, tmp_path: Path) -> None:
        """Events of one stream arriving out of offset order are all archived, in non-overlapping-key objects."""
        root, data = tmp_path / "archive", tmp_path / "data"
        events = make_events(60)
        shuffled = events[30:] + events[:30] + [dict(events[5], message="again")]
        await run_batches(build("archive", data, path=str(root)), data, [shuffled])
        n, distinct = duck.connect().execute(
            f"SELECT count(*), count(DISTINCT \"event.id\") FROM read_json('{root}/**/*.ndjson.gz')").fetchone()
        assert (n, distinct) == (61, 60)
        assert len(_objects(root)) == 3

    async def test_cancel_settles_unfinished_batches_errored(self, tmp_path: Path) -> None:
        """Cancelling run (shutdown gave up) settles every batch not yet written as ERRORED, so it is re-read."""
        blocker = tmp_path / "archive"
        blocker.write_text("not a directory")
        out = build("archive", tmp_path / "data", path=str(blocker), batch={"max_events": 10})
        out._retry = (0.01, 0.02)  # type: ignore[attr-defined]
        h = Harness(out, tmp_path / "data").start()
        stuck = await h.send(make_events(10))  # cut at once, retried forever
        waiting = await h.send(make_events(3, start=10))  # still open in a group
        await h.wait_unhealthy()
        assert h.task is not None
        h.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await h.task
        await asyncio.sleep(0.05)
        assert stuck.settled and stuck.status == AckStatus.ERRORED
        assert waiting.settled and waiting.status == AckStatus.ERRORED
        assert h.advanced == []
