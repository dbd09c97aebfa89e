"""Read positions of the `file` source, persisted atomically in ``data_dir``.

One JSON document, ``checkpoints.json``, maps file keys (see
``fingerprint.py``) to the path last seen, the offset up to which every line
is settled, and when that changed. It is written as a temporary file,
fsync'ed, renamed over the old one and the directory fsync'ed, so a crash
leaves either the old or the new document, never a torn one.

``CheckpointStore`` is plain in-memory bookkeeping plus a blocking ``save``
that callers run in a thread.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import msgspec

from logferry.agent.fsutil import write_atomic

log = logging.getLogger(__name__)

FILE_NAME = "checkpoints.json"


class Checkpoint(msgspec.Struct, kw_only=True):
    path: str
    offset: int
    updated_at: float
    # The event.id prefix the lines of this file were shipped with; kept so that a file whose
    # identity changes (inode -> checksum once it grows) replays under the same ids.
    id_prefix: str | None = None


class _Document(msgspec.Struct, kw_only=True):
    version: int = 1
    checkpoints: dict[str, Checkpoint] = {}


class CheckpointStore:
    """Checkpoints by file key; ``dirty`` says whether ``save`` has anything new to write."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.entries: dict[str, Checkpoint] = {}
        self.dirty = False

    def load(self) -> None:
        """Read the document if it exists; an unreadable one is logged and ignored (read from scratch)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        try:
            doc = msgspec.json.decode(raw, type=_Document)
        except msgspec.DecodeError as exc:
            log.error("file source: checkpoint file %s is unreadable, starting without it: %s", self.path, exc)
            return
        self.entries = dict(doc.checkpoints)

    def get(self, key: str) -> Checkpoint | None:
        return self.entries.get(key)

    def update(self, key: str, path: str, offset: int, id_prefix: str | None = None) -> None:
        cp = self.entries.get(key)
        if id_prefix is None and cp is not None:
            id_prefix = cp.id_prefix
        if cp is not None and cp.offset == offset and cp.path == path and cp.id_prefix == id_prefix:
            return
        self.entries[key] = Checkpoint(path=path, offset=offset, updated_at=time.time(), id_prefix=id_prefix)
        self.dirty = True

    def forget(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self.dirty = True

    def rekey(self, old: str, new: str) -> None:
        """Move a checkpoint to a new key (a short file reached the checksum size)."""
        cp = self.entries.pop(old, None)
        if cp is not None:
            self.entries[new] = cp
            self.dirty = True

    def prune(self, active: set[str], max_age_secs: float) -> int:
        """Forget checkpoints not in ``active``, unchanged for ``max_age_secs``, whose path is gone (blocking).

        Rotated files come and go; without this the document grows by one
        entry per rotation forever.
        """
        cutoff = time.time() - max_age_secs
        stale = [key for key, cp in list(self.entries.items())
                 if key not in active and cp.updated_at < cutoff and not os.path.exists(cp.path)]
        for key in stale:
            self.entries.pop(key, None)
        if stale:
            self.dirty = True
        return len(stale)

    def snapshot(self) -> bytes:
        """Encode the current state (on the loop thread, so ``save`` can run in a thread)."""
        self.dirty = False
        return msgspec.json.encode(_Document(checkpoints=dict(self.entries)))

    def write(self, payload: bytes) -> None:
        """Atomically replace the document with ``payload`` (blocking: run it in a thread)."""
        write_atomic(self.path, payload, make_parent=True)

    def save(self) -> None:
        """Snapshot and write in one go (tests, shutdown)."""
        self.write(self.snapshot())
