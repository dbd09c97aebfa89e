"""Tests for logferry.agent.sources.file.reader (blocking per-file I/O)."""

from __future__ import annotations

import os
from pathlib import Path

from logferry.agent.sources.file.fingerprint import FingerprintPolicy
from logferry.agent.sources.file.framing import LineFramer
from logferry.agent.sources.file.reader import FileReader

POLICY = FingerprintPolicy(window_bytes=64)


def open_reader(path: Path) -> FileReader:
    reader = FileReader(str(path), os.stat(path), POLICY, gz=False)
    reader.framer = LineFramer(0)
    return reader


class TestFileReader:
    def test_short_file_head_grows_with_the_file(self, tmp_path: Path) -> None:
        """A file shorter than the fingerprint window extends its known head as it grows."""
        p = tmp_path / "a.log"
        p.write_bytes(b"0123456789\n")
        reader = open_reader(p)
        assert reader.head == b"0123456789\n"
        data, truncated = reader.read_chunk(4096)
        reader.framer.feed(data)
        with open(p, "ab") as f:
            f.write(b"x" * 100 + b"\n")
        data, truncated = reader.read_chunk(4096)
        assert not truncated and data == b"x" * 100 + b"\n"
        assert len(reader.head) == 64 and reader.head.startswith(b"0123456789\n")
        reader.close()

    def test_rewrite_of_short_file_is_truncation(self, tmp_path: Path) -> None:
        """A short file replaced in place by longer, different content is reported as truncated."""
        p = tmp_path / "a.log"
        p.write_bytes(b"first version\n")
        reader = open_reader(p)
        reader.framer.feed(reader.read_chunk(4096)[0])
        with open(p, "r+b") as f:
            f.truncate(0)
            f.write(b"SECOND version, much longer than the first one was\n" * 3)
        assert reader.read_chunk(4096) == (b"", True)
        reader.close()

    def test_truncate_and_regrow_past_offset_is_truncation(self, tmp_path: Path) -> None:
        """Truncation is noticed even when the file has regrown beyond the read offset."""
        p = tmp_path / "a.log"
        p.write_bytes(b"".join(b"old %04d\n" % i for i in range(100)))
        reader = open_reader(p)
        reader.framer.feed(reader.read_chunk(400)[0])
        with open(p, "r+b") as f:
            f.truncate(0)
            f.write(b"".join(b"new %04d\n" % i for i in range(200)))
        assert reader.read_chunk(4096) == (b"", True)
        reader.close()

    def test_deleted_or_moved(self, tmp_path: Path) -> None:
        """``deleted_or_moved`` notices a rename and a deletion of the open file."""
        p = tmp_path / "a.log"
        p.write_bytes(b"x\n")
        reader = open_reader(p)
        assert not reader.deleted_or_moved()
        os.rename(p, tmp_path / "b.log")
        assert reader.deleted_or_moved()
        reader.close()
