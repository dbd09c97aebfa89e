"""Self-describing formats: ``json``, ``logfmt`` and ``key_value``.

* ``json``: one JSON object per line; nested objects stay nested.
* ``logfmt``: the whole line is ``key=value`` pairs (values may be double-quoted, bare keys mean
  ``true``), as written by Go's logfmt, Heroku and structlog's ``LogfmtRenderer``.
* ``key_value``: pairs anywhere in the line with configurable separators and quotes; the text
  between the pairs becomes ``message``.

Well-known keys (time, level, msg, logger) are mapped to ECS by ``absorb``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from logferry.transforms.parse.common import FormatContext, Parser, absorb

_json_decode = msgspec.json.Decoder().decode
_LOGFMT_PAIR = r"([^\s=\"]+)(?:=(\"(?:[^\"\\]|\\.)*\"|[^\s\"]*))?"
_LOGFMT_STRICT_PAIR = r"[^\s=\"]+=(?:\"(?:[^\"\\]|\\.)*\"|[^\s\"]*)"
# Pairs are separated by mandatory whitespace: with optional separators a long token could be
# split into pairs in exponentially many ways when the line finally fails to match.
_LOGFMT_LINE = re.compile(rf"\s*{_LOGFMT_PAIR}(?:\s+{_LOGFMT_PAIR})*\s*", re.DOTALL)
_LOGFMT_STRICT_LINE = re.compile(rf"\s*{_LOGFMT_STRICT_PAIR}(?:\s+{_LOGFMT_STRICT_PAIR})*\s*", re.DOTALL)
_LOGFMT_ITER = re.compile(_LOGFMT_PAIR)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]), text)


def json_format(ctx: FormatContext) -> Parser:
    """One JSON object per line."""

    def parse(line: str) -> dict[str, Any] | None:
        s = line.lstrip()
        if not s.startswith("{"):
            return None
        try:
            obj = _json_decode(s)
        except msgspec.DecodeError:
            return None
        if not isinstance(obj, dict):
            return None
        return absorb(obj, ctx)

    return parse


def logfmt(ctx: FormatContext, allow_bare_keys: bool = True) -> Parser:
    """A line made only of ``key=value`` pairs (at least one with ``=``); bare keys mean ``true``.

    ``auto`` uses ``allow_bare_keys=False`` so that prose with one ``=`` in it is not taken for logfmt.
    """
    valid = (_LOGFMT_LINE if allow_bare_keys else _LOGFMT_STRICT_LINE).fullmatch
    pairs = _LOGFMT_ITER.finditer

    def parse(line: str) -> dict[str, Any] | None:
        if "=" not in line or valid(line) is None:
            return None
        raw: dict[str, Any] = {}
        for m in pairs(line):
            key, value = m.groups()
            if value is None:
                raw[key] = True
            elif value.startswith('"'):
                raw[key] = _unescape(value[1:-1])
            else:
                raw[key] = value
        return absorb(raw, ctx)

    return parse


def key_value(ctx: FormatContext, field_split: str = " ", value_split: str = "=",
              quotes: str = "\"'") -> Parser:
    """``key<value_split>value`` pairs separated by ``field_split``; other text becomes ``message``."""
    if not field_split or not value_split:
        raise ValueError("key_value: field_split and value_split must not be empty")
    fs, vs = re.escape(field_split), re.escape(value_split)
    key_excluded = re.escape("".join(sorted(set(field_split + value_split + quotes))))
    quoted = [f"{re.escape(q)}((?:[^{re.escape(q)}\\\\]|\\\\.)*){re.escape(q)}" for q in quotes]
    value = "|".join([*quoted, rf"((?:(?!{fs}).)*)"])
    rx = re.compile(rf"(?:^|(?<={fs}))\s*([^\s{key_excluded}]+){vs}(?:{value})", re.DOTALL)
    finditer = rx.finditer

    def parse(line: str) -> dict[str, Any] | None:
        if value_split not in line:
            return None
        raw: dict[str, Any] = {}
        rest: list[str] = []
        pos = 0
        for m in finditer(line):
            g = m.groups()
            val = next((v for v in g[1:-1] if v is not None), None)
            raw[g[0]] = _unescape(val) if val is not None else g[-1]
            rest.append(line[pos:m.start()])
            pos = m.end()
        if not raw:
            return None
        rest.append(line[pos:])
        out = absorb(raw, ctx)
        text = " ".join(t for t in (r.strip().strip(field_split).strip() for r in rest) if t)
        if text and "message" not in out:
            out["message"] = text
        return out

    return parse
