"""Events and the batches that carry them through the pipeline.

An event is a plain ``dict`` of ECS-named fields, flat with dotted keys
(``{"log.file.path": ...}``); values parsed from JSON may nest. Channels move
``Batch`` objects, never single events.

A batch read from a file starts *columnar*: the raw lines, their byte offsets
and the fields they all share. Dicts are built only when something asks for
``batch.events``; an output that writes raw lines (passthrough) never pays for
them. That is the difference between ~3 M and ~1 M lines/s on the hot path.

A transform that structures lines (``parse``) may keep the batch columnar by
laying per-line fields over the lines (``set_line_fields``); an output that
wants a few fields (``project``) then builds small dicts without ever
building the full events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import accumulate, compress, repeat
from operator import add, is_
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logferry.agent.acks import AckToken

Event = dict[str, Any]

# Tags the core itself attaches; transforms add their own.
TAG_TRUNCATED = "_line_truncated"
TAG_INVALID_UTF8 = "_invalid_utf8"
TAG_MULTILINE = "_multiline"


def offsets_from_lengths(lengths: list[int], base: int) -> list[int]:
    """Start offset of each newline-terminated line of byte length ``lengths[i]``, the first at ``base``."""
    # start of line i = base + sum(len of lines before i) + i newlines
    return list(map(add, accumulate(lengths, initial=base), range(len(lengths))))


class LineOrigin:
    """Where the lines of a columnar batch came from, for ``event.id`` and ``log.offset``.

    ``id_prefix`` is stable for (host, source id, file fingerprint), so a
    replay of the same bytes yields the same ids. The offsets may be given
    as the lines' byte lengths and the first line's offset instead: they are
    then summed only if something asks (an NDJSON output that writes a few
    parsed fields never does).
    """

    __slots__ = ("_base", "_lengths", "_offsets", "id_prefix")

    def __init__(self, id_prefix: str, offsets: list[int] | None = None, *, lengths: list[int] | None = None,
                 base: int = 0) -> None:
        assert offsets is not None or lengths is not None
        self.id_prefix = id_prefix
        self._offsets = offsets
        self._lengths = lengths
        self._base = base

    @property
    def offsets(self) -> list[int]:
        if self._offsets is None:
            assert self._lengths is not None
            self._offsets = offsets_from_lengths(self._lengths, self._base)
            self._lengths = None
        return self._offsets

    def runs(self, size: int, end: int) -> Iterator[tuple[int, int, LineOrigin, int]]:
        """Consecutive runs of at most ``size`` lines: (first, last, their origin, where line ``last - 1`` ends).

        Unsummed lengths stay unsummed: each run gets its slice and its first
        line's offset, so splitting a chunk into batches sums nothing per line.
        A run ends where the next line starts; the final run ends at ``end``
        (the caller knows where its lines end). A single run is this origin.
        """
        offsets = self._offsets
        lengths = self._lengths or []  # set whenever offsets are not
        n = len(lengths if offsets is None else offsets)
        if 0 < n <= size:
            yield 0, n, self, end
            return
        base = self._base
        for first in range(0, n, size):
            last = min(n, first + size)
            if offsets is not None:
                yield first, last, LineOrigin(self.id_prefix, offsets[first:last]), offsets[last] if last < n else end
                continue
            part = lengths[first:last]
            nxt = base + sum(part) + len(part) if last < n else end  # each line's bytes and its newline
            yield first, last, LineOrigin(self.id_prefix, lengths=part, base=base), nxt
            base = nxt

    def with_prefix(self, id_prefix: str) -> LineOrigin:
        """The same lines under another ``id_prefix``; offsets not summed yet stay unsummed."""
        if self._offsets is not None:
            return LineOrigin(id_prefix, self._offsets)
        return LineOrigin(id_prefix, lengths=self._lengths, base=self._base)


class Batch:
    """A list of events sharing one acknowledgement token.

    Build one with ``Batch.from_lines`` (sources that read text) or
    ``Batch.from_events``. ``ack`` is ``None`` when acknowledgements are off.
    """

    __slots__ = ("_common", "_events", "_fields", "_line_tags", "_lines", "_origin", "_shape", "_unmatched", "ack")

    def __init__(self) -> None:
        self._events: list[Event] | None = None
        self._lines: list[str] | None = None
        self._origin: LineOrigin | None = None
        self._common: Event | None = None
        self._line_tags: dict[int, list[str]] | None = None
        # Per line: fields laid over the line's event (None: nothing); "tags" here are *added*.
        self._fields: list[Event | None] | None = None
        # When known: every laid dict holds `message` and no key outside this set (lets `project` skip checks).
        self._shape: frozenset[str] | None = None
        # Tags still owed to the lines whose laid fields are None, added to ``_line_tags`` only if
        # something reads them: a parse that fails on many lines tags them without a dict entry per line.
        self._unmatched: list[str] | None = None
        self.ack: AckToken | None = None

    @classmethod
    def from_lines(
        cls,
        lines: list[str],
        common: Event,
        origin: LineOrigin | None = None,
        line_tags: dict[int, list[str]] | None = None,
        ack: AckToken | None = None,
    ) -> Batch:
        """A columnar batch: ``lines`` become ``message``; ``common`` is copied into every event."""
        b = cls()
        b._lines = lines
        b._common = common
        b._origin = origin
        b._line_tags = line_tags or None
        b.ack = ack
        return b

    @classmethod
    def from_events(cls, events: list[Event], ack: AckToken | None = None) -> Batch:
        b = cls()
        b._events = events
        b.ack = ack
        return b

    def __len__(self) -> int:
        if self._events is not None:
            return len(self._events)
        assert self._lines is not None
        return len(self._lines)

    @property
    def materialized(self) -> bool:
        return self._events is not None

    @property
    def events(self) -> list[Event]:
        """The events as dicts, built on first access (then owned by the batch)."""
        if self._events is None:
            self._events = self._materialize()
        return self._events

    @events.setter
    def events(self, value: list[Event]) -> None:
        self._events = value
        self._lines = None
        self._origin = None
        self._line_tags = None
        self._fields = None
        self._shape = None
        self._unmatched = None

    # -- the columnar view (only while ``materialized`` is false) ----------------------------

    @property
    def common(self) -> Event:
        """The fields every event of a columnar batch shares (read only)."""
        assert self._common is not None, "not a columnar batch"
        return self._common

    @property
    def line_tags(self) -> dict[int, list[str]]:
        """Tags per line index of a columnar batch, beyond its common ones (read only; usually empty)."""
        self._settle_unmatched()
        return self._line_tags or {}

    def line_fields(self) -> list[Event | None] | None:
        """The fields laid over each line so far (``None``: none yet), read only."""
        return self._fields

    def set_line_fields(self, fields: list[Event | None] | None, tags: dict[int, list[str]] | None = None,
                        shape: frozenset[str] | None = None, *, unmatched_tags: list[str] | None = None) -> None:
        """Lay ``fields[i]`` over line i's event without building events (``None``: leave it).

        A ``message`` given here replaces the line's; ``tags`` in a dict, and
        ``tags[i]``, are added to the event's tags. Fields laid earlier are
        kept unless named again. The dicts become the batch's: the caller must
        not change them afterwards. ``shape``, if given, promises that every
        dict holds ``message`` and no key outside it. ``unmatched_tags`` are
        added to every line whose ``fields[i]`` is ``None`` (as if in ``tags``,
        but without a dict entry per line unless something reads them).
        """
        assert self._events is None and self._lines is not None, "not a columnar batch"
        assert fields is not None or unmatched_tags is None, "unmatched_tags need the fields they refer to"
        self._settle_unmatched()
        owed: dict[int, list[str]] | None = None
        if fields is not None:
            assert len(fields) == len(self._lines)
            old = self._fields
            if old is not None:
                if unmatched_tags is not None:
                    owed = _rows_without_fields(fields, unmatched_tags)  # before merging hides the Nones
                    unmatched_tags = None
                fields = [_merge_fields(a, b) for a, b in zip(old, fields)]
                shape = None
            self._fields = fields
            self._shape = shape
        if tags:
            self._add_line_tags(tags)
        if owed:
            self._add_line_tags(owed)
        elif fields is not None:
            self._unmatched = unmatched_tags

    def _settle_unmatched(self) -> None:
        """Add the owed ``unmatched_tags`` to ``_line_tags`` now (before anything reads or changes them)."""
        tags = self._unmatched
        if tags is not None:
            self._unmatched = None
            assert self._fields is not None
            self._add_line_tags(_rows_without_fields(self._fields, tags))

    def _add_line_tags(self, tags: dict[int, list[str]]) -> None:
        if not tags:
            return
        line_tags = self._line_tags
        if not line_tags:
            self._line_tags = tags
            return
        merged = dict(line_tags)  # the source's dict may be shared with a copy of this batch
        for i, more in tags.items():
            cur = merged.get(i)
            if cur is None:
                merged[i] = more
            else:
                cur = list(cur)
                _extend_unique(cur, more)
                merged[i] = cur
        self._line_tags = merged

    def _materialize(self) -> list[Event]:
        lines = self._lines
        assert lines is not None and self._common is not None
        self._settle_unmatched()
        common = self._common
        origin = self._origin
        events: list[Event]
        if self._fields is not None:
            events = self._materialize_with_fields(lines, common, origin, self._fields)
        elif origin is None:
            events = []
            # Copies of a template that already has every key: no dict grows (and resizes) per event.
            template = {**common, "message": None}
            for line in lines:
                e = template.copy()
                e["message"] = line
                events.append(e)
        else:
            prefix = origin.id_prefix
            events = []
            append = events.append
            template = {**common, "message": None, "log.offset": None, "event.id": None}
            for line, off in zip(lines, origin.offsets):
                e = template.copy()
                e["message"] = line
                e["log.offset"] = off
                e["event.id"] = f"{prefix}{off:x}"
                append(e)
        if self._line_tags:
            _add_line_tags(events, self._line_tags)
        self._lines = None
        self._origin = None
        self._line_tags = None
        self._fields = None
        return events

    def _materialize_with_fields(self, lines: list[str], common: Event, origin: LineOrigin | None,
                                 fields: list[Event | None]) -> list[Event]:
        # Copies of a template that already has the per-line keys (the file -> parse -> output hot path when
        # an output wants whole events): cheaper than growing a copy of `common` key by key.
        events: list[Event] = []
        append = events.append
        if origin is not None:
            prefix = origin.id_prefix
            template = {**common, "message": None, "log.offset": None, "event.id": None}
            for line, off, f in zip(lines, origin.offsets, fields):
                e = template.copy()
                e["message"] = line
                e["log.offset"] = off
                e["event.id"] = f"{prefix}{off:x}"
                if f is not None:
                    e.update(f)
                append(e)
        else:
            template = {**common, "message": None}
            for line, f in zip(lines, fields):
                e = template.copy()
                e["message"] = line
                if f is not None:
                    e.update(f)
                append(e)
        # Tags: the common ones, then the line's, then those laid with the fields (a laid list replaced the rest).
        line_tags = self._line_tags or {}
        base_tags = common.get("tags", ())
        for i, f in enumerate(fields):
            if f is not None and "tags" in f:
                tags = list(base_tags)
                _extend_unique(tags, line_tags.get(i, ()))
                _extend_unique(tags, f["tags"])
                events[i]["tags"] = tags
        if line_tags:
            _add_line_tags(events, {i: more for i, more in line_tags.items()
                                    if fields[i] is None or "tags" not in fields[i]})  # type: ignore[operator]
        return events

    def messages(self) -> list[str]:
        """The ``message`` of every event, without building events if they are not built yet."""
        if self._events is None:
            assert self._lines is not None
            fields = self._fields
            if fields is None:
                return self._lines
            return [line if f is None or "message" not in f else _as_text(f["message"])
                    for line, f in zip(self._lines, fields)]
        return [_as_text(e.get("message", "")) for e in self._events]

    def project(self, names: list[str]) -> list[Event]:
        """Per event, a dict of just the ``names`` it has (key order may differ from ``names``), to read only.

        On a columnar batch this reads the lines, the common fields and the
        laid-over fields directly: the full events are never built, and a laid
        dict that holds just wanted fields is returned as it is (not copied).
        """
        if self._events is not None or ((self._line_tags or self._unmatched) and "tags" in names):
            return [{k: e[k] for k in names if k in e} for e in self.events]
        lines = self._lines
        common = self._common
        assert lines is not None and common is not None
        origin = self._origin
        fields = self._fields
        want_offset = origin is not None and "log.offset" in names
        want_id = origin is not None and "event.id" in names
        if fields is None and not (want_offset or want_id):
            return _project_plain(lines, common, names)
        wanted = frozenset(names)
        want_message = "message" in wanted
        base = {k: common[k] for k in names if k in common and k not in _PER_LINE}
        if fields is not None and want_message and not base and not (want_offset or want_id):
            shape = self._shape
            if shape is not None and shape <= wanted and "tags" not in shape:
                # Every laid dict is already its own projection: no per-line checks.
                return [{"message": line} if f is None else f for line, f in zip(lines, fields)]
            return _project_laid(lines, fields, wanted)
        common_tags = common.get("tags")
        offsets = origin.offsets if origin is not None else None
        prefix = origin.id_prefix if origin is not None else ""
        out: list[Event] = []
        append = out.append
        for i, line in enumerate(lines):
            d = base.copy() if base else {}
            if want_message:
                d["message"] = line
            if offsets is not None:
                if want_offset:
                    d["log.offset"] = offsets[i]
                if want_id:
                    d["event.id"] = f"{prefix}{offsets[i]:x}"
            f = fields[i] if fields is not None else None
            if f is not None:
                if f.keys() <= wanted and "tags" not in f:
                    d.update(f)
                else:
                    for k, v in f.items():
                        if k == "tags":
                            if "tags" in wanted:
                                tags = list(common_tags) if isinstance(common_tags, list) else []
                                _extend_unique(tags, v)
                                d[k] = tags
                        elif k in wanted:
                            d[k] = v
            append(d)
        return out

    def copy(self) -> Batch:
        """An independent copy for a second consumer that may change events (same ack token, not retained)."""
        b = Batch()
        b.ack = self.ack
        if self._events is None:
            b._lines = self._lines
            b._origin = self._origin
            b._common = self._common
            b._line_tags = self._line_tags
            b._fields = self._fields
            b._shape = self._shape
            b._unmatched = self._unmatched
        else:
            b._events = [_copy_event(e) for e in self._events]
        return b


# Keys a columnar batch sets per line, over whatever the common fields hold.
_PER_LINE = frozenset({"message", "log.offset", "event.id"})


def _project_plain(lines: list[str], common: Event, names: list[str]) -> list[Event]:
    """``project`` of a batch that is still just lines over common fields."""
    base = {k: common[k] for k in names if k in common and k != "message"}
    if "tags" in base:
        base["tags"] = list(base["tags"])
    if "message" not in names:
        return [base.copy() for _ in lines]
    if not base:
        return [{"message": line} for line in lines]
    out = []
    for line in lines:
        d = base.copy()
        d["message"] = line
        out.append(d)
    return out


def _project_laid(lines: list[str], fields: list[Event | None], wanted: frozenset[str]) -> list[Event]:
    """``project`` when only line and laid fields are wanted (the parse -> NDJSON hot path)."""
    out: list[Event] = []
    append = out.append
    for line, f in zip(lines, fields):
        if f is None:
            append({"message": line})
        elif "message" in f and f.keys() <= wanted:
            append(f)  # common fields are not wanted here, so even laid tags are the event's whole tags
        elif f.keys() <= wanted and "tags" not in f:
            d = {"message": line}
            d.update(f)
            append(d)
        else:
            d = {"message": line}
            for k, v in f.items():
                if k in wanted:
                    d[k] = list(v) if k == "tags" else v
            append(d)
    return out


def _rows_without_fields(fields: list[Event | None], tags: list[str]) -> dict[int, list[str]]:
    """``{i: tags}`` for each ``fields[i]`` that is ``None`` (found at C speed; the rows share one list)."""
    return dict.fromkeys(compress(range(len(fields)), map(is_, fields, repeat(None))), tags)


def _merge_fields(old: Event | None, new: Event | None) -> Event | None:
    if old is None:
        return new
    if new is None:
        return old
    merged = {**old, **new}
    if "tags" in old and "tags" in new:
        tags = list(old["tags"])
        _extend_unique(tags, new["tags"])
        merged["tags"] = tags
    return merged


def _add_line_tags(events: list[Event], line_tags: dict[int, list[str]]) -> None:
    """Add each line's tags to its event."""
    for i, more in line_tags.items():
        add_tags(events[i], more)


def _extend_unique(tags: list[Any], more: Iterable[Any]) -> None:
    for t in more:
        if t not in tags:
            tags.append(t)


def _copy_event(e: Event) -> Event:
    c = e.copy()
    tags = c.get("tags")
    if isinstance(tags, list):
        c["tags"] = list(tags)
    return c


def _as_text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def add_tags(event: Event, tags: Iterable[str]) -> None:
    """Add tags to ``event["tags"]`` without duplicates, keeping order.

    The event gets a new list: the old one may be shared (the events of one
    columnar batch share the ``tags`` list of its common fields, and a source
    reuses its line tag lists), so it is never appended to.
    """
    cur = event.get("tags")
    merged = list(cur) if isinstance(cur, list | tuple) else ([] if cur is None else [cur])
    _extend_unique(merged, tags)
    event["tags"] = merged
