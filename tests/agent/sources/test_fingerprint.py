"""Tests for logferry.agent.sources.file.fingerprint."""

from __future__ import annotations

import os
from pathlib import Path

from logferry.agent.sources.file.fingerprint import (
    FingerprintPolicy,
    checksum_key,
    file_key,
    id_prefix,
    inode_key,
)


class TestFingerprint:
    def test_checksum_depends_on_window_only(self) -> None:
        """Two files with the same first bytes share a key whatever follows."""
        policy = FingerprintPolicy(window_bytes=8)
        assert checksum_key(b"12345678tail-a", policy) == checksum_key(b"12345678other", policy)
        assert checksum_key(b"12345679", policy) != checksum_key(b"12345678", policy)

    def test_short_head_has_no_checksum(self) -> None:
        """A file shorter than the window gets no checksum key and falls back to its inode key."""
        policy = FingerprintPolicy(window_bytes=256)
        st = os.stat(__file__)
        assert checksum_key(b"short", policy) is None
        assert file_key(b"short", st, policy) == inode_key(st) == f"i:{st.st_dev}:{st.st_ino}"

    def test_ignored_header_bytes(self) -> None:
        """Bytes before the window do not change the checksum, but still count toward the length."""
        policy = FingerprintPolicy(window_bytes=4, ignored_header_bytes=3)
        assert checksum_key(b"AAAbody", policy) == checksum_key(b"BBBbody", policy)
        assert checksum_key(b"AAAbod", policy) is None

    def test_device_and_inode_strategy(self, tmp_path: Path) -> None:
        """The ``device_and_inode`` strategy ignores content."""
        p = tmp_path / "f"
        p.write_bytes(b"x" * 1000)
        st = os.stat(p)
        assert file_key(b"x" * 1000, st, FingerprintPolicy(strategy="device_and_inode")) == inode_key(st)

    def test_id_prefix_is_deterministic(self) -> None:
        """The event id prefix depends on host, source and key, and is stable."""
        a = id_prefix("host", "src", "c:1")
        assert a == id_prefix("host", "src", "c:1")
        assert a.endswith("-") and len(a) == 17
        assert len({a, id_prefix("host", "src2", "c:1"), id_prefix("host2", "src", "c:1"),
                    id_prefix("host", "src", "c:2")}) == 4
