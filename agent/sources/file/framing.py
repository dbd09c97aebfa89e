"""Bytes -> lines, per read chunk: pure code, no I/O.

``LineFramer`` turns the chunks of one file into complete lines with the byte
offset of each line's start. The common case (valid UTF-8, no line over
``max_line_bytes``, no ``\\r`` to collapse) costs one ``rfind``, one
``decode``, one ``split`` and one ``map(len)`` per chunk, with no Python
call per line (non-ASCII lines are re-measured in bytes; the offsets are
summed only if something asks). Only chunks with special lines take the
slow path:

* a line longer than ``max_line_bytes`` is cut at that size (on a UTF-8
  character boundary) and tagged ``_line_truncated``; the rest of it is
  skipped up to its newline. Nothing is dropped silently.
* invalid UTF-8 is replaced with U+FFFD and the line tagged ``_invalid_utf8``.
* only ``\\n`` ends a line and only ``\\n`` is removed: a CRLF line keeps its
  ``\\r`` unless ``collapse_carriage_returns`` is on, which keeps the last
  non-empty ``\\r``-separated part (a tqdm bar's final state; CRLF loses ``\\r``).

An unterminated last line is held until its newline arrives; ``flush`` emits
it when the file is known to be finished (closed, ``--once``).
"""

from __future__ import annotations

from itertools import filterfalse

from logferry.agent.event import (
    TAG_INVALID_UTF8,
    TAG_TRUNCATED,
    LineOrigin,
    offsets_from_lengths,
)


class Framed:
    """Complete lines from one feed: text, start offsets, tags of special lines, end position.

    ``end`` is the offset just past the last complete line: a checkpoint may
    move there, never further (held partial lines are re-read after a restart).
    The offsets may be given as byte lengths and the first offset; they are
    summed on first use (``origin`` passes them on unsummed).
    """

    __slots__ = ("_origin", "end", "lines", "tags")

    def __init__(self, lines: list[str], offsets: list[int] | None, tags: dict[int, list[str]], end: int, *,
                 lengths: list[int] | None = None, base: int = 0) -> None:
        self.lines = lines
        self.tags = tags
        self.end = end
        self._origin = LineOrigin("", offsets, lengths=lengths, base=base)

    @property
    def offsets(self) -> list[int]:
        return self._origin.offsets

    def origin(self, id_prefix: str) -> LineOrigin:
        """The ``LineOrigin`` of all these lines."""
        return self._origin.with_prefix(id_prefix)


def utf8_cut(data: bytes, limit: int) -> bytes:
    """``data[:limit]`` moved back so that no UTF-8 character is split."""
    if len(data) <= limit:
        return data
    cut = limit
    # Continuation bytes are 0b10xxxxxx; back off at most 3 of them to the character's first byte.
    while cut > 0 and limit - cut < 3 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return data[:cut]


def byte_lengths(block: bytes, lines: list[str] | None) -> list[int]:
    """Byte length of each newline-separated line of ``block``.

    ``lines`` is the decoded split of ``block`` (or ``None``). Character and
    byte lengths differ only on non-ASCII lines, which are usually rare: they
    are picked out at C speed (``filterfalse(str.isascii)``), located with
    ``list.index`` from the previous hit on, and re-measured. When they are
    common, one ``bytes.split`` is cheaper.
    """
    if lines is None:
        return list(map(len, block.split(b"\n")))
    odd = list(filterfalse(str.isascii, lines))
    if len(odd) * 8 > len(lines):
        return list(map(len, block.split(b"\n")))
    lengths = list(map(len, lines))
    i = -1
    for line in odd:
        i = lines.index(line, i + 1)
        lengths[i] = len(line.encode("utf-8"))
    return lengths


def collapse_cr(line: str) -> str:
    """The last non-empty ``\\r``-separated part of ``line`` (``line`` if there is none)."""
    for part in reversed(line.split("\r")):
        if part:
            return part
    return ""


