"""The only code that talks to S3: boto3 calls, run in worker threads by the output.

Credentials come from the standard AWS chain (environment, shared config
and credentials files, SSO, container and instance roles). botocore's own
retries are off: the output retries without limit with its back-off and
reports health while it does.
"""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import boto3
from botocore.config import Config
from logferry.outputs.s3.store import ArchiveObject

if TYPE_CHECKING:
    from logferry.outputs.s3.config import S3OutputConfig

log = logging.getLogger(__name__)


class S3Store:
    def __init__(self, client: Any, bucket: str, *, server_side_encryption: str | None = None,
                 ssekms_key_id: str | None = None, storage_class: str | None = None,
                 tags: dict[str, str] | None = None, multipart_threshold_bytes: int = 64 * 1024 * 1024,
                 multipart_part_bytes: int = 16 * 1024 * 1024) -> None:
        self.client = client
        self.bucket = bucket
        self.multipart_threshold_bytes = multipart_threshold_bytes
        self.multipart_part_bytes = multipart_part_bytes
        endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
        self.description = f"s3 bucket {bucket!r}" + (f" at {endpoint}" if endpoint else "")
        extra: dict[str, str] = {}
        if server_side_encryption:
            extra["ServerSideEncryption"] = server_side_encryption
        if ssekms_key_id:
            extra["SSEKMSKeyId"] = ssekms_key_id
        if storage_class:
            extra["StorageClass"] = storage_class
        if tags:
            extra["Tagging"] = urlencode(tags)
        self._extra = extra

    @classmethod
    def from_config(cls, cfg: S3OutputConfig) -> S3Store:
        client = boto3.session.Session().client(
            "s3",
            region_name=cfg.region,
            endpoint_url=cfg.endpoint_url,
            config=Config(
                s3={"addressing_style": "path" if cfg.force_path_style else "auto"},
                retries={"mode": "standard", "total_max_attempts": 1},
                connect_timeout=min(10.0, cfg.request.timeout_secs),
                read_timeout=cfg.request.timeout_secs,
                max_pool_connections=max(10, cfg.request.concurrency * 2),
            ),
        )
        return cls(client, cfg.bucket, server_side_encryption=cfg.server_side_encryption,
                   ssekms_key_id=cfg.ssekms_key_id, storage_class=cfg.storage_class, tags=cfg.tags,
                   multipart_threshold_bytes=cfg.multipart_threshold_bytes,
                   multipart_part_bytes=cfg.multipart_part_bytes)

    def _common(self, obj: ArchiveObject) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": obj.key, "ContentType": obj.content_type,
                                "Metadata": obj.metadata, **self._extra}
        if obj.content_encoding:
            args["ContentEncoding"] = obj.content_encoding
        return args

    def put(self, obj: ArchiveObject) -> None:
        """Store ``obj``; S3 verifies the body's SHA-256 before it answers, so success means intact and durable."""
        if len(obj.body) >= self.multipart_threshold_bytes:
            self._put_multipart(obj)
            return
        checksum = base64.b64encode(bytes.fromhex(obj.sha256_hex)).decode()
        self.client.put_object(Body=obj.body, ChecksumSHA256=checksum, **self._common(obj))

    def _put_multipart(self, obj: ArchiveObject) -> None:
        upload_id = self.client.create_multipart_upload(ChecksumAlgorithm="SHA256", **self._common(obj))["UploadId"]
        try:
            parts = []
            view = memoryview(obj.body)
            size = self.multipart_part_bytes
            for number, start in enumerate(range(0, len(view), size), start=1):
                resp = self.client.upload_part(Bucket=self.bucket, Key=obj.key, UploadId=upload_id,
                                               PartNumber=number, Body=bytes(view[start:start + size]),
                                               ChecksumAlgorithm="SHA256")
                parts.append({"ETag": resp["ETag"], "PartNumber": number, "ChecksumSHA256": resp["ChecksumSHA256"]})
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=obj.key, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=obj.key, UploadId=upload_id)
            except Exception as exc:  # noqa: BLE001 - the original error is the one worth raising
                log.debug("Could not abort a multipart upload.", extra={"key": obj.key, "error": str(exc)})
            raise

    def probe(self, key: str) -> None:
        self.client.head_bucket(Bucket=self.bucket)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=b"logferry healthcheck\n", **self._extra)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # noqa: BLE001 - write-only policies may forbid deletes; writable is what we check
            log.info("Health probe object left in place (delete refused).", extra={"key": key, "error": str(exc)})
