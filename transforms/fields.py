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


# How to look a path up in one dict: the whole path as a flat key, then (flat prefix, plan for the rest
# inside the dict the prefix holds) for every prefix, longest first. Built once per path.
_Plan = tuple[str, tuple[tuple[str, "_Plan"], ...]]


def _plan(parts: tuple[str, ...]) -> _Plan:
    # plans[j] is the plan for parts[j:]; plans of shorter suffixes are shared, so a path of n parts
    # costs O(n^2) entries, not 2^n.
    n = len(parts)
    plans: list[_Plan] = [("", ())] * n
    for j in range(n - 1, -1, -1):
        plans[j] = (".".join(parts[j:]), tuple((".".join(parts[j:i]), plans[i]) for i in range(n - 1, j, -1)))
    return plans[0]


class FieldPath:
    """A dotted field path, split once; ``path.get(event)`` returns the value or ``MISSING``."""

    __slots__ = ("_splits", "path")

    def __init__(self, path: str) -> None:
        if not path or path.startswith(".") or path.endswith(".") or ".." in path:
            raise ValueError(f"invalid field path {path!r}")
        self.path = path
        self._splits = _plan(tuple(path.split(".")))[1]  # empty for a single-part path

    def __repr__(self) -> str:
        return f"FieldPath({self.path!r})"

    def get(self, event: Event) -> Any:
        v = event.get(self.path, MISSING)
        if v is not MISSING or not self._splits:
            return v
        return _get_split(event, self._splits)

    def exists(self, event: Event) -> bool:
        return self.get(event) is not MISSING

    def set(self, event: Event, value: Any) -> None:
        """Write the value where the field already lives, else as a flat key."""
        if self.path in event or not self._splits:
            event[self.path] = value
            return
        container, key = _find_parent(event, (self.path, self._splits))
        container[key] = value

    def delete(self, event: Event) -> Any:
        """Remove every copy of the field (flat and nested); return the first value found or ``MISSING``."""
        found = event.pop(self.path, MISSING)
        if self._splits:
            nested = _delete(event, self._splits)
            if found is MISSING:
                found = nested
        return found


def group_key(value: Any) -> str | int | float | None:
    """A field value as a hashable group (per-key state of sample and throttle): ``None`` when it is
    ``MISSING``, ``str()`` of anything that is not a str, int or float."""
    if value is MISSING:
        return None
    return value if isinstance(value, (str, int, float)) else str(value)


def _get(d: dict[str, Any], plan: _Plan) -> Any:
    v = d.get(plan[0], MISSING)
    if v is not MISSING:
        return v
    return _get_split(d, plan[1])


def _get_split(d: dict[str, Any], splits: tuple[tuple[str, _Plan], ...]) -> Any:
    """The value under the longest flat prefix (holding a dict) that has the rest of the path."""
    for prefix, rest in splits:
        sub = d.get(prefix)
        if isinstance(sub, dict):
            v = _get(sub, rest)
            if v is not MISSING:
                return v
    return MISSING


def _find_parent(d: dict[str, Any], plan: _Plan) -> tuple[dict[str, Any], str]:
    """The dict that should hold the last part and the key to use in it."""
    for prefix, rest in plan[1]:
        sub = d.get(prefix)
        if isinstance(sub, dict):
            rest_key, rest_splits = rest
            if rest_key in sub or not rest_splits:
                return sub, rest_key
            return _find_parent(sub, rest)
    return d, plan[0]


def _delete(d: dict[str, Any], splits: tuple[tuple[str, _Plan], ...]) -> Any:
    found: Any = MISSING
    for prefix, (rest_key, rest_splits) in splits:
        sub = d.get(prefix)
        if isinstance(sub, dict):
            v = sub.pop(rest_key, MISSING)
            if found is MISSING:
                found = v
            if rest_splits:
                v = _delete(sub, rest_splits)
                if found is MISSING:
                    found = v
    return found
