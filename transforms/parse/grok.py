"""Grok: Logstash-compatible ``%{PATTERN:field:type}`` expressions over a shipped pattern library.

The library is the ``*.grok`` files of ``logferry.transforms.parse.grok_patterns``
(``NAME regex`` per line), extended by ``patterns:`` given in config. An
expression is expanded once, at config load, into one ``regex`` pattern whose
capture groups are renamed ``g0, g1, ...`` (field names such as
``[http][request][method]`` are not valid group names); each group keeps its
field name (``http.request.method``) and type (``int``/``float``/``bool``).
User expressions run with the ``regex`` module's per-match timeout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import regex
from logferry.transforms.parse.common import FormatContext, Parser, absorb
from logferry.transforms.parse.custom_regex import bounded_search

_REFERENCE = re.compile(r"%\{(\w+)(?::([^:}]+))?(?::(\w+))?\}")
_INLINE_GROUP = re.compile(r"\(\?P?<([A-Za-z_@\[][\w@.\[\]-]*)>")
_MAX_DEPTH = 64
_CONVERTERS: dict[str, Callable[[str], Any]] = {}


def _to_int(v: str) -> int:
    try:
        return int(v)
    except ValueError:
        return int(float(v))


def _to_bool(v: str) -> bool:
    low = v.strip().lower()
    if low in ("true", "t", "yes", "y", "1", "on"):
        return True
    if low in ("false", "f", "no", "n", "0", "off"):
        return False
    raise ValueError(v)


_CONVERTERS.update({"int": _to_int, "long": _to_int, "integer": _to_int, "float": float, "double": float,
                    "bool": _to_bool, "boolean": _to_bool, "string": str})


def convert_value(value: str, type_name: str) -> Any:
    """``value`` as ``type_name`` (int/float/bool/string), or unchanged when it does not convert."""
    try:
        return _CONVERTERS[type_name](value)
    except (ValueError, OverflowError):
        return value


def field_path(name: str) -> str:
    """``[http][request][method]`` -> ``http.request.method``; plain names unchanged."""
    if name.startswith("["):
        return ".".join(p for p in re.split(r"[\[\]]+", name) if p)
    return name


@cache
def library() -> dict[str, str]:
    """The shipped pattern library, name -> pattern text."""
    patterns: dict[str, str] = {}
    for entry in sorted(resources.files("logferry.transforms.parse.grok_patterns").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".grok"):
            patterns.update(parse_pattern_file(entry.read_text(encoding="utf-8")))
    return patterns


def parse_pattern_file(text: str) -> dict[str, str]:
    """``NAME regex`` lines; ``#`` comments and blank lines skipped."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, body = line.partition(" ")
        out[name] = body.strip()
    return out


class GrokCompiler:
    """Expands one grok expression into a regex plus the field (and type) of each capture group."""

    def __init__(self, patterns: dict[str, str]) -> None:
        self.patterns = patterns
        self.fields: list[tuple[str, str | None]] = []

    def expand(self, text: str, depth: int = 0, chain: tuple[str, ...] = ()) -> str:
        if depth > _MAX_DEPTH:
            raise ValueError(f"grok: patterns nest too deeply (a cycle?): {' -> '.join(chain)}")
        text = _INLINE_GROUP.sub(self._inline_group, text)

        def replace(m: re.Match[str]) -> str:
            name, field, type_name = m.groups()
            body = self.patterns.get(name)
            if body is None:
                raise ValueError(f"grok: unknown pattern %{{{name}}}")
            if type_name is not None and type_name not in _CONVERTERS:
                raise ValueError(f"grok: unknown type {type_name!r} in {m[0]} (use int, float, bool or string)")
            inner = self.expand(body, depth + 1, (*chain, name))
            if field is None:
                return f"(?:{inner})"
            self.fields.append((field_path(field), type_name))
            return f"(?P<g{len(self.fields) - 1}>{inner})"

        return _REFERENCE.sub(replace, text)

    def _inline_group(self, m: re.Match[str]) -> str:
        self.fields.append((field_path(m[1]), None))
        return f"(?P<g{len(self.fields) - 1}>"


def compile_grok(expression: str, extra_patterns: dict[str, str] | None = None) -> tuple[Any, list[tuple[str, str | None]]]:
    """The compiled ``regex`` pattern and the (field, type) of each group ``g<i>``."""
    patterns = {**library(), **(extra_patterns or {})}
    compiler = GrokCompiler(patterns)
    source = compiler.expand(expression)
    try:
        return regex.compile(source, regex.VERSION0), compiler.fields
    except regex.error as e:
        raise ValueError(f"grok: {expression!r} does not compile: {e}") from e


def grok(ctx: FormatContext, pattern: str, patterns: dict[str, str] | None = None,
         timeout_ms: int = 100) -> Parser:
    """Parser for one grok expression; ``timestamp``/``level``/``message`` fields map to ECS."""
    rx, fields = compile_grok(pattern, patterns)
    search = bounded_search(rx, timeout_ms)
    indexed = [(f"g{i}", name, type_name) for i, (name, type_name) in enumerate(fields)]

    def parse(line: str) -> dict[str, Any] | None:
        m = search(line)
        if m is None:
            return None
        groups = m.groupdict()
        raw: dict[str, Any] = {}
        for group, name, type_name in indexed:
            v = groups[group]
            if v is None or name in raw:
                continue
            raw[name] = convert_value(v, type_name) if type_name else v
        return absorb(raw, ctx)

    return parse
