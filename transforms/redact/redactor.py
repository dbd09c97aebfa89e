"""Apply the scanner and the key rules to events: walk the chosen fields, replace findings, count hits.

A batch is redacted in three steps: walk every event and queue the strings
to scan (fields whose name implies a detector, such as ``ssn``,
``first_name`` or ``api_key``, are first judged whole); scan all queued
strings with one ``Scanner.find_flagged`` call; write the replacements back.
Values of repeated fields (``host.name``, ``log.file.path``) are queued once
per batch and memoised across batches, so each distinct short value is paid
for once. ``redact_lines`` is the same ``message`` step for the raw lines of
a batch whose events are not built.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from logferry.agent.event import Event, add_tags
from logferry.transforms.redact.actions import Actions
from logferry.transforms.redact.keys import KeyRules
from logferry.transforms.redact.scanner import CustomTimeout, Finding, Scanner

FAILED = "[REDACTION_FAILED]"  # what a field becomes when a user pattern timed out on it: fail closed
_MIN_SCAN_CHARS = 6  # shorter than the shortest finding ("a@b.co")
_MEMO_MAX_CHARS = 256
_MEMO_MAX_ENTRIES = 8192
_KEY_CACHE_MAX = 4096

# (new text or None = drop the field, detectors per finding); None instead of a result: leave the value as is
_Result = tuple[str | None, tuple[str, ...]]
_MISS = object()
_DROP = object()  # marks list items to remove
# Kinds of top-level keys for the walk (besides the name of a detector the key implies).
_SKIP = object()  # in exclude_fields
_MESSAGE = object()  # ``message``: always scanned, never memoised (nearly every message is unique)
_PLAIN = object()  # anything else: scanned, short values memoised


class _Job:
    """One batch's queued strings and where their results go."""

    __slots__ = ("done", "index", "slots", "texts")

    def __init__(self) -> None:
        self.texts: list[str] = []  # strings to scan
        self.index: dict[str, int] = {}  # memoisable string -> its position in texts (scanned once per batch)
        self.slots: list[tuple[int, Any, Any, int]] = []  # (event, container, key or list index, text position)
        self.done: list[tuple[int, Any, Any, _Result]] = []  # results known without scanning


