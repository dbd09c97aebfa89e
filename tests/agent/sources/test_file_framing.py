"""Tests for logferry.agent.sources.file.framing (pure bytes -> lines)."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from logferry.agent.event import TAG_INVALID_UTF8, TAG_TRUNCATED
from logferry.agent.sources.file.framing import (
    Framed,
    LineFramer,
    byte_lengths,
    collapse_cr,
    utf8_cut,
)


def feed_all(framer: LineFramer, chunks: list[bytes], flush: bool = False) -> Framed:
    lines: list[str] = []
    offsets: list[int] = []
    tags: dict[int, list[str]] = {}
    end = framer.end
    for chunk in chunks:
        f = framer.feed(chunk)
        tags.update({len(lines) + i: t for i, t in f.tags.items()})
        lines += f.lines
        offsets += f.offsets
        end = f.end
    if flush:
        f = framer.flush()
        tags.update({len(lines) + i: t for i, t in f.tags.items()})
        lines += f.lines
        offsets += f.offsets
        end = f.end
    return Framed(lines, offsets, tags, end)


def expected_offsets(data: bytes) -> list[int]:
    starts = [0]
    for i, b in enumerate(data):
        if b == 0x0A:
            starts.append(i + 1)
    return starts[:-1] if data.endswith(b"\n") else starts


class TestLineFramer:
    def test_lines_split_across_chunks(self) -> None:
        """A line cut between two chunks comes out whole, with the offset of its first byte."""
        data = b"alpha\nbravo charlie\ndelta\n"
        for cut in range(1, len(data)):
            f = feed_all(LineFramer(), [data[:cut], data[cut:]])
            assert f.lines == ["alpha", "bravo charlie", "delta"]
            assert f.offsets == [0, 6, 20]
            assert f.end == len(data)

    def test_partial_last_line_is_held(self) -> None:
        """An unterminated line is not emitted, and ``end`` stops before it."""
        framer = LineFramer()
        f = framer.feed(b"one\ntwo\nthr")
        assert f.lines == ["one", "two"]
        assert f.end == 8
        assert framer.held_bytes == 3
        assert framer.feed(b"ee\n").lines == ["three"]

    def test_flush_emits_partial_line(self) -> None:
        """``flush`` emits the held unterminated line and moves ``end`` to the stream's end."""
        framer = LineFramer(100)
        framer.feed(b"a\nlast")
        f = framer.flush()
        assert (f.lines, f.offsets, f.end) == (["last"], [102], 106)
        assert framer.flush().lines == []

    def test_crlf_keeps_carriage_return(self) -> None:
        """Only ``\\n`` ends a line and only it is removed: CRLF lines keep their ``\\r``."""
        assert LineFramer().feed(b"a\r\nb\r\n").lines == ["a\r", "b\r"]

    def test_collapse_carriage_returns(self) -> None:
        """With collapsing, a tqdm progress line becomes its final state and CRLF loses its ``\\r``."""
        data = (b"  0%|          | 0/3 [00:00<?, ?it/s]\r 33%|###3      | 1/3\r"
                b"100%|##########| 3/3 [00:01<00:00]\r\nnext\r\n")
        f = LineFramer(collapse_carriage_returns=True).feed(data)
        assert f.lines == ["100%|##########| 3/3 [00:01<00:00]", "next"]
        assert f.offsets == [0, data.index(b"next")]

    def test_offsets_with_non_ascii_lines(self) -> None:
        """Offsets count bytes, also after multi-byte UTF-8 characters."""
        data = "é\nascii\n☃☃ snow\nplain\nnaïve\n".encode() * 3
        f = LineFramer(7).feed(data)
        assert f.lines == ["é", "ascii", "☃☃ snow", "plain", "naïve"] * 3
        assert f.offsets == [7 + o for o in expected_offsets(data)]

    def test_offsets_with_many_non_ascii_lines(self) -> None:
        """Blocks where most lines are non-ASCII get correct byte offsets too."""
        data = "".join(f"строка {i}\n" for i in range(50)).encode()
        f = LineFramer().feed(data)
        assert f.offsets == expected_offsets(data)
        assert f.lines[49] == "строка 49"

    def test_long_line_truncated_and_tagged(self) -> None:
        """A line over ``max_line_bytes`` is cut to that size and tagged; neighbours are intact."""
        data = b"short\n" + b"x" * 50 + b"\nafter\n"
        f = LineFramer(max_line_bytes=20).feed(data)
        assert f.lines == ["short", "x" * 20, "after"]
        assert f.tags == {1: [TAG_TRUNCATED]}
        assert f.offsets == [0, 6, 57]

    def test_long_line_across_many_chunks(self) -> None:
        """A line longer than the limit spread over many chunks is emitted once, truncated, at its start offset."""
        framer = LineFramer(max_line_bytes=10)
        chunks = [b"a\nbbbb", b"bbbbbbbbbb", b"bbbbbbbbbb", b"bb\nc\n"]
        f = feed_all(framer, chunks)
        assert f.lines == ["a", "b" * 10, "c"]
        assert f.offsets == [0, 2, 29]
        assert f.tags == {1: [TAG_TRUNCATED]}
        assert f.end == 31

    def test_long_utf8_line_cut_on_character_boundary(self) -> None:
        """Truncation never splits a UTF-8 character (no spurious invalid-UTF-8 tag)."""
        f = LineFramer(max_line_bytes=5).feed("ééé\n".encode())
        assert f.lines == ["éé"]
        assert f.tags == {0: [TAG_TRUNCATED]}

    def test_invalid_utf8_replaced_and_tagged(self) -> None:
        """Invalid UTF-8 is replaced with U+FFFD and only that line is tagged."""
        f = LineFramer().feed(b"good\nbad \xff\xfe here\nalso good\n")
        assert f.lines == ["good", "bad \ufffd\ufffd here", "also good"]
        assert f.tags == {1: [TAG_INVALID_UTF8]}
        assert f.offsets == [0, 5, 17]

    def test_binary_garbage_does_not_crash(self) -> None:
        """Random bytes frame into tagged lines whose offsets still match the newlines."""
        data = os.urandom(200_000) + b"\n"
        f = LineFramer(max_line_bytes=1000).feed(data)
        assert f.offsets == expected_offsets(data)
        assert all(len(line.encode()) <= 3000 for line in f.lines)

    def test_empty_lines(self) -> None:
        """Empty lines are lines."""
        f = LineFramer().feed(b"\n\na\n\n")
        assert f.lines == ["", "", "a", ""]
        assert f.offsets == [0, 1, 2, 4]


