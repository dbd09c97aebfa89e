"""Config of the ``s3`` output and of the local ``archive`` output (same layout, same encodings).

Both write objects named after the source range they hold (see ``naming.py``)
under a Hive-style partition prefix rendered from event fields and
``@timestamp`` (see ``partition.py``). ``s3`` with ``bucket: file:///dir``
writes to a local directory exactly like ``type: archive``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from logferry.agent.config.common import OutputConfig
from logferry.outputs.delivery.config import BatchConfig, RequestConfig
from msgspec import Meta

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext, Output

MiB = 1024 * 1024

Encoding = Literal["ndjson", "parquet"]
Compression = Literal["gzip", "zstd", "snappy", "none"]
StorageClass = Literal["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
                       "GLACIER_IR", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY"]

DEFAULT_PARTITION = "dataset={event.dataset}/dt=%Y-%m-%d/hour=%H/"

# Archive objects are bigger and older than search requests: Vector's aws_s3 sink uses 10 MB / 300 s.
ARCHIVE_BATCH = BatchConfig(max_events=200_000, max_bytes=32 * MiB, timeout_secs=60.0)


class ArchiveLayoutConfig(OutputConfig):
    """Fields shared by ``s3`` and ``archive``: where objects go and how they are encoded."""

    prefix: Annotated[str, Meta(description="Key prefix put before the partition template (may be empty).")] = "logs"
    partition: Annotated[str, Meta(
        min_length=1,
        description="Partition template: `{field.name}` is replaced by the event's field (`/` made safe), "
                    "strftime codes by `@timestamp` (UTC). Hive style `name=value/` keeps DuckDB/Athena happy.",
    )] = DEFAULT_PARTITION
    missing_value: Annotated[str, Meta(min_length=1,
                                       description="Partition value for an absent or empty field.")] = "unknown"
    encoding: Annotated[Encoding, Meta(description="`ndjson` (one JSON object per line) or `parquet`.")] = "ndjson"
    compression: Annotated[Compression | None, Meta(
        description="ndjson: gzip (default), zstd or none. parquet: zstd (default), snappy, gzip or none.")] = None
    compression_level: Annotated[int, Meta(ge=-7, le=22, description="Codec level; codec default if unset.")] | None = None
    object_span_bytes: Annotated[int, Meta(
        gt=0,
        description="Objects never cross a multiple of this many source bytes (the event.id offset), so objects "
                    "re-formed after a replay line up with earlier ones at these boundaries.")] = 64 * MiB
    batch: BatchConfig = ARCHIVE_BATCH

    def __post_init__(self) -> None:
        if self.encoding == "ndjson" and self.compression == "snappy":
            raise ValueError("compression `snappy` is only available with encoding `parquet`")
        if "{" in self.prefix or "%" in self.prefix:
            raise ValueError("`prefix` is literal; put field and time placeholders in `partition`")

    @property
    def codec(self) -> str:
        if self.compression is not None:
            return self.compression
        return "gzip" if self.encoding == "ndjson" else "zstd"


class S3OutputConfig(ArchiveLayoutConfig):
    """Objects in an S3 bucket (AWS or any S3-compatible store); credentials from the standard AWS chain."""

    bucket: Annotated[str, Meta(min_length=1,
                                description="Bucket name, or `file:///dir` to write the same layout to a local directory.")]
    region: Annotated[str | None, Meta(description="AWS region; the standard chain decides if unset.")] = None
    endpoint_url: Annotated[str | None, Meta(description="S3-compatible endpoint, e.g. `http://127.0.0.1:9000`.")] = None
    force_path_style: Annotated[bool, Meta(description="Path-style addressing (`endpoint/bucket/key`), "
                                                       "needed by most S3-compatible stores.")] = False
    server_side_encryption: Annotated[Literal["AES256", "aws:kms"] | None, Meta(
        description="`AES256` (SSE-S3) or `aws:kms` (SSE-KMS).")] = None
    ssekms_key_id: Annotated[str | None, Meta(description="KMS key id/ARN for `aws:kms`.")] = None
    storage_class: Annotated[StorageClass | None, Meta(description="Storage class of new objects.")] = None
    tags: Annotated[dict[str, str], Meta(description="Object tags.")] = msgspec.field(default_factory=dict)
    multipart_threshold_bytes: Annotated[int, Meta(ge=5 * MiB, description="Objects at least this big are "
                                                                           "sent as multipart uploads.")] = 64 * MiB
    multipart_part_bytes: Annotated[int, Meta(ge=5 * MiB, description="Size of one multipart part.")] = 16 * MiB
    request: RequestConfig = RequestConfig()
    healthcheck: Annotated[bool, Meta(description="Check at start that the bucket exists and is writable.")] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ssekms_key_id is not None and self.server_side_encryption != "aws:kms":
            raise ValueError("`ssekms_key_id` needs `server_side_encryption: aws:kms`")
        if self.is_local and (self.endpoint_url or self.server_side_encryption or self.storage_class or self.tags):
            raise ValueError("a `file://` bucket takes no endpoint, encryption, storage class or tags")

    @property
    def is_local(self) -> bool:
        return self.bucket.startswith("file://")

    def build(self, ctx: BuildContext) -> Output:
        from logferry.outputs.s3.output import ArchiveOutput

        if self.is_local:
            from logferry.outputs.s3.local import LocalStore, path_from_url

            return ArchiveOutput(self, LocalStore(path_from_url(self.bucket)), ctx.component_id,
                                 concurrency=self.request.concurrency, healthcheck=self.healthcheck)
        from logferry.outputs.s3.service import S3Store

        return ArchiveOutput(self, S3Store.from_config(self), ctx.component_id,
                             concurrency=self.request.concurrency,
                             retry_initial_secs=self.request.retry_initial_backoff_secs,
                             retry_max_secs=self.request.retry_max_backoff_secs,
                             healthcheck=self.healthcheck)


class ArchiveOutputConfig(ArchiveLayoutConfig):
    """A queryable archive on local disk: the ``s3`` layout and encodings, no server needed."""

    path: Annotated[str, Meta(min_length=1, description="Directory (or `file:///dir`) holding the archive.")]
    concurrency: Annotated[int, Meta(ge=1, description="Objects encoded and written at once.")] = 2

    def build(self, ctx: BuildContext) -> Output:
        from logferry.outputs.s3.local import LocalStore, path_from_url
        from logferry.outputs.s3.output import ArchiveOutput

        return ArchiveOutput(self, LocalStore(path_from_url(self.path)), ctx.component_id,
                             concurrency=self.concurrency, healthcheck=True)