class Redactor:
    """Redacts events in place; ``redact_events`` returns the detectors that fired, one entry per finding."""

    def __init__(self, scanner: Scanner, actions: Actions, key_rules: KeyRules,
                 fields: list[str] | None, exclude_fields: set[str],
                 on_timeout: Callable[[str], None] = lambda name: None) -> None:
        self.scanner = scanner
        self.actions = actions
        self.key_rules = key_rules
        self.fields = fields
        self.exclude_fields = exclude_fields
        self.on_timeout = on_timeout
        self._memo: dict[str, _Result | None] = {}
        self._top_kinds: dict[str, object] = {}  # what ``_walk_top`` does with a top-level key (see ``_top_kind``)

    # --- strings ---------------------------------------------------------------------------

    def redact_lines(self, lines: list[str]) -> dict[int, _Result]:
        """What ``redact_events`` does to ``message``, for the raw lines of a columnar batch: {line index: result}.

        Lines with nothing to redact (nearly all) cost no Python work beyond the scanner's.
        """
        if not lines:
            return {}
        if min(map(len, lines)) >= _MIN_SCAN_CHARS:
            return self._results(lines)
        where = [i for i, s in enumerate(lines) if len(s) >= _MIN_SCAN_CHARS]
        return {where[pos]: res for pos, res in self._results([lines[i] for i in where]).items()}

    def apply(self, s: str, findings: Sequence[Finding]) -> str | None:
        if len(findings) == 1:  # the usual case: no list to build and join
            f = findings[0]
            rep = self.actions.replacement(f.detector, s[f.start:f.end])
            return None if rep is None else s[:f.start] + rep + s[f.end:]
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

    def _results(self, texts: list[str]) -> dict[int, _Result]:
        """{position in ``texts``: result} for the texts that change."""
        out: dict[int, _Result] = {}
        for pos, found in self.scanner.find_flagged(texts).items():
            if isinstance(found, CustomTimeout):
                self.on_timeout(str(found))
                out[pos] = (FAILED, ())
            elif found:
                out[pos] = (self.apply(texts[pos], found), tuple([f.detector for f in found]))  # type: ignore[arg-type]
        return out

    # --- events -------------------------------------------------------------------------------

    def redact_events(self, events: list[Event]) -> dict[int, list[str]]:
        """Redact ``events`` in place; {event index: detectors that fired} for the events that changed."""
        job = _Job()
        if self.fields is None:
            self._walk_top(enumerate(events), job)
        else:
            for i, ev in enumerate(events):
                for path in self.fields:
                    loc = _resolve(ev, path)
                    if loc is not None:
                        d, k = loc
                        self._walk_fields(i, d, ((k, d[k]),), "", job)
        return _write_back(job, self._scan(job))

    def redact_laid(self, messages: list[str], fields: list[Event | None]) -> tuple[dict[int, Event], dict[int, list[str]]] | None:
        """What ``redact_events`` does to the per-line part of a columnar batch whose lines carry laid fields.

        ``messages`` are the lines' messages (``Batch.messages()``), ``fields`` the laid dicts. The message
        of a line is scanned unless its laid dict holds one; the laid dicts are walked as top-level fields
        of the event (the common fields are the caller's concern). Returns ({line index: the laid keys
        that change and their new values, nested values as changed copies}, {line index: detectors}),
        or ``None`` when a value would be dropped (laying fields cannot remove a key). The laid dicts
        and everything in them are left as they are: they may be shared with a copy of the batch.
        """
        job = _Job()
        texts, slots = job.texts, job.slots
        for i, f in enumerate(fields):
            if f is None or "message" not in f:
                line = messages[i]
                if len(line) >= _MIN_SCAN_CHARS:
                    slots.append((i, None, "message", len(texts)))
                    texts.append(line)
        self._walk_top([(i, f) for i, f in enumerate(fields) if f is not None], job)
        return _laid_changes(job, self._scan(job), fields)

    def _scan(self, job: _Job) -> dict[int, _Result]:
        """Scan the job's queued strings and memoise the results of the memoisable ones."""
        results = self._results(job.texts) if job.texts else {}
        memo = self._memo
        if job.index:
            if len(memo) + len(job.index) > _MEMO_MAX_ENTRIES:
                memo.clear()
            for text, pos in job.index.items():
                memo[text] = results.get(pos)
        return results

    def _walk_top(self, events: Iterable[tuple[int, Event]], job: _Job) -> None:
        """The hot path: top-level fields of every event. Same steps as ``_string_field`` and ``_queue``, inlined.

        Events of a batch read from a file share their common values (``host.name``, ``log.file.path``)
        as the same objects: once such a value proved to need nothing, later events skip it by identity.
        What a key asks for (skip it, scan it, judge it by name first) is looked up once per key.
        """
        kinds = self._top_kinds
        memo = self._memo
        value_matches = self.key_rules.value_matches
        texts, index, slots, done = job.texts, job.index, job.slots, job.done
        settled: dict[str, object] = {}  # key -> the value object under it that needs no work
        for i, ev in events:
            for k, val in ev.items():
                if settled.get(k) is val:
                    continue
                kind = kinds.get(k)
                if kind is None:
                    kind = self._top_kind(k)
                if kind is _SKIP:
                    continue
                t = type(val)
                if t is str:
                    if kind is _PLAIN:
                        n = len(val)
                        if n < _MIN_SCAN_CHARS:
                            settled[k] = val
                            continue
                        if n > _MEMO_MAX_CHARS:
                            slots.append((i, ev, k, len(texts)))
                            texts.append(val)
                            continue
                    elif kind is _MESSAGE:
                        if len(val) < _MIN_SCAN_CHARS:
                            settled[k] = val
                        else:
                            slots.append((i, ev, k, len(texts)))
                            texts.append(val)
                        continue
                    else:  # a detector the key implies: judge the whole value first
                        if value_matches(kind, val):  # type: ignore[arg-type]
                            done.append((i, ev, k, (self.actions.replacement(kind, val), (kind,))))  # type: ignore[arg-type]
                            continue
                        if len(val) < _MIN_SCAN_CHARS:
                            settled[k] = val
                            continue
                        if k == "message" or len(val) > _MEMO_MAX_CHARS:
                            slots.append((i, ev, k, len(texts)))
                            texts.append(val)
                            continue
                    hit = memo.get(val, _MISS)
                    if hit is not _MISS:
                        if hit is None:
                            settled[k] = val
                        else:
                            done.append((i, ev, k, hit))  # type: ignore[arg-type]
                        continue
                    pos = index.get(val, -1)
                    if pos < 0:
                        pos = index[val] = len(texts)
                        texts.append(val)
                    slots.append((i, ev, k, pos))
                elif t is dict:
                    self._walk_fields(i, val, val.items(), k, job)
                elif t is list:
                    self._walk_list(i, val, k, "", job)
                elif t is int and (kind == "ssn" or kind == "phone"):
                    self._visit_number(i, ev, k, "", val, job)

    def _top_kind(self, key: str) -> object:
        """What the walk does with a top-level key: ``_SKIP``, ``_MESSAGE``, ``_PLAIN`` or the detector its name implies."""
        kinds = self._top_kinds
        if len(kinds) > _KEY_CACHE_MAX:
            kinds.clear()
        if key in self.exclude_fields:
            kind: object = _SKIP
        else:
            det = self.key_rules.detector_for(key)
            kind = det if det is not None else _MESSAGE if key == "message" else _PLAIN
        kinds[key] = kind
        return kind

    def _queue(self, i: int, container: Any, key: Any, value: str, is_message: bool, job: _Job) -> None:
        if len(value) < _MIN_SCAN_CHARS:
            return
        if is_message or len(value) > _MEMO_MAX_CHARS:
            pos = len(job.texts)
            job.texts.append(value)
        else:
            hit = self._memo.get(value, _MISS)
            if hit is not _MISS:
                if hit is not None:
                    job.done.append((i, container, key, hit))  # type: ignore[arg-type]
                return
            pos = job.index.get(value, -1)
            if pos < 0:
                pos = job.index[value] = len(job.texts)
                job.texts.append(value)
        job.slots.append((i, container, key, pos))

    def _string_field(self, i: int, container: Any, slot: Any, key: str, parent: str, value: str, job: _Job) -> None:
        det = self.key_rules.detector_for(key, parent)
        if det is not None and self.key_rules.value_matches(det, value):
            job.done.append((i, container, slot, (self.actions.replacement(det, value), (det,))))
        else:
            self._queue(i, container, slot, value, key == "message", job)

    def _walk_fields(self, i: int, d: dict[str, Any], items: Iterable[tuple[str, Any]], parent: str,
                     job: _Job) -> None:
        """The fields ``items`` of ``d``: all of a nested dict (``d.items()``), or one configured field.

        The type dispatch is written out, here and in the other walks, rather than called per field:
        this loop runs for every nested field of every event.
        """
        for k, val in items:
            t = type(val)
            if t is str:
                self._string_field(i, d, k, k, parent, val, job)
            elif t is dict:
                self._walk_fields(i, val, val.items(), k, job)
            elif t is list:
                self._walk_list(i, val, k, parent, job)
            elif t is int:
                self._visit_number(i, d, k, parent, val, job)

    def _visit_number(self, i: int, d: dict[str, Any], k: str, parent: str, val: int, job: _Job) -> None:
        """An SSN or phone number parsed from JSON as an integer, under a telling key."""
        det = self.key_rules.detector_for(k, parent)
        if det in ("ssn", "phone") and self.key_rules.value_matches(det, str(val)):
            job.done.append((i, d, k, (self.actions.replacement(det, str(val)), (det,))))

    def _walk_list(self, i: int, items: list[Any], key: str, parent: str, job: _Job) -> None:
        for n, item in enumerate(items):
            t = type(item)
            if t is str:
                self._string_field(i, items, n, key, parent, item, job)
            elif t is dict:
                self._walk_fields(i, item, item.items(), key, job)
            elif t is list:
                self._walk_list(i, item, key, parent, job)


