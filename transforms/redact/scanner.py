"""Find every detector's findings in a string: one prefilter pass, then exact regexes only where needed.

With hyperscan installed, every pattern of every enabled detector is compiled
into one hyperscan database (prefilter mode, one report per pattern). One scan
of the string says which patterns can match; only those run their exact
stdlib ``re`` regex, and each candidate is validated (Luhn, mod-97, ...).
Without hyperscan the prefilter is a lowercase-literal test per pattern. The
exact regexes and validators decide in both cases, so both engines give the
same findings; hyperscan only makes strings without candidates cheap.

User patterns (``custom``) use the ``regex`` module with a timeout and always run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import regex

from logferry.transforms.redact.detectors import BUILTIN, DetectorSpec, make_validators
from logferry.transforms.redact.validators import Validator

try:  # an accelerator, not a requirement: the wheel exists for x86_64/aarch64 Linux and macOS
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform
    hyperscan = None


class Finding(NamedTuple):
    """A span of the scanned string to replace, and which detector found it."""

    start: int
    end: int
    detector: str


@dataclass(frozen=True)
class CustomPattern:
    name: str
    pattern: str


class CustomTimeout(Exception):
    """A user pattern ran past its time budget on a string."""


class _Compiled:
    __slots__ = ("detector", "rx", "groups", "validate", "lits", "prio", "max_width")

    def __init__(self, detector: str, rx: Any, validate: Validator | None,
                 lits: tuple[str, ...] | None, prio: int) -> None:
        self.detector = detector
        self.rx = rx
        names = rx.groupindex
        self.groups = tuple(names[g] for g in ("v", "v2", "v3", "value") if g in names)
        self.validate = validate
        self.lits = lits
        self.prio = prio
        # Longest possible match, when bounded: lets a scan start shortly before hyperscan's first hit.
        width = _max_width(rx.pattern) if isinstance(rx, re.Pattern) else None
        self.max_width = width if width is not None and width < 512 else None


def hyperscan_available() -> bool:
    return hyperscan is not None


class Scanner:
    """All enabled detectors over one string at a time; ``find`` returns non-overlapping findings."""

    def __init__(self, detectors: Sequence[str], *, keep_loopback: bool = True,
                 phone_regions: Sequence[str] = ("US",), custom: Sequence[CustomPattern] = (),
                 custom_timeout_secs: float = 0.1, engine: str = "auto") -> None:
        validators = make_validators(keep_loopback, list(phone_regions))
        enabled = set(detectors)
        specs: list[DetectorSpec] = [d for d in BUILTIN if d.name in enabled]
        self.patterns: list[_Compiled] = []
        hs_exprs: list[bytes] = []
        hs_flags: list[int] = []
        for spec in specs:
            for p in spec.patterns:
                flags = re.DOTALL if p.dotall else 0
                val = validators[p.validator] if p.validator else None
                self.patterns.append(_Compiled(spec.name, re.compile(p.rx, flags), val, p.lits, len(self.patterns)))
                hs_exprs.append((p.hs or p.rx).encode())
                hs_flags.append(_hs_flags(p.dotall))
        self.custom = [_Compiled(c.name, regex.compile(c.pattern), None, None, 1000 + i) for i, c in enumerate(custom)]
        self.custom_timeout_secs = custom_timeout_secs
        if engine == "hyperscan" and hyperscan is None:
            raise RuntimeError("engine 'hyperscan' requested but the hyperscan module is not installed")
        self.engine = "hyperscan" if engine in ("auto", "hyperscan") and hyperscan is not None and hs_exprs else "re"
        self._hits: list[int] = []
        self._db: Any = None
        if self.engine == "hyperscan":
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(expressions=hs_exprs, ids=list(range(len(hs_exprs))), elements=len(hs_exprs),
                             flags=hs_flags)
            hits = self._hits

            def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                hits.append((pid, to))

            self._on_match = on_match

    def candidates(self, s: str) -> list[tuple[_Compiled, int]]:
        """(pattern, where its exact search may start) for the patterns the prefilter says may match ``s``.

        hyperscan reports where its first match of a pattern ends; every real match ends at or after
        that, so a pattern of bounded width cannot start more than that width earlier. Offsets are
        bytes, equal to characters only in ASCII strings; other strings are searched from 0.
        """
        if self._db is not None:
            hits = self._hits
            hits.clear()
            self._db.scan(s.encode("utf-8", "surrogatepass"), match_event_handler=self._on_match)
            if not hits:
                return []
            pats = self.patterns
            ascii_ = s.isascii()
            out = []
            for pid, to in sorted(hits):
                p = pats[pid]
                w = p.max_width
                out.append((p, to - w if ascii_ and w is not None and to > w else 0))
            return out
        low = s.lower()
        return [(p, 0) for p in self.patterns if p.lits is None or any(lit in low for lit in p.lits)]

    def find(self, s: str, exhaustive: bool = False) -> list[Finding]:
        """Validated findings in ``s``, non-overlapping, in order. Raises ``CustomTimeout``.

        ``exhaustive`` skips the prefilter and runs every pattern (to test that the prefilter loses nothing).
        """
        pats = [(p, 0) for p in self.patterns] if exhaustive else self.candidates(s)
        if not pats and not self.custom:
            return []
        raw: list[tuple[int, int, int, int, str]] = []  # (match start, priority, value start, value end, detector)
        for p, start in pats:
            _collect(p, s, raw, start=start)
        for p in self.custom:
            try:
                _collect(p, s, raw, self.custom_timeout_secs)
            except TimeoutError as exc:
                raise CustomTimeout(p.detector) from exc
        if not raw:
            return []
        if len(raw) > 1:
            raw.sort()
        out: list[Finding] = []
        taken_to = -1
        for mstart, _prio, a, b, det in raw:
            if mstart < taken_to or a < taken_to:
                continue  # inside an earlier, higher-priority finding
            out.append(Finding(a, b, det))
            taken_to = b
        return out


def _collect(p: _Compiled, s: str, raw: list[tuple[int, int, int, int, str]], timeout: float | None = None,
             start: int = 0) -> None:
    search = p.rx.search
    validate = p.validate
    groups = p.groups
    pos = start
    n = len(s)
    while pos <= n:
        m = search(s, pos, timeout=timeout) if timeout is not None else search(s, pos)
        if m is None:
            return
        a, b = m.span()
        for g in groups:
            if m.start(g) >= 0:
                a, b = m.span(g)
                break
        end = b if validate is None else validate(s, a, b)
        mstart = m.start()
        if end > a:
            raw.append((mstart, p.prio, a, end, p.detector))
            pos = max(end, mstart + 1)
        else:
            pos = mstart + 1  # a rejected candidate may hide a real one that starts inside it


def _max_width(pattern: str) -> int | None:
    """The longest string ``pattern`` can match, or ``None`` when unbounded."""
    import re._parser as sre_parse  # the stdlib's own regex parser: exact, and no second grammar to keep

    hi = sre_parse.parse(pattern).getwidth()[1]
    return None if hi >= sre_parse.MAXREPEAT else int(hi)


def _hs_flags(dotall: bool) -> int:
    """One report per pattern and scan; prefilter mode accepts lookarounds and backreferences as a superset."""
    if hyperscan is None:
        return 0
    f = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_PREFILTER
    return f | hyperscan.HS_FLAG_DOTALL if dotall else f
