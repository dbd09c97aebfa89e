"""Apply the scanner and the key rules to events: walk the chosen fields, replace findings, count hits.

Strings are scanned by content; a field whose name implies a detector
(``ssn``, ``first_name``, ``api_key``) is first judged whole. Values of
repeated fields (``host.name``, ``log.file.path``) are memoised per transform,
so a batch pays for each distinct short value once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logferry.agent.event import Event, add_tags
from logferry.transforms.redact.actions import Actions
from logferry.transforms.redact.keys import KeyRules
from logferry.transforms.redact.scanner import CustomTimeout, Finding, Scanner

FAILED = "[REDACTION_FAILED]"  # what a field becomes when a user pattern timed out on it: fail closed
_MIN_SCAN_CHARS = 6  # shorter than the shortest finding ("a@b.co")
_MEMO_MAX_CHARS = 256
_MEMO_MAX_ENTRIES = 8192

Counts = dict[str, int]
_Result = tuple[str | None, tuple[str, ...]]  # (new text or None = drop the field, detectors per finding)


class Redactor:
    """Redacts events in place; ``redact_event`` returns the detectors that fired, one entry per finding."""

    def __init__(self, scanner: Scanner, actions: Actions, key_rules: KeyRules,
                 fields: list[str] | None, exclude_fields: set[str],
                 on_timeout: Callable[[str], None] = lambda name: None) -> None:
        self.scanner = scanner
        self.actions = actions
        self.key_rules = key_rules
        self.fields = fields
        self.exclude_fields = exclude_fields
        self.on_timeout = on_timeout
        self._memo: dict[str, _Result] = {}

    # --- strings ---------------------------------------------------------------------------

    def redact_text(self, s: str) -> _Result:
        """Content detectors over one string."""
        if len(s) < _MIN_SCAN_CHARS:
            return s, ()
        try:
            findings = self.scanner.find(s)
        except CustomTimeout as exc:
            self.on_timeout(str(exc))
            return FAILED, ()
        if not findings:
            return s, ()
        return self.apply(s, findings), tuple(f.detector for f in findings)

    def apply(self, s: str, findings: list[Finding]) -> str | None:
        out: list[str] = []
        pos = 0
        replacement = self.actions.replacement
        for f in findings:
            rep = replacement(f.detector, s[f.start:f.end])
            if rep is None:
                return None
            out.append(s[pos:f.start])
            out.append(rep)
            pos = f.end
        out.append(s[pos:])
        return "".join(out)

    def _memo_text(self, s: str) -> _Result:
        if len(s) > _MEMO_MAX_CHARS:
            return self.redact_text(s)
        memo = self._memo
        hit = memo.get(s)
        if hit is None:
            if len(memo) >= _MEMO_MAX_ENTRIES:
                memo.clear()
            hit = memo[s] = self.redact_text(s)
        return hit

    def redact_field(self, key: str, parent: str, value: str) -> _Result:
        det = self.key_rules.detector_for(key, parent)
        if det is not None and self.key_rules.value_matches(det, value):
            return self.actions.replacement(det, value), (det,)
        return self.redact_text(value) if key == "message" else self._memo_text(value)

    # --- events -------------------------------------------------------------------------------

    def redact_event(self, ev: Event) -> list[str]:
        fired: list[str] = []
        if self.fields is None:
            self._walk_dict(ev, "", fired, top=True)
        else:
            for path in self.fields:
                loc = _resolve(ev, path)
                if loc is not None:
                    container, key = loc
                    self._visit(container, key, "", fired, drops := [])
                    for k in drops:
                        del container[k]
        return fired

    def _walk_dict(self, d: dict[str, Any], parent: str, fired: list[str], top: bool = False) -> None:
        drops: list[str] = []
        exclude = self.exclude_fields if top else ()
        for k in d:
            if k in exclude:
                continue
            self._visit(d, k, parent, fired, drops)
        for k in drops:
            del d[k]

    def _visit(self, d: dict[str, Any], k: str, parent: str, fired: list[str], drops: list[str]) -> None:
        val = d[k]
        t = type(val)
        if t is str:
            new, dets = self.redact_field(k, parent, val)
            if new is not val:  # a finding, or a fail-closed timeout
                fired.extend(dets)
                if new is None:
                    drops.append(k)
                else:
                    d[k] = new
        elif t is dict:
            self._walk_dict(val, k, fired)
        elif t is list:
            self._walk_list(val, k, parent, fired)
        elif t is int:
            self._visit_number(d, k, parent, val, fired, drops)

    def _visit_number(self, d: dict[str, Any], k: str, parent: str, val: int, fired: list[str],
                      drops: list[str]) -> None:
        """An SSN or phone number parsed from JSON as an integer, under a telling key."""
        det = self.key_rules.detector_for(k, parent)
        if det in ("ssn", "phone") and self.key_rules.value_matches(det, str(val)):
            fired.append(det)
            rep = self.actions.replacement(det, str(val))
            if rep is None:
                drops.append(k)
            else:
                d[k] = rep

    def _walk_list(self, items: list[Any], key: str, parent: str, fired: list[str]) -> None:
        keep: list[Any] = []
        changed = False
        for item in items:
            t = type(item)
            if t is str:
                new, dets = self.redact_field(key, parent, item)
                if new is not item:
                    fired.extend(dets)
                    changed = True
                    if new is None:
                        continue
                    item = new
            elif t is dict:
                self._walk_dict(item, key, fired)
            elif t is list:
                self._walk_list(item, key, parent, fired)
            keep.append(item)
        if changed:
            items[:] = keep


def _resolve(ev: dict[str, Any], path: str) -> tuple[dict[str, Any], str] | None:
    """(container, key) for a flat dotted key or a path into nested dicts (``json.user.email``)."""
    if path in ev:
        return ev, path
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        sub = ev.get(head)
        if isinstance(sub, dict):
            return _resolve(sub, ".".join(parts[i:]))
    return None


def tag_event(ev: Event, fired: list[str]) -> None:
    add_tags(ev, [f"redacted:{d}" for d in sorted(set(fired))])
