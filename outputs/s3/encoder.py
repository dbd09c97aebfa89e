"""Events -> object body: NDJSON compressed with gzip or zstd, or Parquet (one row group per object).

Pure and deterministic: the same events give the same bytes (gzip header
mtime is fixed at 0), so a replayed range rewrites an identical object.
Runs in a worker thread; the codecs release the GIL.
"""

from __future__ import annotations

import gzip
import io
from typing import Any

import msgspec
import pyarrow.parquet as pq
import zstandard
from logferry.agent.event import Event
from logferry.outputs.s3.naming import CONTENT_ENCODINGS, CONTENT_TYPES, EXTENSIONS
from logferry.outputs.s3.schema import events_to_table

_DEFAULT_LEVEL = {"gzip": 6, "zstd": 3}


class Encoder:
    """Builds object bodies for one (encoding, codec) pair chosen by config."""

    def __init__(self, encoding: str, codec: str, level: int | None = None) -> None:
        if (encoding, codec) not in EXTENSIONS:
            raise ValueError(f"encoding {encoding!r} cannot use compression {codec!r}")
        self.encoding = encoding
        self.codec = codec
        self.level = level
        self.extension = EXTENSIONS[(encoding, codec)]
        self.content_type = CONTENT_TYPES[encoding]
        self.content_encoding = CONTENT_ENCODINGS.get((encoding, codec))
        self._json = msgspec.json.Encoder(enc_hook=str)  # unknown types (sets, objects) as text
        self._zstd_level = level if level is not None else _DEFAULT_LEVEL["zstd"]

    def encode(self, events: list[Event]) -> bytes:
        if self.encoding == "parquet":
            return self._parquet(events)
        raw = self._json.encode_lines(events)
        if self.codec == "gzip":
            level = self.level if self.level is not None else _DEFAULT_LEVEL["gzip"]
            return gzip.compress(raw, compresslevel=max(0, min(level, 9)), mtime=0)
        if self.codec == "zstd":
            # A compressor per call: ZstdCompressor objects are not safe to share between threads.
            return zstandard.ZstdCompressor(level=self._zstd_level).compress(raw)
        return raw

    def _parquet(self, events: list[Event]) -> bytes:
        table = events_to_table(events)
        sink = io.BytesIO()
        kwargs: dict[str, Any] = {"compression": self.codec if self.codec != "none" else "NONE"}
        if self.level is not None and self.codec in ("zstd", "gzip"):
            kwargs["compression_level"] = self.level
        # One row group per object: the object is the batch, and readers prune by row-group stats.
        pq.write_table(table, sink, row_group_size=max(1, table.num_rows), **kwargs)
        return sink.getvalue()
