"""Join physical lines into multi-line events (tracebacks, stack traces): pure code.

Two rules, as in Filebeat:

* ``start``: a line matching the pattern starts a new event; any other line
  is appended to the event being built.
* ``continue``: a line matching the pattern is appended to the event being
  built; any other line starts a new event.

``negate`` flips the pattern's sense. An event is emitted when the next event
starts, when it reaches ``max_lines`` or ``max_bytes`` (further lines then
start a new event: nothing is dropped), or when no line has arrived for
``timeout_ms`` (the caller asks with ``flush_due``). Joined events carry the
``_multiline`` tag plus every tag of their lines; their offset is the offset
of their first line.

The aggregator holds the lines of the event it is building: ``held_start``
is where a checkpoint must stop so those lines are read again after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import regex

from logferry.agent.event import TAG_MULTILINE
from logferry.agent.sources.file.config import MultilineConfig
from logferry.agent.sources.file.framing import Framed

# Python: the traceback header, indented frame lines, chained-exception notes,
# blank lines between chained tracebacks and the final "SomeError: ..." line.
PYTHON_TRACEBACK = (
    r"^(?:[ \t]|Traceback \(most recent call last\):|During handling of the above exception"
    r"|The above exception was the direct cause|$"
    r"|(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception|Warning|Exit|Interrupt|Group)\b(?::|$))"
)
# Java: "at ..." frames, "... N more", "Caused by:", "Suppressed:" and the exception line itself.
JAVA_STACK = (
    r"^(?:\s+at\s|\s+\.\.\.\s+\d+\s+(?:more|common frames omitted)|\s*Caused by:|\s*Suppressed:"
    r"|(?:[a-zA-Z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error|Throwable)\b(?::|$))"
)

# TorchServe writes a model's stderr line by line behind its own log4j prefix, so the Python rule
# applies after the prefix; its backends also raise dotted, suffix-less exception names
# (onnxruntime's `...InvalidArgument: ...`), accepted here only behind that prefix.
TORCHSERVE_TRACEBACK = (
    r"^\S+ \[[A-Z ]+\] \S+ MODEL_LOG -(?: |$)(?:" + PYTHON_TRACEBACK[1:]
    + r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+: )"
)

_USER_PATTERN_TIMEOUT_SECS = 0.1


def _matcher(cfg: MultilineConfig) -> tuple[Callable[[str], Any], bool]:
    """(match function, is_start_rule) for a config."""
    if cfg.preset == "python_traceback":
        return re.compile(PYTHON_TRACEBACK).match, False
    if cfg.preset == "java_stack":
        return re.compile(JAVA_STACK).match, False
    if cfg.preset == "torchserve_traceback":
        return re.compile(TORCHSERVE_TRACEBACK).match, False
    if cfg.start_pattern is not None:
        compiled = regex.compile(cfg.start_pattern)
        is_start = True
    else:
        assert cfg.continue_pattern is not None
        compiled = regex.compile(cfg.continue_pattern)
        is_start = False

    def match(line: str) -> Any:
        # User-supplied pattern: bounded time per line against pathological backtracking.
        try:
            return compiled.search(line, timeout=_USER_PATTERN_TIMEOUT_SECS)
        except TimeoutError:
            return None

    return match, is_start


class MultilineAggregator:
    """Builds multi-line events from framed lines of one file."""

    def __init__(self, cfg: MultilineConfig) -> None:
        self._match, self._start_rule = _matcher(cfg)
        self._negate = cfg.negate
        self.timeout_secs = cfg.timeout_ms / 1000.0
        self.max_lines = cfg.max_lines
        self.max_bytes = cfg.max_bytes
        self._lines: list[str] = []
        self._tags: list[str] = []
        self._start = 0
        self._bytes = 0
        self._last_line_at = 0.0

    @property
    def held_start(self) -> int | None:
        """Offset of the first line of the event being built, or ``None``."""
        return self._start if self._lines else None

    def push(self, framed: Framed, now: float) -> Framed:
        """Add framed lines; return the events that are complete (``end`` = checkpoint limit)."""
        out_lines: list[str] = []
        out_offsets: list[int] = []
        out_tags: dict[int, list[str]] = {}
        match, negate, start_rule = self._match, self._negate, self._start_rule
        offsets = framed.offsets
        in_tags = framed.tags
        n = len(framed.lines)
        for i, line in enumerate(framed.lines):
            hit = (match(line) is not None) != negate
            joins = (not hit) if start_rule else hit
            # bytes of the line plus its newline; the joined message has one newline fewer
            size = (offsets[i + 1] if i + 1 < n else framed.end) - offsets[i]
            if self._lines and (not joins or len(self._lines) >= self.max_lines
                                or self._bytes + size - 1 > self.max_bytes):
                self._emit(out_lines, out_offsets, out_tags)
            if not self._lines:
                self._start = offsets[i]
                self._bytes = 0
            self._lines.append(line)
            self._bytes += size
            line_tags = in_tags.get(i)
            if line_tags:
                self._tags.extend(t for t in line_tags if t not in self._tags)
        if n:
            self._last_line_at = now
        held = self.held_start
        return Framed(out_lines, out_offsets, out_tags, framed.end if held is None else held)

    def flush_due(self, now: float, end: int) -> Framed | None:
        """Emit the held event if it has waited ``timeout_ms``; ``end`` is the framer's end."""
        if self._lines and now - self._last_line_at >= self.timeout_secs:
            return self.flush(end)
        return None

    def flush(self, end: int) -> Framed:
        """Emit the held event now (file finished or timed out)."""
        lines: list[str] = []
        offsets: list[int] = []
        tags: dict[int, list[str]] = {}
        if self._lines:
            self._emit(lines, offsets, tags)
        return Framed(lines, offsets, tags, end)

    def _emit(self, lines: list[str], offsets: list[int], tags: dict[int, list[str]]) -> None:
        held = self._lines
        event_tags = self._tags
        if len(held) > 1:
            event_tags = [TAG_MULTILINE, *event_tags]
        if event_tags:
            tags[len(lines)] = event_tags
        lines.append(held[0] if len(held) == 1 else "\n".join(held))
        offsets.append(self._start)
        self._lines = []
        self._tags = []