class TestFramed:
    def test_origin_carries_prefix_and_offsets(self) -> None:
        """``origin`` gives the lines' offsets (summed from lengths) under the prefix asked for."""
        f = LineFramer(10).feed(b"ab\ncde\n\nf\n")
        origin = f.origin("p-")
        assert (origin.id_prefix, origin.offsets) == ("p-", [10, 13, 17, 18])
        assert f.offsets == [10, 13, 17, 18]

    def test_second_origin_leaves_first_intact(self) -> None:
        """An origin asked for again under another prefix does not change the one given before."""
        f = Framed(["a", "b"], None, {}, 4, lengths=[1, 1], base=0)
        first = f.origin("one-")
        second = f.origin("two-")
        assert (first.id_prefix, first.offsets) == ("one-", [0, 2])
        assert (second.id_prefix, second.offsets) == ("two-", [0, 2])


class TestHelpers:
    def test_utf8_cut(self) -> None:
        """``utf8_cut`` backs off to a character start and keeps short input as is."""
        assert utf8_cut("aé".encode(), 2) == b"a"
        assert utf8_cut(b"abc", 5) == b"abc"

    def test_collapse_cr(self) -> None:
        """``collapse_cr`` returns the last non-empty carriage-return segment."""
        assert collapse_cr("a\rb\r") == "b"
        assert collapse_cr("\r") == ""

    def test_byte_lengths_match_split(self) -> None:
        """``byte_lengths`` equals the lengths of a bytes split, including repeated non-ASCII lines."""
        block = "x\né\né\nyy\n€".encode()
        assert byte_lengths(block, block.decode().split("\n")) == [1, 2, 2, 2, 3]


class TestChunkingInvariance:
    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.sampled_from(["", "a", "line", "é", "x" * 30, "\r", "\xff", "\udcff"]), max_size=40).map("".join),
        st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
        st.integers(min_value=4, max_value=40),
    )
    def test_any_chunking_frames_like_one_feed(self, text: str, cuts: list[int], limit: int) -> None:
        """However a stream is cut into reads, lines, offsets, tags and end equal those of a single read."""
        data = text.replace("a", "a\n").encode("utf-8", "surrogateescape")
        whole = feed_all(LineFramer(max_line_bytes=limit), [data], flush=True)
        chunks, pos = [], 0
        for n in cuts:
            chunks.append(data[pos:pos + n])
            pos += n
        chunks.append(data[pos:])
        parts = feed_all(LineFramer(max_line_bytes=limit), chunks, flush=True)
        assert (parts.lines, parts.offsets, parts.tags, parts.end) == (whole.lines, whole.offsets, whole.tags,
                                                                       whole.end)
        if all(len(b) <= limit for b in data.split(b"\n")) and "\udcff" not in text:
            n = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            assert whole.lines == data.decode().split("\n")[:n]
            assert whole.offsets == expected_offsets(data)[:n]
