"""Replay-safe object names: derived from the source range an object holds, never from upload time.

``event.id`` is ``<stream id>-<hex byte offset>``: the stream id is stable
for (host, source, file fingerprint) and the offset is where the line
starts. An object holds events of ONE stream and ONE partition, so its name
is ``<partition>/<stream>-<first offset>-<last offset>.<ext>`` with
zero-padded hex offsets (lexical order = stream order). Re-sending the same
range therefore writes the same key; the store keeps one object.

Events without a parseable ``event.id`` (stdin, hand-made events) are named
by the SHA-256 of the encoded body instead: identical content, identical key.
"""

from __future__ import annotations

from typing import Any

from logferry.agent import __version__

EXTENSIONS = {
    ("ndjson", "gzip"): ".ndjson.gz",
    ("ndjson", "zstd"): ".ndjson.zst",
    ("ndjson", "none"): ".ndjson",
    ("parquet", "zstd"): ".parquet",
    ("parquet", "snappy"): ".parquet",
    ("parquet", "gzip"): ".parquet",
    ("parquet", "none"): ".parquet",
}
CONTENT_TYPES = {"ndjson": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}
CONTENT_ENCODINGS = {("ndjson", "gzip"): "gzip", ("ndjson", "zstd"): "zstd"}

_HEX = frozenset("0123456789abcdefABCDEF")


def split_event_id(event_id: Any) -> tuple[str | None, int]:
    """``"9f86d081884c7d65-1a2b"`` -> ``("9f86d081884c7d65", 0x1a2b)``; ``(None, -1)`` when not of that shape."""
    if not isinstance(event_id, str):
        return None, -1
    stream, sep, off = event_id.rpartition("-")
    if not sep or not stream or not off or len(off) > 16 or not _HEX.issuperset(off):
        return None, -1
    return stream, int(off, 16)


def split_event_ids(ids: list[Any]) -> tuple[list[str | None], list[int]]:
    """``split_event_id`` over a batch (one pass, no call per id on the common path)."""
    streams: list[str | None] = []
    offsets: list[int] = []
    add_stream, add_offset = streams.append, offsets.append
    for eid in ids:
        if eid.__class__ is str:
            stream, sep, off = eid.rpartition("-")
            if sep and stream and 0 < len(off) <= 16 and _HEX.issuperset(off):
                add_stream(stream)
                add_offset(int(off, 16))
                continue
        add_stream(None)
        add_offset(-1)
    return streams, offsets


def _safe_stream(stream: str) -> str:
    return "".join(c if c.isalnum() or c in "._" else "_" for c in stream)


def range_object_key(partition: str, stream: str, first: int, last: int, ext: str) -> str:
    """Key of the object holding the events of ``stream`` with offsets ``first..last`` in ``partition``."""
    return f"{partition}{_safe_stream(stream)}-{first:012x}-{last:012x}{ext}"


def content_object_key(partition: str, sha256_hex: str, ext: str) -> str:
    """Key of an object whose events carry no usable ``event.id``: named by its content."""
    return f"{partition}nostream-{sha256_hex[:32]}{ext}"


def object_metadata(count: int, first_id: Any, last_id: Any, sha256_hex: str) -> dict[str, str]:
    """User metadata stored with every object (S3 ``x-amz-meta-*``; a ``.meta.json`` sidecar locally)."""
    return {
        "logferry-events": str(count),
        "logferry-first-event-id": str(first_id or ""),
        "logferry-last-event-id": str(last_id or ""),
        "logferry-sha256": sha256_hex,
        "logferry-version": __version__,
    }
