"""The ``regex`` format: a user pattern with named groups, run with a per-match timeout.

Group names become field names; ``__`` in a name stands for ``.`` (``(?P<process__pid>\\d+)``
-> ``process.pid``) since group names cannot contain dots. ``timestamp``,
``level``, ``message`` and ``logger`` groups map to ECS like any free-form
field (see ``common.absorb``). The ``regex`` module's ``timeout`` bounds each
match, so a catastrophic pattern costs at most ``timeout_ms`` per line and
the line counts as not matched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex
from logferry.transforms.parse.common import FormatContext, Parser, absorb


def compile_user_regex(pattern: str) -> Any:
    """The compiled pattern, or ``ValueError`` with the reason."""
    try:
        rx = regex.compile(pattern, regex.VERSION0)
    except regex.error as e:
        raise ValueError(f"regex: {pattern!r} does not compile: {e}") from e
    if not rx.groupindex:
        raise ValueError(f"regex: {pattern!r} has no named group (?P<name>...) to extract")
    return rx


def bounded_search(rx: Any, timeout_ms: int) -> Callable[[str], Any]:
    """``rx.search`` of a user pattern; a search longer than ``timeout_ms`` counts as no match (``None``)."""
    search = rx.search
    timeout = timeout_ms / 1000

    def run(line: str) -> Any:
        try:
            return search(line, timeout=timeout)
        except TimeoutError:
            return None

    return run


def regex_format(ctx: FormatContext, pattern: str, timeout_ms: int = 100) -> Parser:
    """Parser for one user regex (``search`` semantics: anchor with ``^`` if you mean the line start)."""
    rx = compile_user_regex(pattern)
    search = bounded_search(rx, timeout_ms)
    names = {g: g.replace("__", ".") for g in rx.groupindex}

    def parse(line: str) -> dict[str, Any] | None:
        m = search(line)
        if m is None:
            return None
        raw = {names[k]: v for k, v in m.groupdict().items() if v is not None}
        return absorb(raw, ctx)

    return parse
