"""Start-up probe that does what the output will do: write a tiny object under the prefix and remove it."""

from __future__ import annotations

import asyncio

from logferry.agent.errors import HealthcheckError
from logferry.outputs.s3.retry import classify
from logferry.outputs.s3.store import ObjectStore


def probe_key(prefix: str, component_id: str) -> str:
    prefix = prefix.strip("/")
    return (prefix + "/" if prefix else "") + f".logferry-healthcheck/{component_id}"


async def check_writable(store: ObjectStore, key: str) -> None:
    """Raise ``HealthcheckError`` naming the destination and the cause when it cannot take objects."""
    try:
        await asyncio.to_thread(store.probe, key)
    except Exception as exc:
        _, reason = classify(exc)
        response = getattr(exc, "response", None) or {}
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = response.get("Error", {}).get("Code")
        hint = ""
        if code in ("NoSuchBucket", "404") or status == 404:
            hint = " (the bucket does not exist: create it or fix `bucket`/`endpoint_url`)"
        elif code in ("AccessDenied", "403") or status == 403 or "credentials" in reason:
            hint = " (check the credentials the AWS chain finds and the bucket policy)"
        raise HealthcheckError(f"{store.description} is not writable: {reason}{hint}") from exc