def _changes(job: _Job, results: dict[int, _Result]) -> tuple[list[tuple[int, Any, Any, _Result]], dict[int, list[str]]]:
    """The values that change, as (event index, container, key, result), and {event index: detectors}."""
    changed = [(i, c, k, res) for i, c, k, pos in job.slots if (res := results.get(pos)) is not None]
    changed.extend(job.done)
    fired: dict[int, list[str]] = {}
    for i, _, _, (_, dets) in changed:
        if dets:
            got = fired.get(i)
            if got is None:
                fired[i] = list(dets)
            else:
                got.extend(dets)
    return changed, fired


def _write_back(job: _Job, results: dict[int, _Result]) -> dict[int, list[str]]:
    """Replace or drop every changed value; {event index: detectors}."""
    drops: list[tuple[dict[str, Any], str]] = []
    lists: dict[int, list[Any]] = {}
    changed, fired = _changes(job, results)
    for _, container, key, (new, _) in changed:
        if new is not None:
            container[key] = new
        elif type(container) is list:
            container[key] = _DROP
            lists[id(container)] = container
        else:
            drops.append((container, key))
    for d, k in drops:
        d.pop(k, None)
    for items in lists.values():
        items[:] = [x for x in items if x is not _DROP]
    return fired


def _laid_changes(job: _Job, results: dict[int, _Result],
                  fields: list[Event | None]) -> tuple[dict[int, Event], dict[int, list[str]]] | None:
    """``_write_back`` for ``redact_laid``: the new values go into new dicts, per line, to lay over the old ones.

    A change inside a nested value (a dict or list under a laid key) is made in a deep copy of the
    line's nested values; the copy's memo finds the copy of the very container the walk queued.
    """
    changed, fired = _changes(job, results)
    if any(new is None for _, _, _, (new, _) in changed):
        return None
    changes: dict[int, Event] = {}
    nested_copies: dict[int, dict[int, Any]] = {}  # line -> deepcopy memo: id(original container) -> its copy
    for i, container, key, (new, _) in changed:
        laid = changes.get(i)
        if laid is None:
            laid = changes[i] = {}
        f = fields[i]
        if container is None or container is f:  # the line's message, or a top-level laid key
            laid[key] = new
            continue
        assert f is not None
        memo = nested_copies.get(i)
        if memo is None:
            memo = nested_copies[i] = {}
            for k, v in f.items():
                if type(v) is dict or type(v) is list:
                    laid[k] = copy.deepcopy(v, memo)
        memo[id(container)][key] = new
    return changes, fired


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


def tag_names(fired: list[str]) -> list[str]:
    return [f"redacted:{d}" for d in sorted(set(fired))]


def tag_event(ev: Event, fired: list[str]) -> None:
    add_tags(ev, tag_names(fired))
