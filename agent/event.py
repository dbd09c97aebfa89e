"""Events and the batches that carry them through the pipeline.

An event is a plain ``dict`` of ECS-named fields, flat with dotted keys
(``{"log.file.path": ...}``); values parsed from JSON may nest. Channels move
``Batch`` objects, never single events.

A batch read from a file starts *columnar*: the raw lines, their byte offsets
and the fields they all share. Dicts are built only when something asks for
``batch.events``; an output that writes raw lines (passthrough) never pays for
them. That is the difference between ~3 M and ~1 M lines/s on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logferry.agent.acks import AckToken

Event = dict[str, Any]

# Tags the core itself attaches; transforms add their own.
TAG_TRUNCATED = "_line_truncated"
TAG_INVALID_UTF8 = "_invalid_utf8"
TAG_MULTILINE = "_multiline"


class LineOrigin:
    """Where the lines of a columnar batch came from, for ``event.id`` and ``log.offset``.

    ``id_prefix`` is stable for (host, source id, file fingerprint), so a
    replay of the same bytes yields the same ids.
    """

    __slots__ = ("id_prefix", "offsets")

    def __init__(self, id_prefix: str, offsets: list[int]) -> None:
        self.id_prefix = id_prefix
        self.offsets = offsets


class Batch:
    """A list of events sharing one acknowledgement token.

    Build one with ``Batch.from_lines`` (sources that read text) or
    ``Batch.from_events``. ``ack`` is ``None`` when acknowledgements are off.
    """

    __slots__ = ("_events", "_lines", "_origin", "_common", "_line_tags", "ack")

    def __init__(self) -> None:
        self._events: list[Event] | None = None
        self._lines: list[str] | None = None
        self._origin: LineOrigin | None = None
        self._common: Event | None = None
        self._line_tags: dict[int, list[str]] | None = None
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

    def _materialize(self) -> list[Event]:
        lines = self._lines
        assert lines is not None and self._common is not None
        common = self._common
        origin = self._origin
        events: list[Event]
        if origin is None:
            events = []
            for line in lines:
                e = common.copy()
                e["message"] = line
                events.append(e)
        else:
            prefix = origin.id_prefix
            events = []
            append = events.append
            for line, off in zip(lines, origin.offsets):
                e = common.copy()
                e["message"] = line
                e["log.offset"] = off
                e["event.id"] = f"{prefix}{off:x}"
                append(e)
        if self._line_tags:
            for i, tags in self._line_tags.items():
                ev = events[i]
                ev["tags"] = list(ev.get("tags", ())) + tags
        self._lines = None
        self._origin = None
        self._line_tags = None
        return events

    def messages(self) -> list[str]:
        """The ``message`` of every event, without building events if they are not built yet."""
        if self._events is None:
            assert self._lines is not None
            return self._lines
        return [_as_text(e.get("message", "")) for e in self._events]

    def copy(self) -> Batch:
        """An independent copy for a second consumer that may change events (same ack token, not retained)."""
        b = Batch()
        b.ack = self.ack
        if self._events is None:
            b._lines = self._lines
            b._origin = self._origin
            b._common = self._common
            b._line_tags = self._line_tags
        else:
            b._events = [_copy_event(e) for e in self._events]
        return b


def _copy_event(e: Event) -> Event:
    c = e.copy()
    tags = c.get("tags")
    if isinstance(tags, list):
        c["tags"] = list(tags)
    return c


def _as_text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


def add_tags(event: Event, tags: Iterable[str]) -> None:
    """Append tags to ``event["tags"]`` without duplicates, keeping order."""
    cur = event.get("tags")
    if not isinstance(cur, list):
        cur = [] if cur is None else [cur]
        event["tags"] = cur
    for t in tags:
        if t not in cur:
            cur.append(t)
