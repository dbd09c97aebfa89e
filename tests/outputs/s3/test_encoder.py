"""Tests of object body encodings."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow.parquet as pq
import pytest
import zstandard
from logferry.outputs.s3.encoder import Encoder

from tests.outputs.s3.driver import make_events


class TestEncoder:
    def test_ndjson_gzip_is_deterministic_and_decodes(self) -> None:
        """Gzip NDJSON decodes to one object per event and the same events give the same bytes."""
        events = make_events(50)
        enc = Encoder("ndjson", "gzip")
        body = enc.encode(events)
        assert body == enc.encode(events)
        lines = gzip.decompress(body).splitlines()
        assert [json.loads(x) for x in lines] == events
        assert enc.extension == ".ndjson.gz" and enc.content_encoding == "gzip"

    def test_ndjson_zstd_decodes(self) -> None:
        """Zstd NDJSON decodes with a standard zstd decoder."""
        events = make_events(20)
        raw = zstandard.ZstdDecompressor().decompress(Encoder("ndjson", "zstd").encode(events))
        assert [json.loads(x) for x in raw.splitlines()] == events

    @pytest.mark.parametrize("codec", ["zstd", "snappy"])
    def test_parquet_one_row_group(self, codec: str) -> None:
        """Parquet objects hold all events in a single row group with the chosen codec."""
        body = Encoder("parquet", codec).encode(make_events(300))
        meta = pq.ParquetFile(io.BytesIO(body)).metadata
        assert meta.num_row_groups == 1 and meta.num_rows == 300
        assert meta.row_group(0).column(0).compression.lower() == codec

    def test_unsupported_values_are_encoded_as_text(self) -> None:
        """A value msgspec cannot encode natively (a complex number) is written as its text instead of failing."""
        body = Encoder("ndjson", "none").encode([{"x": complex(1, 2)}])
        assert json.loads(body) == {"x": "(1+2j)"}

    def test_invalid_pair_is_refused(self) -> None:
        """NDJSON with snappy is not an encoding we write."""
        with pytest.raises(ValueError, match="cannot use compression"):
            Encoder("ndjson", "snappy")
