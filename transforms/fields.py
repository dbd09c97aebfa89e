"""Get, set and delete a dotted field path on an event that may be flat, nested or both.

Events keep ECS fields as flat dotted keys (``"log.level"``), but values parsed
from JSON may nest (``{"http": {"request": {"id": ...}}}``) and a flat key may
hold a nested dict (``{"ml.metric": {"name": ...}}``). A path is looked up by
trying the whole path as a flat key first, then every flat prefix that holds a
dict (longest first) and the rest of the path inside it, recursively.

``FieldPath`` does the splitting once, at config load.
"""

from __future__ import annotations

from typing import Any, Final

from logferry.agent.event import Event


class _Missing:
    """The value of a field that is not there (distinct from a present ``None``)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


class FieldPath:
    """A dotted field path, split once; ``path.get(event)`` returns the value or ``MISSING``."""

    __slots__ = ("parts", "path")

    def __init__(self, path: str) -> None:
        if not path or path.startswith(".") or path.endswith(".") or ".." in path:
            raise ValueError(f"invalid field path {path!r}")
        self.path = path
        self.parts: tuple[str, ...] = tuple(path.split("."))

    def __repr__(self) -> str:
        return f"FieldPath({self.path!r})"

    def get(self, event: Event) -> Any:
        v = event.get(self.path, MISSING)
        if v is not MISSING or len(self.parts) == 1:
            return v
        return _get(event, self.parts)

    def exists(self, event: Event) -> bool:
        return self.get(event) is not MISSING

    def set(self, event: Event, value: Any) -> None:
        """Write the value where the field already lives, else as a flat key."""
        if self.path in event or len(self.parts) == 1:
            event[self.path] = value
            return
        container, key = _find_parent(event, self.parts)
        container[key] = value

    def delete(self, event: Event) -> Any:
        """Remove every copy of the field (flat and nested); return the first value found or ``MISSING``."""
        found = event.pop(self.path, MISSING)
        if len(self.parts) > 1:
            nested = _delete(event, self.parts)
            if found is MISSING:
                found = nested
        return found


def _get(d: dict[str, Any], parts: tuple[str, ...]) -> Any:
    key = ".".join(parts)
    v = d.get(key, MISSING)
    if v is not MISSING:
        return v
    for i in range(len(parts) - 1, 0, -1):
        sub = d.get(".".join(parts[:i]))
        if isinstance(sub, dict):
            v = _get(sub, parts[i:])
            if v is not MISSING:
                return v
    return MISSING


def _find_parent(d: dict[str, Any], parts: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """The dict that should hold the last part and the key to use in it."""
    for i in range(len(parts) - 1, 0, -1):
        sub = d.get(".".join(parts[:i]))
        if isinstance(sub, dict):
            rest = parts[i:]
            if ".".join(rest) in sub or len(rest) == 1:
                return sub, ".".join(rest)
            return _find_parent(sub, rest)
    return d, ".".join(parts)


def _delete(d: dict[str, Any], parts: tuple[str, ...]) -> Any:
    found: Any = MISSING
    for i in range(len(parts) - 1, 0, -1):
        sub = d.get(".".join(parts[:i]))
        if isinstance(sub, dict):
            rest = parts[i:]
            v = sub.pop(".".join(rest), MISSING)
            if found is MISSING:
                found = v
            if len(rest) > 1:
                v = _delete(sub, rest)
                if found is MISSING:
                    found = v
    return found

