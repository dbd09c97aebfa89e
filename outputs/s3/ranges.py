"""The cut journal: which source ranges this output has cut into objects, so a restart cuts the same way.

Object names come from (partition, stream, first offset, last offset). After
a crash the source re-reads from its checkpoint, and a replay would form
objects with different boundaries (the first run may have cut on age, or on
an input batch that now starts elsewhere). Before an object is uploaded its
range is appended here; after a restart a new object for (partition, stream)
that starts inside or before a recorded range is cut at that range's end (or
just before the next range), so from the second re-formed object on, every
range - and so every key - equals the earlier one and overwrites it.

Losing a line (power loss before the page cache is written) costs at worst
one misaligned object, never data: the journal only decides where to cut.
"""

from __future__ import annotations

import bisect
import json
from collections import deque
from pathlib import Path

from logferry.agent.fsutil import write_atomic

_KEEP_LINES = 100_000  # ~10 MB; replays never reach back further than the source checkpoint lags


class CutJournal:
    """Per (partition, stream) sorted ``(first, last)`` ranges, appended to a JSON-lines file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._lines = 0
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            kept = self._load(path)
            self._rewrite(path, kept)
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for appends

    def _load(self, path: Path) -> deque[str]:
        kept: deque[str] = deque(maxlen=_KEEP_LINES)
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        partition, stream, first, last = json.loads(line)
                        if not (isinstance(first, int) and isinstance(last, int)):
                            continue
                    except (ValueError, TypeError):
                        continue  # a line cut short by a crash
                    kept.append(line if line.endswith("\n") else line + "\n")
        except FileNotFoundError:
            pass
        for line in kept:
            partition, stream, first, last = json.loads(line)
            self._insert(partition, stream, first, last)
        return kept

    def _rewrite(self, path: Path, lines: deque[str]) -> None:
        write_atomic(path, "".join(lines).encode("utf-8"))
        self._lines = len(lines)

    def _insert(self, partition: str, stream: str, first: int, last: int) -> None:
        ranges = self._ranges.setdefault((partition, stream), [])
        item = (first, last)
        i = bisect.bisect_left(ranges, item)
        if i == len(ranges) or ranges[i] != item:
            ranges.insert(i, item)

    def limit_for(self, partition: str, stream: str, offset: int) -> int | None:
        """The largest offset an object whose first event is at ``offset`` may hold, or ``None`` (no limit)."""
        ranges = self._ranges.get((partition, stream))
        if not ranges:
            return None
        # The recorded range with the greatest start <= offset, if it still covers offset.
        i = bisect.bisect_right(ranges, (offset, 2**64)) - 1
        if i >= 0 and ranges[i][1] >= offset:
            return ranges[i][1]
        if i + 1 < len(ranges):
            return ranges[i + 1][0] - 1
        return None

    def record(self, partition: str, stream: str, first: int, last: int) -> None:
        """Remember a cut; written through to the OS at once so a killed process keeps it."""
        self._insert(partition, stream, first, last)
        if self._file is None:
            return
        self._file.write(json.dumps([partition, stream, first, last]) + "\n")
        self._file.flush()
        self._lines += 1
        if self._lines > 2 * _KEEP_LINES and self.path is not None:
            self._file.close()
            self._ranges = {}  # rebuilt from the kept (most recent) lines: memory stays bounded too
            kept = self._load(self.path)
            self._rewrite(self.path, kept)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
