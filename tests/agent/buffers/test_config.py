"""The `buffer` block: disk-only settings, required sizes, encryption keys."""

from __future__ import annotations

import msgspec
import pytest

from logferry.agent.config.common import BufferConfig


def load(doc: dict[str, object]) -> BufferConfig:
    return msgspec.convert(doc, BufferConfig)


class TestBufferConfig:
    def test_disk_needs_max_size(self) -> None:
        """A disk buffer without max_size_bytes is refused with a message saying so."""
        with pytest.raises(msgspec.ValidationError, match="a disk buffer needs `max_size_bytes`"):
            load({"type": "disk"})

    def test_disk_settings_on_memory_buffer_are_refused(self) -> None:
        """fsync and friends on a memory buffer are refused instead of silently ignored."""
        with pytest.raises(msgspec.ValidationError, match="fsync: only for `type: disk` buffers"):
            load({"type": "memory", "fsync": "always"})

    def test_encryption_needs_one_key_source(self) -> None:
        """An encryption block needs exactly one of key_file and key_env."""
        with pytest.raises(msgspec.ValidationError, match="set exactly one of `key_file` and `key_env`"):
            load({"type": "disk", "max_size_bytes": 10_000_000, "encryption": {"key_id": "k"}})

    def test_full_disk_block_decodes(self) -> None:
        """A complete disk block decodes with its values."""
        cfg = load({"type": "disk", "max_size_bytes": 10_000_000, "fsync": "interval", "fsync_interval_ms": 20,
                    "segment_max_bytes": 1_000_000, "when_full": "drop_newest",
                    "encryption": {"key_id": "k2", "key_env": "K2", "previous_keys": [{"key_id": "k1",
                                                                                      "key_file": "/k1"}]}})
        assert cfg.fsync_interval_ms == 20 and cfg.encryption is not None
        assert cfg.encryption.previous_keys[0].key_id == "k1"
