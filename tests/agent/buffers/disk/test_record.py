"""Record framing: CRC32C catches damage, the magic resyncs after it, a torn tail asks for more or is damage."""

from __future__ import annotations

from logferry.agent.buffers.disk.record import (
    HEADER_BYTES,
    Corrupt,
    Record,
    crc32c,
    encode_record,
    parse,
)


def records(*payloads: bytes) -> bytes:
    return b"".join(encode_record(p, i + 1, 1000 + i) for i, p in enumerate(payloads))


class TestParse:
    def test_crc32c_is_castagnoli(self) -> None:
        """The checksum is CRC-32C (the standard check value of "123456789" is 0xE3069283)."""
        assert crc32c(b"123456789") == 0xE3069283

    def test_round_trip(self) -> None:
        """Encoded records parse back with their payload, event count, time and offsets."""
        buf = records(b"alpha", b"", b"gamma" * 100)
        parsed = parse(buf, 100, 100 + len(buf))
        assert [type(i) for i in parsed.items] == [Record, Record, Record]
        assert [i.payload for i in parsed.items] == [b"alpha", b"", b"gamma" * 100]  # type: ignore[union-attr]
        assert [(i.events, i.written_ms) for i in parsed.items] == [(1, 1000), (2, 1001), (3, 1002)]  # type: ignore[union-attr]
        assert parsed.items[0].offset == 100 and parsed.items[-1].end == 100 + len(buf)
        assert parsed.consumed == len(buf) and parsed.need == 0

    def test_bit_flip_makes_one_corrupt_region_and_the_rest_parses(self) -> None:
        """A flipped payload bit turns that record into one Corrupt region; the next record is found by its magic."""
        buf = bytearray(records(b"one", b"two", b"three"))
        second = len(encode_record(b"one", 1, 0))
        buf[second + HEADER_BYTES] ^= 0x01
        items = parse(bytes(buf), 0, len(buf)).items
        assert [type(i) for i in items] == [Record, Corrupt, Record]
        assert items[1].offset == second and items[2].payload == b"three"  # type: ignore[union-attr]

    def test_torn_tail_needs_more_data_until_the_limit(self) -> None:
        """Half a record asks for more bytes when more may come, and is a Corrupt region at the limit."""
        whole = records(b"first", b"second-record")
        torn = whole[:-4]
        partial = parse(torn, 0, len(whole))
        assert len(partial.items) == 1 and partial.need == HEADER_BYTES + len(b"second-record")
        final = parse(torn, 0, len(torn))
        assert isinstance(final.items[-1], Corrupt) and final.consumed == len(torn)

    def test_garbage_is_one_region(self) -> None:
        """Bytes with no record in them come back as a single Corrupt region, not one per byte."""
        buf = b"\x00" * 500 + records(b"ok")
        items = parse(buf, 0, len(buf)).items
        assert isinstance(items[0], Corrupt) and (items[0].offset, items[0].end) == (0, 500)
        assert isinstance(items[1], Record)
