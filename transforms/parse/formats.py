"""The format registry: names and config objects -> parsers, and the ``auto`` format.

Built-in names: see ``BUILTIN``. Formats configured with parameters are the
tagged objects ``RegexSpec``, ``GrokSpec`` and ``KeyValueSpec``. The ML
presets of ``ml.ML_FORMATS`` are usable by name too (a built-in of the same
name wins) and ``auto`` tries them after the built-ins.

``auto`` picks per line: the first character of the line selects the few
built-ins that can start with it (a digit: time-led layouts and access logs;
``[``: bracketed times; ``{``: JSON; ...), which are tried in order.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from itertools import compress, repeat
from typing import Annotated, Any

import msgspec
from logferry.agent.config.common import Strict
from logferry.transforms.parse.access import clf, combined, uvicorn
from logferry.transforms.parse.common import (
    MATCH_WITHOUT_TIME,
    NO_MATCH,
    FormatContext,
    Into,
    Parser,
    as_into,
)
from logferry.transforms.parse.custom_regex import regex_format
from logferry.transforms.parse.glog import glog
from logferry.transforms.parse.grok import grok
from logferry.transforms.parse.levels import normalize_level
from logferry.transforms.parse.log4j import log4j, spark, zookeeper
from logferry.transforms.parse.loghub import apache_error, hdfs, healthapp, proxifier
from logferry.transforms.parse.ml import ML_FORMATS
from logferry.transforms.parse.python_logging import python_logging
from logferry.transforms.parse.structured import json_format, key_value, logfmt
from logferry.transforms.parse.syslog import syslog
from msgspec import Meta


class RegexSpec(Strict, tag_field="format", tag="regex"):
    """``{format: regex, pattern: ...}``: named groups become fields."""

    pattern: Annotated[str, Meta(description="Regex with named groups (`__` in a name stands for `.`).")]
    timeout_ms: Annotated[int, Meta(gt=0, description="Longest time one match may take.")] = 100


class GrokSpec(Strict, tag_field="format", tag="grok"):
    """``{format: grok, pattern: "%{...}"}`` over the shipped pattern library."""

    pattern: Annotated[str, Meta(description="Grok expression, e.g. `%{COMBINEDAPACHELOG}`.")]
    patterns: Annotated[dict[str, str], Meta(description="Extra named patterns for this expression.")] = msgspec.field(
        default_factory=dict)
    timeout_ms: Annotated[int, Meta(gt=0, description="Longest time one match may take.")] = 100


class KeyValueSpec(Strict, tag_field="format", tag="key_value"):
    """``{format: key_value, field_split: " ", value_split: "=", quotes: "\\"'"}``."""

    field_split: Annotated[str, Meta(min_length=1, description="Text between pairs.")] = " "
    value_split: Annotated[str, Meta(min_length=1, description="Text between a key and its value.")] = "="
    quotes: Annotated[str, Meta(description="Characters that may quote a value.")] = "\"'"


FormatSpec = RegexSpec | GrokSpec | KeyValueSpec

BUILTIN: dict[str, Callable[[FormatContext], Parser]] = {
    "json": json_format,
    "logfmt": logfmt,
    "key_value": lambda ctx: key_value(ctx),
    "syslog": syslog,
    "rfc3164": syslog,
    "rfc5424": syslog,
    "clf": clf,
    "combined": combined,
    "nginx": combined,
    "uvicorn": uvicorn,
    "python_logging": python_logging,
    "glog": glog,
    "log4j": log4j,
    "spark": spark,
    "zookeeper": zookeeper,
    "apache_error": apache_error,
    "hdfs": hdfs,
    "hadoop": hdfs,
    "healthapp": healthapp,
    "proxifier": proxifier,
}

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ANY = None  # a format whose lines may start with anything
# (format, characters its lines can start with), in the order auto tries them.
_AUTO_ORDER: tuple[tuple[str, str | None], ...] = (
    ("json", "{ \t"),
    ("python_logging", _DIGITS + _UPPER),
    ("log4j", _DIGITS),
    ("hdfs", _DIGITS),
    ("healthapp", _DIGITS),
    ("syslog", _UPPER + _DIGITS + "<"),
    ("glog", "IWEFDV"),
    ("uvicorn", _UPPER),
    ("apache_error", "["),
    ("proxifier", "["),
    ("combined", _ANY),
    ("clf", _ANY),
    ("strict_logfmt", _LOWER + _UPPER + "_@"),
)


# ML presets anchored at the start of the line: the characters their lines can start with (others: any).
_ML_STARTS: dict[str, str] = {
    "vllm_access": "DIWECT\x1b",
    "torch_rank": "[",
}


def known_format_names() -> list[str]:
    return sorted({*BUILTIN, *ML_FORMATS, "auto"})


def _ml_parser(fn: Callable[[str], dict[str, Any] | None], ctx: FormatContext) -> Parser:
    """An ML preset, with its time and level brought to our conventions if it did not already."""
    any_time = ctx.any_time

    def parse(line: str) -> dict[str, Any] | None:
        out = fn(line)
        if out is None:
            return None
        ts = out.get("@timestamp")
        if ts is not None and not (isinstance(ts, str) and ts.endswith("Z")):
            out["@timestamp"] = any_time(ts)
        lvl = out.get("log.level")
        if lvl is not None:
            norm = normalize_level(lvl)
            if norm is not None:
                out["log.level"] = norm
        return out

    return parse


def auto(ctx: FormatContext) -> Parser:
    """Per line, the built-ins that can start with its first character, then the ML presets."""
    parsers = {name: build_format(name, ctx) for name, _ in _AUTO_ORDER if name != "strict_logfmt"}
    built = {name: ctx.as_into(p) for name, p in parsers.items()}
    built["strict_logfmt"] = ctx.as_into(logfmt(ctx, allow_bare_keys=False))
    ml = [(ctx.as_into(_ml_parser(fn, ctx)), _ML_STARTS.get(name)) for name, fn in ML_FORMATS.items()
          if name not in BUILTIN]
    table: dict[str, tuple[Into, ...]] = {}
    for code in range(128):
        c = chr(code)
        table[c] = (tuple(built[n] for n, starts in _AUTO_ORDER if starts is None or c in starts)
                    + tuple(p for p, starts in ml if starts is None or c in starts))
    other = tuple(built[n] for n, starts in _AUTO_ORDER if starts is None) + tuple(p for p, s in ml if s is None)
    table[""] = ()

    def into(line: str, ev: dict[str, Any]) -> int:
        for p in table.get(line[:1], other):
            status = p(line, ev)
            if status:
                return status
        return NO_MATCH

    # The batch form: python_logging, the most common kind, over the whole batch first (it is first in
    # the order for every character it can start with, and json, before it for `{`, never takes its lines),
    # then the other formats line by line for the rows it left.
    py_lay = parsers["python_logging"].lay  # type: ignore[attr-defined]
    py_into = built["python_logging"]
    rest = {c: tuple(p for p in ps if p is not py_into) for c, ps in table.items()}
    rest_other = tuple(p for p in other if p is not py_into)

    def lay(lines: list[str]) -> tuple[list[dict[str, Any] | None], list[int], dict[int, list[str]]]:
        fields, no_time, tags = py_lay(lines)
        for i in compress(range(len(fields)), map(operator.is_, fields, repeat(None))):
            line = lines[i]
            own: dict[str, Any] = {}
            for p in rest.get(line[:1], rest_other):
                status = p(line, own)
                if status:
                    break
            else:
                continue
            if "tags" in own:
                tags[i] = list(own.pop("tags"))
            if status == MATCH_WITHOUT_TIME:
                no_time.append(i)
            fields[i] = own
        return fields, no_time, tags

    def parse(line: str) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        return out if into(line, out) else None

    parse.into = into  # type: ignore[attr-defined]
    parse.lay = lay  # type: ignore[attr-defined]
    return parse


def build_format(spec: str | FormatSpec, ctx: FormatContext) -> Parser:
    """The parser for one entry of ``formats:``; ``ValueError`` names what is wrong."""
    if isinstance(spec, RegexSpec):
        return regex_format(ctx, spec.pattern, spec.timeout_ms)
    if isinstance(spec, GrokSpec):
        return grok(ctx, spec.pattern, spec.patterns, spec.timeout_ms)
    if isinstance(spec, KeyValueSpec):
        return key_value(ctx, spec.field_split, spec.value_split, spec.quotes)
    if spec == "auto":
        return auto(ctx)
    factory = BUILTIN.get(spec)
    if factory is not None:
        return factory(ctx)
    ml = ML_FORMATS.get(spec)
    if ml is not None:
        return _ml_parser(ml, ctx)
    if spec in ("regex", "grok"):
        raise ValueError(f"format {spec!r} needs a pattern: write it as {{format: {spec}, pattern: ...}}")
    raise ValueError(f"unknown format {spec!r}; known formats: {', '.join(known_format_names())}")


__all__ = ["BUILTIN", "FormatSpec", "GrokSpec", "KeyValueSpec", "RegexSpec", "auto", "build_format",
           "known_format_names"]
