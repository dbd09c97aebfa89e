"""``${VAR}`` / ``${VAR:-default}`` expansion on the raw config text, before YAML parsing.

Expansion happens on the text (not on parsed values) so a variable can stand
for any scalar, including numbers and booleans. ``$$`` is a literal ``$``; a
``$`` followed by anything else is left alone, so regex anchors such as
``error$`` need no escaping. ``:-`` uses the default when the variable is
unset *or empty*, as in the shell. Whole-line comments are not expanded.

Replacing ``${X}`` changes the length of the text, so the result keeps a map
of every replacement: ``Interpolated.original_index`` turns a position in the
expanded text (a YAML mark) back into the position in the user's file, and
errors always point at the user's file.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter

# `$$`, `${...}` on one line, or a `${` that is never closed on its line.
_TOKEN = re.compile(r"\$(?:\$|\{(?P<body>[^}\n]*)\}|(?P<open>\{))")
_REFERENCE = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)
_SYNTAX_HINT = "use ${NAME} or ${NAME:-default}, and $$ for a literal $"
# Whole-line comments are left alone: a commented-out example may name variables nobody set.
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*", re.MULTILINE)


@dataclass(frozen=True)
class InterpolationError:
    index: int  # position of the `$` in the original text
    message: str


@dataclass
class Interpolated:
    """The expanded text, the errors found, and how to map positions back."""

    text: str
    errors: list[InterpolationError] = field(default_factory=list)
    # One entry per replacement: (start in expanded text, end in expanded text, start in original, end in original).
    _spans: list[tuple[int, int, int, int]] = field(default_factory=list)

    def original_index(self, index: int) -> int:
        """Position in the original text of position ``index`` of the expanded text.

        A position inside a replaced value maps to the ``$`` that produced it.
        """
        i = bisect.bisect_right(self._spans, index, key=itemgetter(0)) - 1
        if i < 0:
            return index
        _, out_end, orig_start, orig_end = self._spans[i]
        if index < out_end:
            return orig_start
        return orig_end + (index - out_end)


def interpolate(text: str, env: Mapping[str, str]) -> Interpolated:
    """Expand every variable reference of ``text`` from ``env``; collect every error."""
    result = Interpolated(text="")
    pieces: list[str] = []
    last = 0
    out_len = 0
    comments = [(m.start(), m.end()) for m in _COMMENT_LINE.finditer(text)]
    comment_starts = [c[0] for c in comments]
    for match in _TOKEN.finditer(text):
        i = bisect.bisect_right(comment_starts, match.start()) - 1
        if i >= 0 and match.start() < comments[i][1]:
            continue
        value = _replacement(match, env, result.errors)
        before = text[last:match.start()]
        pieces.append(before)
        out_len += len(before)
        pieces.append(value)
        result._spans.append((out_len, out_len + len(value), match.start(), match.end()))
        out_len += len(value)
        last = match.end()
    pieces.append(text[last:])
    result.text = "".join(pieces)
    return result


def _replacement(match: re.Match[str], env: Mapping[str, str], errors: list[InterpolationError]) -> str:
    """The text that replaces one token; appends to ``errors`` and returns "" when it cannot be expanded."""
    if match.group(0) == "$$":
        return "$"
    if match.group("open") is not None:
        errors.append(InterpolationError(match.start(), f'unclosed "${{"; {_SYNTAX_HINT}'))
        return ""
    body = match.group("body")
    reference = _REFERENCE.fullmatch(body)
    if reference is None:
        errors.append(InterpolationError(match.start(), f'invalid variable reference "${{{body}}}"; {_SYNTAX_HINT}'))
        return ""
    name, default = reference.group("name"), reference.group("default")
    value = env.get(name)
    if not value and default is not None:
        value = default
    if value is None:
        errors.append(InterpolationError(match.start(), f"environment variable {name} is not set"))
        return ""
    if "\n" in value or "\r" in value:
        # A line break would silently change the YAML structure around the reference.
        errors.append(InterpolationError(match.start(), f"environment variable {name} contains a line break"))
        return ""
    return value
