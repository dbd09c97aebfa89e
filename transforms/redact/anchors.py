"""Where an exact regex can match, derived from hyperscan's reports: match widths and walks back to a start.

A prefilter report is the end offset of a match of a cheap pattern that lies
inside every match of the exact one (``detectors`` promises it). From there:

* a pattern of bounded width can only match in a window around the report
  (``widths``: the longest match and how far its lookaheads read past it);
* a pattern that opens with a lookbehind excluding every character of its
  first run (a key, an e-mail local part, an IPv4 address) can only start
  where that run starts: walk back from the report to it.

Runs are measured by matching a character class on the reversed window
before the report, which keeps the walks out of Python loops.
"""

from __future__ import annotations

import re

# Runs matched on reversed windows (their length is how far back the run reaches).
KEY_RUN = re.compile("[A-Za-z0-9_-]*")  # every character of every key; all in the key lookbehind's class
LOCAL_RUN = re.compile("[A-Za-z0-9._%+-]*")  # an e-mail local part, and "%40"
LOCAL_WINDOW = 64 + 3 + 1  # the longest local part and "%40", plus one: a longer run holds no match start


def key_starts(s: str, ends: list[int], window: int) -> list[int]:
    """Where the key starts whose ``:``/``=`` ends just before each anchor report.

    The walk mirrors KEYSEP backwards: white space, an optional quote (maybe escaped), then the run of key
    characters. The key-boundary lookbehind forbids a key character before the key, so a match can only
    start where that run starts; a run longer than the longest key holds no key.
    """
    starts = []
    n = len(s)
    for e in ends:
        if e > n or s[e - 1] not in ":=":
            continue
        j = e - 1
        while j > 0 and s[j - 1].isspace():
            j -= 1
        if j > 0 and s[j - 1] in "\"'":
            j -= 1
            if j > 0 and s[j - 1] == "\\":
                j -= 1
        lo = j - window if j > window else 0
        k = KEY_RUN.match(s[lo:j][::-1]).end()  # type: ignore[union-attr]  # "[...]*" always matches
        if k and (k < j - lo or lo == 0):
            starts.append(j - k)
    return starts


def local_part_starts(s: str, ends: list[int]) -> list[int]:
    """Where the e-mail local part starts that precedes each anchor report (just after "@x" or "%40x").

    The local part (1-64 characters) and "%40" are made of the lookbehind's class, so the match starts
    where the run of those characters before the "@" (or through "%40") starts.
    """
    starts = []
    n = len(s)
    for e in ends:
        if e > n:
            continue
        j = e - 1  # past the local part's last character, or past "%40"
        if s[j - 1] == "@":
            j -= 1
        lo = j - LOCAL_WINDOW if j > LOCAL_WINDOW else 0
        k = LOCAL_RUN.match(s[lo:j][::-1]).end()  # type: ignore[union-attr]
        if k and (k < j - lo or lo == 0):
            starts.append(j - k)
    return starts


def run_starts(run: re.Pattern[str], s: str, ends: list[int], window: int) -> list[int]:
    """Where the run of ``run`` characters that ends just before each prefilter end starts.

    A match [a, b) holds a prefilter end e (a < e <= b), is no wider than ``window`` - 1, consists of
    run characters and follows none: so it starts at the start of the run that ends at e - 1. A run
    longer than the window holds no match start and is dropped.
    """
    starts = []
    n = len(s)
    for e in ends:
        e = min(e, n)
        lo = e - window if e > window else 0
        k = run.match(s[lo:e][::-1]).end()  # type: ignore[union-attr]  # "[...]*" always matches
        if k and (k < e - lo or lo == 0):
            starts.append(e - k)
    return starts


def widths(pattern: str) -> tuple[int | None, int | None]:
    """(longest match, farthest lookahead reach past a position) of ``pattern``; ``None`` when unbounded."""
    import re._constants as sre_c
    import re._parser as sre_parse  # the stdlib's own regex parser: exact, and no second grammar to keep

    tree = sre_parse.parse(pattern)
    hi = tree.getwidth()[1]
    width = None if hi >= sre_parse.MAXREPEAT else int(hi)
    ahead = 0
    stack = [tree]
    while stack:
        sub = stack.pop()
        for op, av in sub.data:
            if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
                direction, inner = av
                if direction == 1:  # lookahead; lookbehinds read before the window, which re allows
                    w = inner.getwidth()[1]
                    if w >= sre_parse.MAXREPEAT:
                        return width, None
                    ahead = max(ahead, int(w))
                stack.append(inner)
            elif op is sre_c.BRANCH:
                stack.extend(av[1])
            elif op is sre_c.SUBPATTERN:
                stack.append(av[-1])
            elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
                stack.append(av[2])
            elif op is sre_c.ATOMIC_GROUP:
                stack.append(av)
            elif op is sre_c.GROUPREF_EXISTS:
                stack.extend(x for x in av[1:] if x is not None)
    # A lookahead at the end of a match reads up to ``ahead`` characters past it.
    return width, ahead
