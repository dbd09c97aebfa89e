"""Tests for logferry.agent.sources.file.checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

from logferry.agent.sources.file.checkpoint import FILE_NAME, CheckpointStore


class TestCheckpointStore:
    def test_save_and_load_round_trip(self, tmp_path: Path) -> None:
        """Saved checkpoints load back with path and offset."""
        store = CheckpointStore(tmp_path / "d")
        store.update("c:abc", "/var/log/a.log", 1234)
        store.save()
        again = CheckpointStore(tmp_path / "d")
        again.load()
        cp = again.get("c:abc")
        assert cp is not None and (cp.path, cp.offset) == ("/var/log/a.log", 1234)

    def test_write_is_atomic_replace(self, tmp_path: Path) -> None:
        """Saving replaces the document through a temporary file that does not stay behind."""
        store = CheckpointStore(tmp_path)
        store.update("c:1", "/a", 1)
        store.save()
        first_inode = (tmp_path / FILE_NAME).stat().st_ino
        store.update("c:1", "/a", 2)
        store.save()
        assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]
        assert (tmp_path / FILE_NAME).stat().st_ino != first_inode  # renamed over, not rewritten in place
        assert json.loads((tmp_path / FILE_NAME).read_bytes())["checkpoints"]["c:1"]["offset"] == 2

    def test_dirty_tracks_changes(self, tmp_path: Path) -> None:
        """Only real changes mark the store dirty; a snapshot clears the flag."""
        store = CheckpointStore(tmp_path)
        store.update("k", "/a", 5)
        assert store.dirty
        store.snapshot()
        assert not store.dirty
        store.update("k", "/a", 5)
        assert not store.dirty

    def test_corrupt_file_is_ignored(self, tmp_path: Path) -> None:
        """An unreadable checkpoint file leaves the store empty instead of failing."""
        (tmp_path / FILE_NAME).write_bytes(b"{not json")
        store = CheckpointStore(tmp_path)
        store.load()
        assert store.entries == {}

    def test_rekey_moves_entry(self, tmp_path: Path) -> None:
        """``rekey`` carries a checkpoint from the inode key to the checksum key."""
        store = CheckpointStore(tmp_path)
        store.update("i:1:2", "/a", 9)
        store.rekey("i:1:2", "c:ff")
        assert store.get("i:1:2") is None
        cp = store.get("c:ff")
        assert cp is not None and cp.offset == 9

    def test_prune_forgets_old_entries_of_missing_files(self, tmp_path: Path) -> None:
        """``prune`` drops old entries of vanished files and keeps active, recent or existing ones."""
        existing = tmp_path / "here.log"
        existing.write_bytes(b"x")
        store = CheckpointStore(tmp_path)
        for key, path in (("gone", "/nope/a"), ("active", "/nope/b"), ("here", str(existing)), ("new", "/nope/c")):
            store.update(key, path, 1)
        for key in ("gone", "active", "here"):
            store.entries[key].updated_at -= 1000
        store.snapshot()
        assert store.prune({"active"}, 500) == 1
        assert sorted(store.entries) == ["active", "here", "new"]
        assert store.dirty
