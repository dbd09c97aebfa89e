"""Which files the `file` source reads, and when to look again.

* ``GlobSet``: include/exclude glob patterns (``*``, ``?``, ``[...]`` within
  one path segment, ``**`` for any number of directories) -> the matching
  regular files, sorted.
* ``ChangeNotifier``: sets an ``asyncio.Event`` whenever watchfiles reports a
  change under the directories the globs can match in. It is only a hint:
  the source rescans periodically anyway, so a missed notification (a
  directory that did not exist yet, an overflowing inotify queue) only
  delays discovery until the next rescan.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)

_MAGIC = re.compile(r"[*?\[]")


def _segment_regex(segment: str) -> str:
    """Regex for one path segment of a glob (never matches ``/``)."""
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        c = segment[i]
        i += 1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i
            if j < n and segment[j] in "!^":
                j += 1
            if j < n and segment[j] == "]":
                j += 1
            j = segment.find("]", j)
            if j < 0:
                out.append(re.escape(c))
                continue
            body = segment[i:j].replace("\\", "\\\\")
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append(f"(?!/)[{body}]")
            i = j + 1
        else:
            out.append(re.escape(c))
    return "".join(out)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob into a regex over whole paths; ``**`` spans zero or more directories."""
    parts = pattern.split("/")
    out: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]*/)*")
        else:
            out.append(_segment_regex(part) + ("" if last else "/"))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def static_root(pattern: str) -> tuple[str, bool]:
    """The directory a glob's matches live under, and whether matches may be deeper than one level."""
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        if _MAGIC.search(part):
            root = "/".join(parts[:i]) or "/"
            return root, i < len(parts) - 1
    return os.path.dirname(pattern) or "/", False


class GlobSet:
    """Include and exclude globs over absolute paths."""

    def __init__(self, include: list[str], exclude: list[str] | None = None) -> None:
        self.include = list(include)
        self._include_res = [glob_regex(p) for p in include]
        self._exclude_res = [glob_regex(p) for p in exclude or ()]

    def excluded(self, path: str) -> bool:
        return any(r.match(path) for r in self._exclude_res)

    def scan(self) -> dict[str, os.stat_result]:
        """Every regular file matched now, with its stat (blocking: run in a thread)."""
        found: dict[str, os.stat_result] = {}
        for pattern in self.include:
            for path in glob.iglob(pattern, recursive=True):
                if path in found or self.excluded(path):
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue  # vanished between listing and stat
                if stat.S_ISREG(st.st_mode):
                    found[path] = st
        return dict(sorted(found.items()))

    def watch_roots(self) -> tuple[list[str], bool]:
        """Existing directories to watch, and whether to watch them recursively."""
        roots: set[str] = set()
        recursive = False
        for pattern in self.include:
            root, deep = static_root(pattern)
            recursive = recursive or deep
            if os.path.isdir(root):
                roots.add(root)
        # A root inside another recursive root is covered already.
        ordered = sorted(roots)
        if recursive:
            ordered = [r for r in ordered if not any(r != o and r.startswith(o.rstrip("/") + "/") for o in ordered)]
        return ordered, recursive


class ChangeNotifier:
    """Calls ``on_change(structural)`` on file-system activity under the globs' roots until ``stop`` is set.

    ``structural`` is true when files appeared or disappeared (worth a rescan),
    false when files were only modified (worth a read).
    """

    def __init__(self, globs: GlobSet, on_change: Callable[[bool], None], retry_secs: float = 1.0) -> None:
        self.globs = globs
        self.on_change = on_change
        self.retry_secs = retry_secs

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            roots, recursive = self.globs.watch_roots()
            if roots:
                try:
                    await self._watch(roots, recursive, stop)
                except Exception as exc:  # noqa: BLE001 (any watcher failure only costs latency)
                    # Notifications are an optimisation; rescans still find every file.
                    log.warning("file source: watching %s failed, relying on rescans: %s", roots, exc)
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(stop.wait(), self.retry_secs)
            except TimeoutError:
                pass

    async def _watch(self, roots: list[str], recursive: bool, stop: asyncio.Event) -> None:
        async for _changes in watchfiles.awatch(*roots, stop_event=stop, recursive=recursive, watch_filter=None,
                                                debounce=100, step=20, rust_timeout=1000, yield_on_timeout=True):
            if _changes:
                self.on_change(any(kind != watchfiles.Change.modified for kind, _ in _changes))
            # A root was removed or a missing one appeared: start over with the new set.
            if self.globs.watch_roots()[0] != roots:
                return


def is_gzip_path(path: str | Path) -> bool:
    return str(path).endswith(".gz")
