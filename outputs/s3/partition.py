"""Event -> partition key prefix, rendered from a template of field placeholders and strftime codes.

``dataset={event.dataset}/dt=%Y-%m-%d/hour=%H/`` becomes
``dataset=nginx.access/dt=2024-05-01/hour=13/``. The template is compiled
once; per event the work is a few dict lookups and one cache hit, because
rendered prefixes are cached by (field values, the part of ``@timestamp``
the template uses).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from logferry.agent.event import Event

_FIELD = re.compile(r"\{([^{}]+)\}")
_CODE = re.compile(r"%(.)")
# Which prefix of an ISO-8601 UTC timestamp a strftime code depends on; others need all of it.
_CODE_WIDTH = {"Y": 4, "y": 4, "m": 7, "d": 10, "j": 10, "H": 13, "M": 16, "S": 19, "%": 0}
# Characters that would change the key layout or trouble a shell/URL: replaced by `_`.
_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]|\.\.")
_CACHE_LIMIT = 4096


def _sanitize(value: Any, missing: str) -> str:
    if value is None or value == "" or value == []:
        return missing
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub("_", text) or missing


def _utc(ts: Any) -> datetime | None:
    if not isinstance(ts, str):
        return None
    try:
        dt = datetime.fromisoformat(ts)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class Partitioner:
    """Renders the partition prefix (``prefix/`` + template) of an event.

    Events without a parseable ``@timestamp`` are placed by the current UTC
    time (as Vector does); that placement is the one non-deterministic input.
    """

    def __init__(self, template: str, prefix: str = "", missing_value: str = "unknown") -> None:
        prefix = prefix.strip("/")
        self.template = template if template.endswith("/") else template + "/"
        self._full = (prefix + "/" if prefix else "") + self.template
        self.fields: tuple[str, ...] = tuple(dict.fromkeys(m.group(1) for m in _FIELD.finditer(self.template)))
        codes = {m.group(1) for m in _CODE.finditer(_FIELD.sub("", self.template))}
        self.uses_time = bool(codes - {"%"})
        self._ts_width = max((_CODE_WIDTH.get(c, 64) for c in codes), default=0)
        self._missing = missing_value
        # str.format template with the fields as positional slots; `%` codes are filled by strftime after.
        self._format = _FIELD.sub(lambda m: "{" + str(self.fields.index(m.group(1))) + "}",
                                  self._full.replace("{{", "\x00").replace("}}", "\x01"))
        self._cache: dict[tuple[Any, ...], str] = {}

    def render(self, event: Event) -> str:
        ts = event.get("@timestamp")
        if self.uses_time:
            if not (isinstance(ts, str) and ts.endswith("Z") and self._ts_width <= 19 and len(ts) >= 19):
                return self._render(event, ts)  # unusual or missing timestamp: not worth caching
            key: tuple[Any, ...] = (tuple(event.get(f) for f in self.fields), ts[:self._ts_width])
        else:
            key = tuple(event.get(f) for f in self.fields)
        try:
            hit = self._cache.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable field value (a list): render without caching
            return self._render(event, ts)
        if hit is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            hit = self._cache[key] = self._render(event, ts)  # type: ignore[index]
        return hit

    def render_all(self, events: list[Event]) -> list[str]:
        """``render`` for a whole batch: keys are built in comprehensions and each distinct one rendered once."""
        if not events:
            return []
        fields = self.fields
        if len(fields) == 1:
            f = fields[0]
            vals: list[Any] = [e.get(f) for e in events]
        else:
            vals = [tuple(e.get(f) for f in fields) for e in events]
        if not self.uses_time:
            keys: list[Any] = vals
        else:
            w = self._ts_width if self._ts_width <= 19 else 64
            stamps = [e.get("@timestamp") for e in events]
            keys = list(zip(vals, [ts[:w] if ts.__class__ is str and len(ts) >= 19 and ts[-1] == "Z" else (None, ts)
                                   for ts in stamps]))
        try:
            distinct = dict.fromkeys(keys)
        except TypeError:  # unhashable field values: one by one
            return [self.render(e) for e in events]
        if len(distinct) == 1:
            return [self.render(events[0])] * len(events)
        index_of = {k: i for i, k in enumerate(keys)}
        rendered = {k: self.render(events[i]) for k, i in index_of.items()}
        return [rendered[k] for k in keys]

    def _render(self, event: Event, ts: Any) -> str:
        values = [_sanitize(event.get(f), self._missing) for f in self.fields]
        if self.uses_time:
            # Field values may contain `%`: escape them so strftime leaves them alone.
            text = self._format.format(*(v.replace("%", "%%") for v in values))
            text = (_utc(ts) or datetime.now(UTC)).strftime(text)
        else:
            text = self._format.format(*values).replace("%%", "%")
        return text.replace("\x00", "{").replace("\x01", "}")
