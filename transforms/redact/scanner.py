"""Find every detector's findings in many strings: one prefilter pass per batch, then exact regexes in small windows.

With hyperscan installed, every pattern of every enabled detector is compiled
into one hyperscan database (prefilter mode). ``find_many`` joins a batch of
strings with newlines and scans the whole buffer in one call; each report
(pattern, end offset) is mapped back to its string. Only the reported
patterns run their exact stdlib ``re`` regex, and only near the reports:

* anchored patterns (``password=...``, e-mail) have a second prefilter that
  ends at the key's ``=`` or after the ``@``; the scanner walks back to the
  start of the key or local part and tries ``match`` there only;
* a pattern whose match is one run of characters its lookbehind excludes
  (IPv4) is matched at the start of the run that holds the report;
* other patterns of bounded width search a window around the reports
  (``detectors`` promises that an ``hs`` match ends inside every ``rx`` match);
* the few unbounded patterns search from the first report to the end.

Each candidate is then validated (Luhn, mod-97, ...). Without hyperscan the
prefilter is a lowercase-literal test per pattern and the regexes search the
whole string. The exact regexes and validators decide in every case, so both
engines give the same findings; hyperscan only makes strings without
candidates cheap. Byte offsets equal character offsets only in ASCII strings:
a non-ASCII string that hyperscan flags is searched whole.

User patterns (``custom``) use the ``regex`` module with a timeout and always run.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, compress
from operator import methodcaller, not_
from typing import Any, NamedTuple

import regex

from logferry.transforms.redact.anchors import key_starts, local_part_starts, run_starts, widths
from logferry.transforms.redact.detectors import BUILTIN, DetectorSpec, PatternSpec, make_validators
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


NO_FINDINGS: tuple[Finding, ...] = ()
ANCHOR_ID = 1 << 16  # hyperscan id of a pattern's anchor prefilter: this plus the pattern's index
_ENCODE = methodcaller("encode", "utf-8", "surrogatepass")
_PLUS_ONE = (1).__add__  # a string's length plus its separator
_Raw = list[tuple[int, int, int, int, str]]  # (match start, priority, value start, value end, detector)
_Candidates = list[tuple["_Compiled", "list[int] | None"]]  # (pattern, hyperscan end offsets or None: search all)


class _Compiled:
    __slots__ = ("anchor", "anchor_width", "detector", "groups", "lits", "max_width", "prio", "reach", "run", "rx",
                 "validate")

    def __init__(self, detector: str, rx: Any, validate: Validator | None, spec: PatternSpec | None, prio: int) -> None:
        self.detector = detector
        self.rx = rx
        names = rx.groupindex
        self.groups = tuple(names[g] for g in ("v", "v2", "v3", "value") if g in names)
        self.validate = validate
        self.lits = spec.lits if spec else None
        self.prio = prio
        self.anchor = spec.anchor if spec else None
        self.anchor_width = spec.anchor_width if spec else 0
        # matched on a reversed window: the length of the run of run_class characters that ends there
        self.run = re.compile(f"[{spec.run_class}]*") if spec and spec.run_class else None
        # Longest match, and how far past its start the regex may read (lookaheads): bound the search windows.
        width, ahead = widths(rx.pattern) if isinstance(rx, re.Pattern) else (None, None)
        self.max_width = width
        self.reach = width + ahead if width is not None and ahead is not None else None


def hyperscan_available() -> bool:
    return hyperscan is not None


class Scanner:
    """All enabled detectors; ``find_many`` returns each string's non-overlapping findings, in order."""

    def __init__(self, detectors: Sequence[str], *, keep_loopback: bool = True,
                 phone_regions: Sequence[str] = ("US",), custom: Sequence[CustomPattern] = (),
                 custom_timeout_secs: float = 0.1, engine: str = "auto") -> None:
        validators = make_validators(keep_loopback, list(phone_regions))
        enabled = set(detectors)
        specs: list[DetectorSpec] = [d for d in BUILTIN if d.name in enabled]
        self.patterns: list[_Compiled] = []
        hs_exprs: list[bytes] = []
        hs_flags: list[int] = []
        hs_ids: list[int] = []
        for spec in specs:
            for p in spec.patterns:
                flags = re.DOTALL if p.dotall else 0
                val = validators[p.validator] if p.validator else None
                self.patterns.append(_Compiled(spec.name, re.compile(p.rx, flags), val, p, len(self.patterns)))
                hs = (p.hs_loopback_kept if keep_loopback and p.hs_loopback_kept else p.hs) or p.rx
                hs_exprs.append(hs.encode())
                hs_ids.append(len(self.patterns) - 1)
                hs_flags.append(_hs_flags(p.dotall))
                if p.hs_anchor:
                    hs_exprs.append(p.hs_anchor.encode())
                    hs_ids.append(ANCHOR_ID + len(self.patterns) - 1)
                    hs_flags.append(_hs_flags(False))
        self.custom = [_Compiled(c.name, regex.compile(c.pattern), None, None, 1000 + i) for i, c in enumerate(custom)]
        self.custom_timeout_secs = custom_timeout_secs
        if engine == "hyperscan" and hyperscan is None:
            raise RuntimeError("engine 'hyperscan' requested but the hyperscan module is not installed")
        self.engine = "hyperscan" if engine in ("auto", "hyperscan") and hyperscan is not None and hs_exprs else "re"
        self._hits: list[tuple[int, int]] = []
        self._db: Any = None
        if self.engine == "hyperscan":
            self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self._db.compile(expressions=hs_exprs, ids=hs_ids, elements=len(hs_exprs), flags=hs_flags)
            append = self._hits.append

            def on_match(pid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
                append((to, pid))

            self._on_match = on_match

    # --- prefilter ------------------------------------------------------------------------------

    def candidates_many(self, strings: Sequence[str]) -> dict[int, _Candidates]:
        """For the strings the prefilter flags (by index): the patterns that may match, with report offsets."""
        if self._db is not None:
            return self._hyperscan_candidates(strings)
        out: dict[int, _Candidates] = {}
        for i, s in enumerate(strings):
            low = s.lower()
            cands: _Candidates = [(p, None) for p in self.patterns
                                  if p.lits is None or any(lit in low for lit in p.lits)]
            if cands:
                out[i] = cands
        return out

    def _hyperscan_candidates(self, strings: Sequence[str]) -> dict[int, _Candidates]:
        if not strings:
            return {}
        # A match across a newline is only a spurious candidate, never a lost one. The last newline lets
        # a key pattern's look at "the character after the value" see one after the last string too.
        joined = "\n".join(strings) + "\n"
        buf = joined.encode("utf-8", "surrogatepass")
        lengths = list(map(len, strings))
        wide: set[int] = set()  # strings with non-ASCII characters: byte offsets differ from character offsets
        if len(buf) != len(joined):
            wide.update(compress(range(len(strings)), map(not_, map(str.isascii, strings))))
            for i in wide:
                lengths[i] = len(_ENCODE(strings[i]))
        starts = list(accumulate(map(_PLUS_ONE, lengths), initial=0))
        hits = self._hits
        hits.clear()
        self._db.scan(buf, match_event_handler=self._on_match)
        if not hits:
            return {}
        ends_by: dict[int, dict[int, list[int]]] = {}  # string -> pattern id -> match ends
        for to, pid in hits:
            i = bisect_right(starts, to - 1) - 1
            per = ends_by.get(i)
            if per is None:
                per = ends_by[i] = {}
            ends = per.get(pid)
            if ends is None:
                per[pid] = [to - starts[i]]
            else:
                ends.append(to - starts[i])
        hits.clear()
        pats = self.patterns
        out: dict[int, _Candidates] = {}
        for i, per in ends_by.items():
            cands: _Candidates = []
            for pid, ends in per.items():
                if pid >= ANCHOR_ID:
                    continue
                p = pats[pid]
                if p.anchor:  # walk back from the anchor reports; none means the regex cannot match either
                    ends = per.get(ANCHOR_ID + pid)  # type: ignore[assignment]
                    if ends is None:
                        continue
                if i in wide:
                    cands.append((p, None))
                else:
                    cands.append((p, ends if len(ends) == 1 else sorted(ends)))
            if cands:
                out[i] = cands
        return out

    # --- exact stage ------------------------------------------------------------------------------

    def find_many(self, strings: Sequence[str]) -> list[Sequence[Finding] | CustomTimeout]:
        """Each string's validated findings (non-overlapping, in order), or the ``CustomTimeout`` it raised."""
        out: list[Sequence[Finding] | CustomTimeout] = [NO_FINDINGS] * len(strings)
        for i, res in self.find_flagged(strings).items():
            out[i] = res
        return out

    def find_flagged(self, strings: Sequence[str]) -> dict[int, Sequence[Finding] | CustomTimeout]:
        """``find_many`` for the strings the prefilter flags only (by index): the rest have no findings."""
        flagged = self.candidates_many(strings)
        out: dict[int, Sequence[Finding] | CustomTimeout] = {}
        todo = range(len(strings)) if self.custom else flagged
        exact = self._exact
        for i in todo:
            try:
                out[i] = exact(strings[i], flagged.get(i, ()))
            except CustomTimeout as exc:
                out[i] = exc
        return out

    def find(self, s: str, exhaustive: bool = False) -> list[Finding]:
        """Validated findings in ``s``, non-overlapping, in order. Raises ``CustomTimeout``.

        ``exhaustive`` skips the prefilter and searches every pattern over the whole string
        (to test that the prefilter and its windows lose nothing).
        """
        if exhaustive:
            return list(self._exact(s, [(p, None) for p in self.patterns]))
        (res,) = self.find_many([s])
        if isinstance(res, CustomTimeout):
            raise res
        return list(res)

    def _exact(self, s: str, cands: _Candidates | tuple[()]) -> Sequence[Finding]:
        raw: _Raw = []
        for p, ends in cands:
            if ends is None:
                _search(p, s, raw, 0, len(s), None)
            elif p.anchor == "key":
                _at_starts(p, s, raw, key_starts(s, ends, p.anchor_width + 1))
            elif p.anchor == "local_part":
                _at_starts(p, s, raw, local_part_starts(s, ends))
            elif p.run is not None and p.max_width is not None:
                _at_starts(p, s, raw, run_starts(p.run, s, ends, p.max_width + 1))
            else:
                _search(p, s, raw, 0, len(s), ends)
        for p in self.custom:
            try:
                _search_custom(p, s, raw, self.custom_timeout_secs)
            except TimeoutError as exc:
                raise CustomTimeout(p.detector) from exc
        if not raw:
            return NO_FINDINGS
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


def _accept(p: _Compiled, s: str, m: re.Match[str], raw: _Raw) -> int:
    """Validate one regex match; record it and return where the next search may start."""
    a, b = m.span()
    for g in p.groups:
        if m.start(g) >= 0:
            a, b = m.span(g)
            break
    end = b if p.validate is None else p.validate(s, a, b)
    mstart = m.start()
    if end > a:
        raw.append((mstart, p.prio, a, end, p.detector))
        return max(end, mstart + 1)
    return mstart + 1  # a rejected candidate may hide a real one that starts inside it


def _search(p: _Compiled, s: str, raw: _Raw, pos: int, n: int, ends: list[int] | None) -> None:
    """Every match from ``pos`` on; with hyperscan ``ends``, only in windows a match can lie in.

    A match [a, b) holds a prefilter end e with a < e <= b and b - a <= max_width, so a match
    starting at or after ``pos`` starts no earlier than (first end > pos) - max_width, and no
    match reads past (last end) + reach.
    """
    search = p.rx.search
    width = p.max_width
    endpos = n
    j = k = 0
    if ends is not None:
        k = len(ends)
        if p.reach is not None:
            endpos = min(n, ends[-1] + p.reach)
    while pos <= n:
        lo = pos
        if ends is not None:
            while j < k and ends[j] <= pos:
                j += 1
            if j == k:
                return
            if width is not None and ends[j] - width > pos:
                lo = ends[j] - width
        m = search(s, lo, endpos)
        if m is None:
            return
        pos = _accept(p, s, m, raw)


def _at_starts(p: _Compiled, s: str, raw: _Raw, starts: list[int]) -> None:
    """Try the regex only at ``starts``, the only places a match can start (in order, as a search would)."""
    match = p.rx.match
    pos = 0
    for r in starts if len(starts) == 1 else sorted(set(starts)):
        if r < pos:  # also a start in the string before (a match across the newline)
            continue
        m = match(s, r)
        if m is not None:
            pos = _accept(p, s, m, raw)


def _search_custom(p: _Compiled, s: str, raw: _Raw, timeout: float) -> None:
    search = p.rx.search
    pos = 0
    n = len(s)
    while pos <= n:
        m = search(s, pos, timeout=timeout)
        if m is None:
            return
        pos = _accept(p, s, m, raw)


def _hs_flags(dotall: bool) -> int:
    """Every report (no single match: one scan covers many strings); prefilter mode accepts lookarounds."""
    if hyperscan is None:
        return 0
    f = hyperscan.HS_FLAG_PREFILTER
    return f | hyperscan.HS_FLAG_DOTALL if dotall else f
