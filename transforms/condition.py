"""A small, safe condition language for `filter` and `route`, compiled once into closures.

Grammar (keywords are case-sensitive, lower case)::

    expr       := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | primary
    primary    := "(" expr ")" | "exists" "(" FIELD ")" | "true" | "false" | comparison
    comparison := FIELD ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
                | FIELD "in" list | FIELD "not" "in" list
                | FIELD ("=~" | "!~") STRING
    list       := "[" [literal ("," literal)*] "]"
    literal    := STRING | NUMBER | "true" | "false" | "null"

FIELD is a dotted path (``log.level``, ``ml.loss``, ``@timestamp``, ``http.response.status_code``),
looked up flat first, then nested (see ``logferry.transforms.fields``). Strings use single or double
quotes with backslash escapes; ``=~`` patterns are searched (not anchored) with the ``regex`` module
and a time limit, so a pathological user pattern cannot stall the pipeline.

Missing fields follow SQL's rule: a comparison against a missing field is false, whatever the
operator (``x != 1`` and ``x not in [1]`` are false too). ``not`` is plain boolean negation, so
``not (x == 1)`` is true when ``x`` is missing. Test absence with ``not exists(x)``.

A list field (``tags``) matches ``==``/``in`` when any element does, so ``tags == "cuda_oom"`` tests
membership and ``tags != "x"`` means no element is ``"x"``.

Types: numbers compare with numbers (a numeric string in the event is read as a number when the
literal is a number); strings compare with strings; ``true``/``false``/``null`` only with ``==``/``!=``.
Any other pairing is false. Nothing here ever calls ``eval``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

import regex

from logferry.agent.event import Event
from logferry.transforms.fields import MISSING, FieldPath

Predicate = Callable[[Event], bool]

#: Longest a user regex may run on one value before the comparison counts as false.
REGEX_TIMEOUT_SECS = 0.05


class ConditionError(ValueError):
    """A condition that does not parse; the message names the column (1-based)."""

    def __init__(self, source: str, column: int, message: str) -> None:
        self.source = source
        self.column = column
        super().__init__(f"condition {source!r}: column {column}: {message}")


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.@-]))
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|=~|!~|<|>)
  | (?P<punct>[()\[\],])
  | (?P<name>[A-Za-z_@][\w@.-]*)
    """,
    re.VERBOSE,
)

