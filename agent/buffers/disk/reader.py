"""Reading records back from segments (blocking file I/O: call it from a worker thread).

One call reads about ``budget`` bytes from a position and returns decoded
batches, so memory is bounded by the budget whatever the buffer's size.
A damaged region, a record that does not decrypt or does not decode comes
back as a ``ReadItem`` with ``events=None``: the caller skips and counts it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from logferry.agent.buffers.disk.crypto import BufferKeyring, DecryptError
from logferry.agent.buffers.disk.record import Corrupt, Record
from logferry.agent.buffers.disk.segment import (
    READ_CHUNK_BYTES,
    iter_records,
    segment_path,
)

# Typed: a payload that is not a list of maps fails inside msgspec (a ValidationError, which is a DecodeError)
# instead of a per-event isinstance check in Python.
_DECODER = msgspec.msgpack.Decoder(list[dict])


@dataclass(slots=True)
class ReadItem:
    offset: int
    end: int
    events: list[dict[str, Any]] | None  # None: damaged, skipped
    count: int
    written_ms: int
    reason: str = ""


class SegmentReader:
    def __init__(self, directory: Path, keyring: BufferKeyring | None) -> None:
        self.directory = directory
        self.keyring = keyring
        self._fd = -1
        self._segment_id = -1

    def _open(self, segment_id: int) -> int:
        if segment_id != self._segment_id:
            self.close()
            self._fd = os.open(segment_path(self.directory, segment_id), os.O_RDONLY)
            self._segment_id = segment_id
        return self._fd

    def read(self, segment_id: int, key_id: str | None, start: int, limit: int,
             budget: int = READ_CHUNK_BYTES) -> tuple[list[ReadItem], int]:
        """Items from ``start`` (at most about ``budget`` bytes of them) and the position after them."""
        fd = self._open(segment_id)
        items: list[ReadItem] = []
        pos = start
        for rec in iter_records(fd, start, limit, chunk=min(budget, READ_CHUNK_BYTES)):
            if isinstance(rec, Corrupt):
                items.append(ReadItem(rec.offset, rec.end, None, 0, 0, "checksum"))
            else:
                items.append(self._decode(segment_id, key_id, rec))
            pos = rec.end
            if pos - start >= budget:
                break
        return items, pos

    def _decode(self, segment_id: int, key_id: str | None, rec: Record) -> ReadItem:
        payload = rec.payload
        try:
            if key_id is not None:
                if self.keyring is None:
                    raise DecryptError(f"segment is encrypted with key id {key_id!r} and no key is configured")
                payload = self.keyring.open(segment_id, key_id, payload)
            events = _DECODER.decode(payload)
        except DecryptError:
            return ReadItem(rec.offset, rec.end, None, rec.events, rec.written_ms, "decrypt")
        except msgspec.DecodeError:
            return ReadItem(rec.offset, rec.end, None, rec.events, rec.written_ms, "decode")
        return ReadItem(rec.offset, rec.end, events, len(events), rec.written_ms)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
        self._segment_id = -1