class LineFramer:
    """Stateful splitter for one file's byte stream, starting at ``offset``."""

    def __init__(self, offset: int = 0, *, max_line_bytes: int = 102400, collapse_carriage_returns: bool = False) -> None:
        self.max_line_bytes = max_line_bytes
        self.collapse = collapse_carriage_returns
        self.offset = offset           # stream position just past the last byte fed
        self._rest = b""               # start of an unterminated line (at most max_line_bytes)
        self._rest_start = offset      # stream offset of the unterminated line
        self._overflow = False         # the held line already exceeded max_line_bytes

    @property
    def end(self) -> int:
        """Offset just past the last complete line framed so far."""
        return self._rest_start

    @property
    def held_bytes(self) -> int:
        return self.offset - self._rest_start

    def feed(self, data: bytes) -> Framed:
        """Frame ``data`` (the bytes following everything fed before)."""
        start = self.offset
        self.offset = start + len(data)
        cut = data.rfind(b"\n")
        if cut < 0:
            self._hold(data)
            return Framed([], [], {}, self._rest_start)
        if not self._overflow and not self.collapse and self._rest.isascii():
            fast = self._frame_text(data, cut, start)
            if fast is not None:
                return fast
        lines: list[str] = []
        offsets: list[int] = []
        tags: dict[int, list[str]] = {}
        if self._overflow:
            # The held line ends at the first newline: emit its kept prefix, skip the remainder.
            first_nl = data.find(b"\n")
            self._emit_one(self._rest, self._rest_start, [TAG_TRUNCATED], lines, offsets, tags)
            if first_nl < cut:
                self._frame_block(data[first_nl + 1:cut], start + first_nl + 1, lines, offsets, tags)
        elif self._rest:
            self._frame_block(self._rest + data[:cut], self._rest_start, lines, offsets, tags)
        else:
            self._frame_block(data[:cut], start, lines, offsets, tags)
        self._restart_after(data, cut, start)
        return Framed(lines, offsets, tags, self._rest_start)

    def _frame_text(self, data: bytes, cut: int, start: int) -> Framed | None:
        """A chunk of valid UTF-8 (held line ASCII) framed with one decode; ``None``: invalid UTF-8, or a long line.

        The chunk is decoded up to its last newline without copying it first
        and split at once; what follows is held again as bytes, and the held
        start of a line is joined to the first line only. The text's ASCII
        flag says whether character and byte lengths can differ.
        """
        rest = self._rest
        try:
            text = str(memoryview(data)[:cut], "utf-8")
        except UnicodeDecodeError:
            return None
        lines = text.split("\n")
        if rest:
            lines[0] = rest.decode("ascii") + lines[0]
        lengths = list(map(len, lines)) if text.isascii() else byte_lengths(rest + data[:cut], lines)
        if cut + len(rest) > self.max_line_bytes and max(lengths) > self.max_line_bytes:
            return None
        base = self._rest_start
        self._restart_after(data, cut, start)
        return Framed(lines, None, {}, self._rest_start, lengths=lengths, base=base)

    def flush(self) -> Framed:
        """Emit the unterminated last line, if any (the file will not grow any more)."""
        if self.offset == self._rest_start:
            return Framed([], [], {}, self._rest_start)
        lines: list[str] = []
        offsets: list[int] = []
        tags: dict[int, list[str]] = {}
        if self._overflow:
            self._emit_one(self._rest, self._rest_start, [TAG_TRUNCATED], lines, offsets, tags)
        else:
            self._frame_block(self._rest, self._rest_start, lines, offsets, tags)
        self._rest = b""
        self._overflow = False
        self._rest_start = self.offset
        return Framed(lines, offsets, tags, self.offset)

    def _restart_after(self, data: bytes, cut: int, start: int) -> None:
        """Lines up to ``data[cut]`` (a newline; ``data`` fed at ``start``) are framed: hold what follows."""
        self._rest = b""
        self._overflow = False
        self._rest_start = start + cut + 1
        if cut + 1 < len(data):
            self._hold(data[cut + 1:])

    def _hold(self, data: bytes) -> None:
        if self._overflow:
            return
        rest = self._rest + data if self._rest else data
        if len(rest) > self.max_line_bytes:
            rest = utf8_cut(rest, self.max_line_bytes)
            self._overflow = True
        self._rest = rest

    def _frame_block(self, block: bytes, base: int, lines: list[str], offsets: list[int],
                     tags: dict[int, list[str]]) -> None:
        """Frame ``block`` (newline-separated lines, no trailing newline) starting at offset ``base``."""
        first = len(lines)
        limit = self.max_line_bytes
        new: list[str] | None = None
        if block.isascii():
            new = block.decode("ascii").split("\n")
            lengths = list(map(len, new))
        else:
            try:
                new = block.decode("utf-8").split("\n")
            except UnicodeDecodeError:
                new = None
            lengths = byte_lengths(block, new)
        if new is None or (len(block) > limit and max(lengths) > limit):
            new = self._slow_lines(block.split(b"\n"), first, tags)
        if self.collapse and any("\r" in line for line in new):
            new = [collapse_cr(line) if "\r" in line else line for line in new]
        offsets.extend(offsets_from_lengths(lengths, base))
        lines.extend(new)

    def _slow_lines(self, raw: list[bytes], first: int, tags: dict[int, list[str]]) -> list[str]:
        """Decode line by line, cutting long lines and replacing invalid UTF-8 (tagging both)."""
        limit = self.max_line_bytes
        out: list[str] = []
        for i, b in enumerate(raw):
            line_tags: list[str] = []
            if len(b) > limit:
                b = utf8_cut(b, limit)
                line_tags.append(TAG_TRUNCATED)
            try:
                out.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(b.decode("utf-8", "replace"))
                line_tags.append(TAG_INVALID_UTF8)
            if line_tags:
                tags[first + i] = line_tags
        return out

    def _emit_one(self, b: bytes, offset: int, line_tags: list[str], lines: list[str], offsets: list[int],
                  tags: dict[int, list[str]]) -> None:
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError:
            text = b.decode("utf-8", "replace")
            line_tags = [*line_tags, TAG_INVALID_UTF8]
        if self.collapse and "\r" in text:
            text = collapse_cr(text)
        tags[len(lines)] = line_tags
        lines.append(text)
        offsets.append(offset)
