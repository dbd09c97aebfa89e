"""Record framing for disk buffer segments: a fixed header with a CRC32C, then the payload.

Layout (little endian)::

    magic "LFR1" | crc32c u32 | length u32 | events u32 | written_ms i64 | payload (length bytes)

The CRC covers everything after itself (length, events, time, payload), so a
flipped bit anywhere in a record is caught. The magic lets a reader find the
next record after a damaged one (resync) instead of giving up on the whole
segment, and tells a torn tail from a good one: a record is valid only when
its magic, its bounds and its CRC all agree.

Pure functions over bytes: no files here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import google_crc32c

MAGIC = b"LFR1"
HEADER = struct.Struct("<4sIIIq")
HEADER_BYTES = HEADER.size  # 24
_TAIL = struct.Struct("<IIq")  # the CRC-covered part of the header
# A length above this is damage, not data: it bounds what a reader ever allocates for one record.
MAX_PAYLOAD_BYTES = 256 * 1024 * 1024


def crc32c(data: bytes, start: int = 0) -> int:
    """CRC32C (Castagnoli) of ``data``, continuing from ``start``."""
    return int(google_crc32c.extend(start, data)) if start else int(google_crc32c.value(data))


def encode_record(payload: bytes, events: int, written_ms: int) -> bytes:
    """One framed record."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"record of {len(payload)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit")
    tail = _TAIL.pack(len(payload), events, written_ms)
    crc = crc32c(payload, crc32c(tail))
    return b"".join((MAGIC, crc.to_bytes(4, "little"), tail, payload))


@dataclass(slots=True)
class Record:
    """A valid record found at ``offset``; it ends (exclusive) at ``end``."""

    offset: int
    end: int
    events: int
    written_ms: int
    payload: bytes


@dataclass(slots=True)
class Corrupt:
    """Bytes ``[offset, end)`` that hold no valid record (damage, or a torn write at the tail)."""

    offset: int
    end: int


@dataclass(slots=True)
class Parsed:
    """What ``parse`` found in one buffer.

    ``consumed`` bytes from the buffer's start are accounted for by ``items``;
    when ``need`` is non-zero, parsing stopped at ``consumed`` and the caller
    should read at least ``need`` bytes from there before calling again.
    """

    items: list[Record | Corrupt]
    consumed: int
    need: int


def _valid_at(buf: bytes, pos: int, base: int, limit: int) -> tuple[int, int, int, bytes] | None | bool:
    """At ``pos``: ``(end, events, ms, payload)`` if a valid record starts there, ``True`` if one might
    but the buffer is too short to tell, ``None`` if not."""
    n = len(buf)
    if n - pos < HEADER_BYTES:
        return True if base + pos + HEADER_BYTES <= limit else None
    magic, crc, length, events, ms = HEADER.unpack_from(buf, pos)
    if magic != MAGIC or length > MAX_PAYLOAD_BYTES:
        return None
    end = pos + HEADER_BYTES + length
    if base + end > limit:
        return None
    if end > n:
        return True
    payload = buf[pos + HEADER_BYTES:end]
    if crc32c(payload, crc32c(buf[pos + 8:pos + HEADER_BYTES])) != crc:
        return None
    return end, events, ms, payload


def parse(buf: bytes, base: int, limit: int) -> Parsed:
    """Records and damaged regions in ``buf``, which holds the file's bytes from offset ``base``.

    ``limit`` is the file offset where valid data ends for sure (the writer's
    position, or the file size); nothing may extend past it. When the buffer
    reaches ``limit`` everything is accounted for; otherwise parsing may stop
    early and ask for more (``need``).
    """
    items: list[Record | Corrupt] = []
    n = len(buf)
    final = base + n >= limit
    pos = 0
    bad_from = -1  # start of a damaged region not yet reported

    def flush_bad(upto: int) -> None:
        nonlocal bad_from
        if bad_from >= 0 and upto > bad_from:
            items.append(Corrupt(base + bad_from, base + upto))
        bad_from = -1

    while pos < n:
        found = _valid_at(buf, pos, base, limit)
        if isinstance(found, tuple):
            flush_bad(pos)
            end, events, ms, payload = found
            items.append(Record(base + pos, base + end, events, ms, payload))
            pos = end
            continue
        if found is True and not final:
            flush_bad(pos)
            need = HEADER_BYTES
            if n - pos >= HEADER_BYTES:
                need = HEADER_BYTES + HEADER.unpack_from(buf, pos)[2]
            return Parsed(items, pos, need)
        # Damage at pos: look for the next magic that starts a valid record.
        if bad_from < 0:
            bad_from = pos
        nxt = buf.find(MAGIC, pos + 1)
        if nxt < 0:
            if final:
                pos = n
                break
            # A magic may straddle the end of the buffer: keep the last 3 bytes for the next read.
            keep = max(pos + 1, n - (len(MAGIC) - 1))
            flush_bad(keep)
            return Parsed(items, keep, HEADER_BYTES)
        pos = nxt
    flush_bad(pos)
    return Parsed(items, pos, 0)