_KEYWORDS = frozenset({"and", "or", "not", "in", "exists", "true", "false", "null"})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class _Tok:
    __slots__ = ("col", "kind", "text", "value")

    def __init__(self, kind: str, text: str, value: Any, col: int) -> None:
        self.kind = kind  # num, str, op, punct, kw, field, end
        self.text = text
        self.value = value
        self.col = col

    def describe(self) -> str:
        """How an error message names this token."""
        return repr(self.text) if self.kind != "end" else "end of condition"


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise ConditionError(src, pos + 1, f"unexpected character {src[pos]!r}")
        kind = m.lastgroup
        text = m.group()
        col = pos + 1
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "num":
            toks.append(_Tok("num", text, float(text) if any(c in text for c in ".eE") else int(text), col))
        elif kind == "str":
            toks.append(_Tok("str", text, _unquote(text), col))
        elif kind == "name":
            if text in _KEYWORDS:
                toks.append(_Tok("kw", text, text, col))
            else:
                if text.endswith(".") or ".." in text:
                    raise ConditionError(src, col, f"invalid field name {text!r}")
                toks.append(_Tok("field", text, text, col))
        else:
            assert kind is not None
            toks.append(_Tok(kind, text, text, col))
    toks.append(_Tok("end", "", None, len(src) + 1))
    return toks


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _coerce(v: Any, literal: Any) -> Any:
    """The event value made comparable with ``literal``, or ``MISSING`` when the types do not pair."""
    if _is_number(literal):
        if _is_number(v):
            return v
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return MISSING
        return MISSING
    if isinstance(literal, str):
        return v if isinstance(v, str) else MISSING
    # true / false / null: exact identity of type
    if literal is None:
        return v if v is None else MISSING
    return v if isinstance(v, bool) else MISSING


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, tok: _Tok, msg: str) -> ConditionError:
        return ConditionError(self.src, tok.col, msg)

    def expect(self, kind: str, text: str | None = None) -> _Tok:
        t = self.next()
        if t.kind != kind or (text is not None and t.text != text):
            want = repr(text) if text is not None else kind
            raise self.error(t, f"expected {want}, got {t.describe()}")
        return t

    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            raise self.error(self.peek(), "empty condition")
        fn = self.parse_or()
        t = self.peek()
        if t.kind != "end":
            raise self.error(t, f"unexpected {t.text!r}")
        return fn

    def parse_or(self) -> Predicate:
        parts = self._chain("or", self.parse_and)
        return parts[0] if len(parts) == 1 else lambda e: any(p(e) for p in parts)

    def parse_and(self) -> Predicate:
        parts = self._chain("and", self.parse_unary)
        return parts[0] if len(parts) == 1 else lambda e: all(p(e) for p in parts)

    def _chain(self, keyword: str, operand: Callable[[], Predicate]) -> list[Predicate]:
        """``operand (keyword operand)*``: the operands' predicates."""
        parts = [operand()]
        while self.peek().kind == "kw" and self.peek().text == keyword:
            self.next()
            parts.append(operand())
        return parts

    def parse_unary(self) -> Predicate:
        t = self.peek()
        if t.kind == "kw" and t.text == "not":
            self.next()
            inner = self.parse_unary()
            return lambda e: not inner(e)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        t = self.next()
        if t.kind == "punct" and t.text == "(":
            inner = self.parse_or()
            self.expect("punct", ")")
            return inner
        if t.kind == "kw" and t.text == "exists":
            self.expect("punct", "(")
            path = FieldPath(self.expect("field").text)
            self.expect("punct", ")")
            return path.exists
        if t.kind == "kw" and t.text in ("true", "false"):
            const = t.text == "true"
            return lambda e: const
        if t.kind != "field":
            raise self.error(t, f"expected a field name, '(', 'not' or 'exists', got {t.describe()}")
        return self.parse_comparison(FieldPath(t.text))

    def parse_literal(self) -> Any:
        t = self.next()
        if t.kind in ("num", "str"):
            return t.value
        if t.kind == "kw" and t.text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[t.text]
        raise self.error(t, f"expected a string, number, true, false or null, got {t.describe()}")

    def parse_list(self) -> list[Any]:
        self.expect("punct", "[")
        items: list[Any] = []
        if self.peek().kind == "punct" and self.peek().text == "]":
            self.next()
            return items
        while True:
            items.append(self.parse_literal())
            t = self.next()
            if t.kind == "punct" and t.text == "]":
                return items
            if not (t.kind == "punct" and t.text == ","):
                raise self.error(t, "expected ',' or ']' in list")

    def parse_comparison(self, path: FieldPath) -> Predicate:
        t = self.next()
        if t.kind == "kw" and t.text == "in":
            return _membership(path, self.parse_list(), negate=False)
        if t.kind == "kw" and t.text == "not":
            self.expect("kw", "in")
            return _membership(path, self.parse_list(), negate=True)
        if t.kind != "op":
            raise self.error(t, f"expected an operator (== != < <= > >= =~ !~ in, not in) after {path.path!r}, got {t.describe()}")
        if t.text in ("=~", "!~"):
            pt = self.next()
            if pt.kind != "str":
                raise self.error(pt, f"{t.text} needs a quoted regular expression")
            try:
                pattern = regex.compile(pt.value)
            except regex.error as exc:
                raise self.error(pt, f"invalid regular expression: {exc}") from None
            return _regex_match(path, pattern, negate=t.text == "!~")
        lit_tok = self.peek()
        literal = self.parse_literal()
        if t.text in ("==", "!="):
            return _equality(path, literal, negate=t.text == "!=")
        if not (_is_number(literal) or isinstance(literal, str)):
            raise self.error(lit_tok, f"{t.text} needs a number or a string")
        return _ordering(path, _ORDER_OPS[t.text], literal)


def _equality(path: FieldPath, literal: Any, negate: bool) -> Predicate:
    get = path.get

    def pred(e: Event) -> bool:
        raw = get(e)
        if isinstance(raw, list):  # tags and other lists: equal when an element is
            hit = any((c := _coerce(x, literal)) is not MISSING and c == literal for x in raw)
            return hit != negate
        v = _coerce(raw, literal)
        if v is MISSING:
            return False
        return (v != literal) if negate else (v == literal)

    return pred


def _ordering(path: FieldPath, op: Callable[[Any, Any], bool], literal: Any) -> Predicate:
    get = path.get

    def pred(e: Event) -> bool:
        v = _coerce(get(e), literal)
        return False if v is MISSING else bool(op(v, literal))

    return pred


def _membership(path: FieldPath, items: list[Any], negate: bool) -> Predicate:
    get = path.get

    def pred(e: Event) -> bool:
        v = get(e)
        if v is MISSING:
            return False
        values = v if isinstance(v, list) else (v,)
        hit = any((c := _coerce(x, lit)) is not MISSING and c == lit for x in values for lit in items)
        return hit != negate

    return pred


def _regex_match(path: FieldPath, pattern: Any, negate: bool) -> Predicate:
    get = path.get

    def pred(e: Event) -> bool:
        v = get(e)
        if v is MISSING or v is None:
            return False
        s = v if isinstance(v, str) else str(v)
        try:
            hit = pattern.search(s, timeout=REGEX_TIMEOUT_SECS) is not None
        except TimeoutError:
            return False
        return hit != negate

    return pred


def compile_condition(source: str) -> Predicate:
    """Parse ``source`` into a predicate over events; raises ``ConditionError`` naming the column."""
    return _Parser(source).parse()
