"""Turn plain YAML data into config Structs, reporting *every* problem with its key path.

msgspec stops at the first error of a value. To report all of them in one
pass, a value that fails to convert is taken apart along its type: a Struct
field by field (unknown keys, missing fields, each field converted alone), a
list item by item, a dict value by value. Valid values convert in one
``msgspec.convert`` call, so the walk only costs time on broken configs.

Paths look like ``outputs.es.batch.max_bytes`` and ``transforms.t.inputs[0]``.
An ``Issue`` says whether it points at the key (unknown key, missing field,
a Struct's own ``__post_init__`` check) or at the value.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

import msgspec


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()  # returned by ``decode`` when the value has issues


@dataclass(frozen=True)
class Issue:
    path: str
    message: str
    at_key: bool = False  # point at the key of ``path`` rather than at its value


def decode(tp: Any, value: Any, path: str) -> tuple[Any, list[Issue]]:
    """``value`` converted to ``tp``, or ``INVALID`` and every issue found."""
    try:
        return msgspec.convert(value, type=tp), []
    except msgspec.ValidationError as exc:
        first = _issue_from_error(str(exc), path, tp, value)
    return INVALID, _localise(tp, value, path) or [first]


@functools.cache
def unusable_type(tp: Any) -> str | None:
    """msgspec's objection to ``tp`` as a decoding target (e.g. ``gt`` on an optional int), or None."""
    try:
        msgspec.inspect.type_info(tp)
    except TypeError as exc:
        return str(exc)
    return None


def unknown_key(key: str, known: typing.Iterable[str]) -> str:
    """The message for an unknown key, with the closest known key as a hint."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f'unknown key (did you mean "{close[0]}"?)' if close else "unknown key"


def _localise(tp: Any, value: Any, path: str) -> list[Issue]:
    """Issues of the parts of ``value``; empty when the problem is the value as a whole."""
    base = _unannotated(tp)
    if _is_struct(base):
        return _struct_issues(base, value, path) if isinstance(value, dict) else []
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin in (Union, types.UnionType):
        # Only an unambiguous union can be taken apart: the one member that fits the value's shape.
        shaped = [arg for arg in args if _accepts_shape(arg, value)]
        return _localise(shaped[0], value, path) if len(shaped) == 1 else []
    if origin in (list, set, frozenset) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        if not isinstance(value, list):
            return []
        return [issue for i, item in enumerate(value) for issue in decode(args[0], item, f"{path}[{i}]")[1]]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return [issue for key, item in value.items() for issue in decode(args[1], item, f"{path}.{key}")[1]]
    return []


def _struct_issues(cls: type[msgspec.Struct], value: dict[str, Any], path: str) -> list[Issue]:
    fields = _fields(cls)
    issues = [Issue(f"{path}.{key}", unknown_key(str(key), fields), at_key=True)
              for key in value if key not in fields]
    for name, info in fields.items():
        if name in value:
            issues += decode(info.type, value[name], f"{path}.{name}")[1]
        elif info.required:
            issues.append(Issue(path, f'missing required field "{name}"', at_key=True))
    return issues


@functools.cache
def _fields(cls: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    return {info.encode_name: info for info in msgspec.structs.fields(cls)}


def _unannotated(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _accepts_shape(tp: Any, value: Any) -> bool:
    base = _unannotated(tp)
    origin = typing.get_origin(base) or base
    if isinstance(value, dict):
        return origin is dict or _is_struct(origin)
    if isinstance(value, list):
        return origin in (list, tuple, set, frozenset)
    return False


# "Expected `int` >= 1 - at `$.batch.max_bytes`"; dict keys are shown as `[...]` and end the usable path.
_AT_SUFFIX = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_KEY_SUFFIX = re.compile(r" - at `key` in `\$(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>[^`]*)`")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<name>[^`]*)`")


def _issue_from_error(text: str, path: str, tp: Any, value: Any) -> Issue:
    """An Issue from a msgspec ValidationError message about ``value`` (at ``path``) of type ``tp``."""
    suffix = ""
    match = _AT_SUFFIX.search(text) or _KEY_SUFFIX.search(text)
    if match is not None:
        text = text[:match.start()]
        suffix = match.group("path").split("[...]", 1)[0]
    where = path + suffix
    if unknown := _UNKNOWN_FIELD.fullmatch(text):
        return Issue(f"{where}.{unknown['name']}", "unknown key", at_key=True)
    if missing := _MISSING_FIELD.fullmatch(text):
        return Issue(where, f'missing required field "{missing["name"]}"', at_key=True)
    if text.startswith("Invalid enum value") and not suffix:
        choices = _literal_choices(tp)
        if choices:
            return Issue(where, f"expected one of {choices}, got {_show(value)}")
    # Anything else about a Struct as a whole comes from its __post_init__: point at its key.
    whole_struct = not suffix and isinstance(value, dict) and _is_struct(_unannotated(tp))
    return Issue(where, _readable(text), at_key=whole_struct)


def _literal_choices(tp: Any) -> str:
    base = _unannotated(tp)
    if typing.get_origin(base) is Literal:
        return ", ".join(_show(choice) for choice in typing.get_args(base))
    return ""


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _readable(text: str) -> str:
    """msgspec's "Expected `int` >= 1" -> "expected int >= 1"; keeps acronyms such as "URL" intact."""
    text = text.replace("`", "")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text
