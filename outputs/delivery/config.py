"""Batching and request settings shared by network outputs (Elasticsearch, S3)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from logferry.agent.config.common import Strict


class BatchConfig(Strict):
    max_events: Annotated[int, Meta(gt=0, description="Most events in one request.")] = 1000
    max_bytes: Annotated[int, Meta(gt=0, description="Most (uncompressed) bytes in one request.")] = 10 * 1024 * 1024
    timeout_secs: Annotated[float, Meta(gt=0, description="Longest time a partial batch waits before it is sent.")] = 1.0


class RequestConfig(Strict):
    concurrency: Annotated[int, Meta(ge=1, description="Most requests in flight (adaptive below this).")] = 4
    timeout_secs: Annotated[float, Meta(gt=0, description="Timeout of one request.")] = 60.0
    retry_initial_backoff_secs: Annotated[float, Meta(gt=0, description="First retry delay.")] = 0.5
    retry_max_backoff_secs: Annotated[float, Meta(gt=0, description="Cap of the retry delay.")] = 30.0
