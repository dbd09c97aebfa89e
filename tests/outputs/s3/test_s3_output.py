"""Tests of the ``s3`` output against moto's real S3 server, read back with boto3 and DuckDB (httpfs)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import zstandard
from logferry.agent.acks import AckStatus
from logferry.agent.errors import HealthcheckError
from logferry.outputs.s3.service import S3Store
from logferry.outputs.s3.store import ArchiveObject

from tests.outputs.s3 import duck
from tests.outputs.s3.driver import Harness, build, make_events, run_batches
from tests.servers.moto_server import MotoS3


def _s3(moto_s3: MotoS3, bucket: str, data: Path, **fields: Any) -> Any:
    return build("s3", data, bucket=bucket, endpoint_url=moto_s3.endpoint_url, force_path_style=True,
                 region="us-east-1", **fields)


def _keys(client: Any, bucket: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


class TestS3Output:
    @pytest.mark.parametrize(("encoding", "compression"), [("ndjson", "gzip"), ("ndjson", "zstd"),
                                                           ("parquet", "zstd")])
    async def test_duckdb_counts_per_partition(self, moto_s3: MotoS3, s3_bucket: str, tmp_path: Path,
                                               encoding: str, compression: str) -> None:
        """DuckDB reads the bucket over httpfs with hive partitioning and counts exactly what was sent."""
        events = make_events(400, datasets=("api", "trainer"), hours=(10, 11))
        out = _s3(moto_s3, s3_bucket, tmp_path, encoding=encoding, compression=compression)
        await out.healthcheck()
        h = await run_batches(out, tmp_path, [events[i:i + 50] for i in range(0, 400, 50)])
        assert all(t.settled and t.status == AckStatus.DELIVERED for t in h.tokens)
        con = duck.connect(moto_s3.host_port)
        if encoding == "parquet":
            src = f"read_parquet('s3://{s3_bucket}/logs/*/*/*/*.parquet', hive_partitioning=true)"
        else:
            ext = "ndjson.gz" if compression == "gzip" else "ndjson.zst"
            src = (f"read_json('s3://{s3_bucket}/logs/*/*/*/*.{ext}', hive_partitioning=true, "
                   f"format='newline_delimited', compression='{'gzip' if compression == 'gzip' else 'zstd'}')")
        rows = con.execute(f"SELECT dataset, hour, count(*) FROM {src} GROUP BY ALL").fetchall()
        assert {(d, int(hr)): n for d, hr, n in rows} == Counter(
            (e["event.dataset"], int(e["@timestamp"][11:13])) for e in events)

    async def test_parquet_types_over_httpfs(self, moto_s3: MotoS3, s3_bucket: str, tmp_path: Path) -> None:
        """Parquet objects in S3 keep ECS column types when DuckDB reads them remotely."""
        await run_batches(_s3(moto_s3, s3_bucket, tmp_path, encoding="parquet", compression="snappy"), tmp_path,
                          [make_events(20)])
        types = dict(duck.connect(moto_s3.host_port).execute(
            f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
            f"read_parquet('s3://{s3_bucket}/**/*.parquet', hive_partitioning=true))").fetchall())
        assert types["@timestamp"] == "TIMESTAMP WITH TIME ZONE"
        assert types["http.response.status_code"] == "BIGINT" and types["tags"] == "VARCHAR[]"

    async def test_object_metadata_and_settings(self, moto_s3: MotoS3, s3_bucket: str, tmp_path: Path) -> None:
        """Objects carry count/first/last/sha256/version metadata, content encoding, SSE, storage class and tags."""
        events = make_events(12)
        await run_batches(_s3(moto_s3, s3_bucket, tmp_path, server_side_encryption="AES256",
                              storage_class="STANDARD_IA", tags={"team": "ml"}), tmp_path, [events])
        client = moto_s3.client()
        (key,) = _keys(client, s3_bucket)
        assert key == f"logs/dataset=app/dt=2024-05-01/hour=10/0123456789abcdef-000000000000-{11 * 100:012x}.ndjson.gz"
        got = client.get_object(Bucket=s3_bucket, Key=key)
        body = got["Body"].read()
        meta = got["Metadata"]
        assert meta["logferry-events"] == "12" and meta["logferry-sha256"] == hashlib.sha256(body).hexdigest()
        assert meta["logferry-first-event-id"] == events[0]["event.id"]
        assert meta["logferry-last-event-id"] == events[-1]["event.id"]
        assert got["ContentEncoding"] == "gzip" and got["ServerSideEncryption"] == "AES256"
        assert got["StorageClass"] == "STANDARD_IA"
        assert [json.loads(x) for x in gzip.decompress(body).splitlines()] == events
        tags = client.get_object_tagging(Bucket=s3_bucket, Key=key)["TagSet"]
        assert tags == [{"Key": "team", "Value": "ml"}]

    async def test_resend_overwrites_same_key(self, moto_s3: MotoS3, s3_bucket: str, tmp_path: Path) -> None:
        """Sending the same range twice (a replay) leaves one object per range, not a duplicate."""
        events = make_events(300, datasets=("a", "b"))
        for size in (64, 29):
            await run_batches(_s3(moto_s3, s3_bucket, tmp_path, batch={"max_events": 50}), tmp_path,
                              [events[i:i + size] for i in range(0, 300, size)])
        keys = _keys(moto_s3.client(), s3_bucket)
        assert len(keys) == 6
        n = duck.connect(moto_s3.host_port).execute(
            f"SELECT count(*) FROM read_json('s3://{s3_bucket}/**/*.ndjson.gz')").fetchone()
        assert n == (300,)

    async def test_missing_bucket_waits_then_delivers(self, moto_s3: MotoS3, aws_env: None, tmp_path: Path) -> None:
        """With the bucket missing the output retries and reports unhealthy; once created, it delivers."""
        bucket = "logferry-created-late"
        out = _s3(moto_s3, bucket, tmp_path, healthcheck=False,
                  request={"retry_initial_backoff_secs": 0.01, "retry_max_backoff_secs": 0.05})
        h = Harness(out, tmp_path).start()
        token = await h.send(make_events(5))
        await h.inbox.close()
        await h.wait_unhealthy()
        assert not h.health.healthy and "NoSuchBucket" in h.health.reason and not token.settled
        moto_s3.client().create_bucket(Bucket=bucket)
        assert h.task is not None
        await h.task
        assert token.status == AckStatus.DELIVERED and h.health.healthy
        assert len(_keys(moto_s3.client(), bucket)) == 1

    async def test_healthcheck_missing_bucket(self, moto_s3: MotoS3, aws_env: None, tmp_path: Path) -> None:
        """The start-up check names the bucket and says it does not exist."""
        out = _s3(moto_s3, "no-such-bucket-here", tmp_path)
        with pytest.raises(HealthcheckError, match="'no-such-bucket-here'.*not writable.*does not exist"):
            await out.healthcheck()

    async def test_healthcheck_leaves_no_object(self, moto_s3: MotoS3, s3_bucket: str, tmp_path: Path) -> None:
        """A passing health check removes its probe object."""
        await _s3(moto_s3, s3_bucket, tmp_path).healthcheck()
        assert _keys(moto_s3.client(), s3_bucket) == []


class TestS3Store:
    def test_multipart_upload_with_checksums(self, moto_s3: MotoS3, s3_bucket: str) -> None:
        """A body over the threshold goes up in parts with SHA-256 checksums and reads back intact."""
        body = zstandard.ZstdCompressor().compress(b"x" * 100) + bytes(range(256)) * 30_000  # ~7.3 MiB
        store = S3Store(moto_s3.client(), s3_bucket, multipart_threshold_bytes=1024,
                        multipart_part_bytes=5 * 1024 * 1024)
        sha = hashlib.sha256(body).hexdigest()
        store.put(ArchiveObject("k/obj.bin", body, sha, "application/octet-stream", None, {"logferry-sha256": sha}))
        got = moto_s3.client().get_object(Bucket=s3_bucket, Key="k/obj.bin", ChecksumMode="ENABLED")
        assert got["Body"].read() == body and got["Metadata"]["logferry-sha256"] == sha
        assert got["ETag"].strip('"').endswith("-2")  # S3's multipart ETag: md5-of-md5s "-" part count

    def test_single_put_sends_body_checksum(self, moto_s3: MotoS3, s3_bucket: str) -> None:
        """A small object goes out with its SHA-256 checksum header, so S3 can refuse a corrupted body."""
        body = b"hello\n"
        sha = hashlib.sha256(body).hexdigest()
        client = moto_s3.client()
        sent: list[dict[str, str]] = []
        client.meta.events.register("before-send.s3.PutObject",
                                    lambda request, **_: sent.append(dict(request.headers)))
        S3Store(client, s3_bucket).put(ArchiveObject("k", body, sha, "text/plain", None, {}))
        checksum = base64.b64encode(bytes.fromhex(sha)).decode()
        assert any(h.get("x-amz-checksum-sha256") in (checksum, checksum.encode()) for h in sent)
        assert client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == body
