"""Tests of the s3 and archive output configs."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from logferry.agent.registry import lookup


def _convert(type_name: str, **fields: Any) -> Any:
    cls = lookup("outputs", type_name)
    assert cls is not None
    return msgspec.convert({"type": type_name, "inputs": ["a"], **fields}, cls)


class TestS3OutputConfig:
    def test_defaults(self) -> None:
        """NDJSON with gzip, the Hive dataset/dt/hour template and archive-sized batches are the defaults."""
        cfg = _convert("s3", bucket="b")
        assert (cfg.encoding, cfg.codec) == ("ndjson", "gzip")
        assert cfg.partition == "dataset={event.dataset}/dt=%Y-%m-%d/hour=%H/"
        assert _convert("s3", bucket="b", encoding="parquet").codec == "zstd"

    @pytest.mark.parametrize(("fields", "message"), [
        ({"compression": "snappy"}, "only available with encoding `parquet`"),
        ({"ssekms_key_id": "k"}, "needs `server_side_encryption: aws:kms`"),
        ({"bucket": "file:///tmp/x", "tags": {"a": "b"}}, "takes no endpoint"),
        ({"prefix": "logs/%Y"}, "`prefix` is literal"),
    ])
    def test_invalid_combinations(self, fields: dict[str, Any], message: str) -> None:
        """Contradictory settings are refused with a message naming the fix."""
        with pytest.raises(msgspec.ValidationError, match=message):
            _convert("s3", **{"bucket": "b", **fields})

    def test_unknown_field_refused(self) -> None:
        """A misspelt option is an error, not silently ignored."""
        with pytest.raises(msgspec.ValidationError, match="unknown field"):
            _convert("archive", path="/tmp/x", bukcet="b")
