"""The ledger: where the disk buffer's reader and writer stand, written atomically.

``read`` is the position just after the last record the output settled (in
order); everything before it may be deleted. ``write`` is where the writer
had appended to when the ledger was saved; it is informational (the segment
files are the truth for the writer, which rescans the last one at start).

Saved as JSON via tmp file + fsync + rename + directory fsync, so a crash
leaves either the old ledger or the new one, never half of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from logferry.agent.fsutil import write_atomic

LEDGER_FILE = "ledger.json"
Position = tuple[int, int]  # (segment id, byte offset)


class LedgerError(Exception):
    """The ledger exists but cannot be read."""


class _LedgerDoc(msgspec.Struct, forbid_unknown_fields=False):
    version: int
    read: tuple[int, int]
    write: tuple[int, int]
    acked_records: int = 0


@dataclass
class Ledger:
    read: Position
    write: Position
    acked_records: int = 0

    @staticmethod
    def path(directory: Path) -> Path:
        return directory / LEDGER_FILE

    @classmethod
    def load(cls, directory: Path) -> Ledger | None:
        """The saved ledger, ``None`` if there is none, ``LedgerError`` if it is damaged."""
        try:
            raw = cls.path(directory).read_bytes()
        except FileNotFoundError:
            return None
        try:
            doc = msgspec.json.decode(raw, type=_LedgerDoc)
        except msgspec.DecodeError as exc:
            raise LedgerError(f"{cls.path(directory)}: {exc}") from exc
        if doc.version != 1:
            raise LedgerError(f"{cls.path(directory)}: unsupported ledger version {doc.version}")
        return cls(tuple(doc.read), tuple(doc.write), doc.acked_records)  # type: ignore[arg-type]

    def save(self, directory: Path, sync: bool = True) -> None:
        data = msgspec.json.encode(_LedgerDoc(1, self.read, self.write, self.acked_records))
        write_atomic(self.path(directory), data, mode=0o600, sync=sync)
