"""The batch scanner: one prefilter pass per batch, windows and anchors, checked against the exhaustive search."""

from __future__ import annotations

import random
import re

import pytest

from logferry.transforms.redact.anchors import run_starts, widths
from logferry.transforms.redact.detectors import BUILTIN_NAMES
from logferry.transforms.redact.scanner import CustomPattern, CustomTimeout, Finding, Scanner, hyperscan_available
from tests.transforms.redact.corpus import KINDS, mixed, negatives, positives

ENGINES = ["re"] + (["hyperscan"] if hyperscan_available() else [])
REGIONS = ["US", "GB", "DE", "FR"]
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="the hyperscan wheel is not installed here")

KEYS = ["password", "PASSWORD", "pwd", "db_password", "x.password", "my_password", "api_key", "apiKey", "token",
        "client_secret", "X-Api-Key", "ssn", "phone", "name", "full_name", "customer_name", "lastName", "cardholder",
        "aws_secret_access_key", "SecretAccessKey", "passwd", "secret"]
VALUES = ["null", "NULL", "Null", "nullx", "nullable12", "nu", "n", "nil", "****", "********", "***x", "*abc1234",
          "${API_KEY}", "$", "${", "{{x}}", "{x", "<redacted>", "[redacted]", "%(pw)s", "%x", "hunter2", "Tr0ub4dor&3x",
          "correct horse battery", "Ada Lovelace", "ada", "Émile Zola", "219-45-6789", "219456789", "+44 20 7946 0958",
          "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d", "x&y=1", "", "a b", "é", "\u00a0x", "null\u00a0", "\\x"]
SEPARATORS = ["=", ": ", ":", " = ", "\u00a0=\u00a0", "\x1c=", '": ', '\\": ', "':", "=\n"]
QUOTES = ["", '"', "'", '\\"']
TAILS = ["", " ", ",", "&page=2", '"', "}", "\n", "é"]
PREFIXES = ["", "x ", '{"', "a=b ", "é ", "[", "\t"]
MAIL_PARTS = ["a", "jane.doe", "x" * 63, "y" * 64, "z" * 65, "a%40b", "a+b", "-", ".", "%", "%40", "@", "é",
              "example.com", "ex-ample.co.uk", ".com", "1.2.3.4", "user@", "@example.org", " ", ",", "b%40example.com"]


def _key_value_lines(n: int, seed: int) -> list[str]:
    """Keys, separators, quotes and values (placeholders, look-alikes, non-ASCII) in every combination."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        q = r.choice(QUOTES)
        line = (f"{r.choice(PREFIXES)}{r.choice(KEYS)}{r.choice(SEPARATORS)}"
                f"{q}{r.choice(VALUES)}{q if r.random() < 0.9 else ''}{r.choice(TAILS)}")
        if r.random() < 0.3:
            line += f" {r.choice(KEYS)}={r.choice(VALUES)}"
        out.append(line)
    return out


def _mail_lines(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    return ["".join(r.choice(MAIL_PARTS) for _ in range(r.randrange(1, 8))) for _ in range(n)]


def _mutated(lines: list[str]) -> list[str]:
    """Lines made non-ASCII, glued across a cut, with Unicode white space: offsets and windows must still hold."""
    out = []
    for i, line in enumerate(lines):
        out.append(line[: len(line) // 2] + "é" + line[len(line) // 2:])
        out.append(line[3:] + " " + lines[i - 1][:40])
        out.append(line.replace(" ", "\u00a0", 2))
    return out


def _exhaustive(sc: Scanner, lines: list[str]) -> list[list[Finding]]:
    return [sc.find(s, exhaustive=True) for s in lines]


class TestFindMany:
    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("keep_loopback", [True, False])
    def test_batch_equals_exhaustive_search(self, engine: str, keep_loopback: bool) -> None:
        """Every string of a batch gets exactly the findings of running every pattern over it alone."""
        sc = Scanner(BUILTIN_NAMES, phone_regions=REGIONS, keep_loopback=keep_loopback, engine=engine)
        base = [c.line for c in mixed(600, seed=31, pii_share=0.5)] + [c.line for c in negatives(200, seed=32)]
        base += [c.line for k in KINDS for c in positives(k, 8, seed=33)]
        lines = base + _mutated(base[:300]) + ["", "x", "a\nb", "password=nu"]  # the last one ends the buffer
        got = sc.find_many(lines)
        assert [list(g) for g in got] == _exhaustive(sc, lines)  # type: ignore[arg-type]

    @pytest.mark.parametrize("engine", ENGINES)
    def test_key_values_equal_exhaustive_search(self, engine: str) -> None:
        """Key patterns tried only where their key starts, and their placeholder prefilters, lose no finding."""
        sc = Scanner(BUILTIN_NAMES, phone_regions=REGIONS, engine=engine)
        lines = _key_value_lines(3000, seed=34)
        assert [list(g) for g in sc.find_many(lines)] == _exhaustive(sc, lines)  # type: ignore[arg-type]

    @pytest.mark.parametrize("engine", ENGINES)
    def test_emails_equal_exhaustive_search(self, engine: str) -> None:
        """E-mail addresses anchored at the start of their local part, also %40-encoded and over-long."""
        sc = Scanner(["email", "ipv4"], engine=engine)
        lines = _mail_lines(2000, seed=35)
        assert [list(g) for g in sc.find_many(lines)] == _exhaustive(sc, lines)  # type: ignore[arg-type]

    def test_custom_timeout_is_per_string(self) -> None:
        """A user pattern that times out marks only its own string; the others keep their findings."""
        sc = Scanner(["email"], custom=[CustomPattern("evil", r"(?:a|aa)+$")], custom_timeout_secs=0.01)
        ok, bad = sc.find_many(["mail ada@example.com", "a" * 30 + "!"])
        assert [f.detector for f in ok] == ["email"]  # type: ignore[union-attr]
        assert isinstance(bad, CustomTimeout)

    def test_ipv6_zone_is_bounded(self) -> None:
        """A zone id up to 64 characters is part of the address; past that only the address is redacted."""
        sc = Scanner(["ipv6"])
        short = "peer fe80::1:2:3%eth0 up"
        long_zone = "peer fe80::1:2:3%" + "e" * 70 + " up"
        assert [short[f.start:f.end] for f in sc.find(short)] == ["fe80::1:2:3%eth0"]
        assert [long_zone[f.start:f.end] for f in sc.find(long_zone)] == ["fe80::1:2:3"]


@needs_hyperscan
class TestPrefilter:
    @pytest.mark.parametrize("line", [
        "listening on [::1]:9090 and 0.0.0.0:443 and 127.0.0.1:8080",
        "version=1.4.2.10 torch-2.1.0.3 Chrome/120.0.0.0 numpy==1.26.4.1",
        "ts=1764391419881 order=1764391419881234",
        '{"password": null, "api_key": "${API_KEY}", "name": "resnet50"}',
        "password: ******** (hidden)",
        '"GET /x HTTP/1.1" 200 512 [20/Nov/2026:09:00:01 +0000]',
    ])
    def test_look_alikes_are_not_candidates(self, line: str) -> None:
        """Loopback, versions, epoch millis, placeholders, status codes and UTC offsets never reach the regexes."""
        sc = Scanner(BUILTIN_NAMES, phone_regions=REGIONS, engine="hyperscan")
        assert sc.candidates_many([line]) == {}

    def test_loopback_flagged_when_not_kept(self) -> None:
        """With keep_loopback off, the looser prefilters flag 127.0.0.1 and [::1] again."""
        sc = Scanner(["ipv4", "ipv6"], keep_loopback=False, engine="hyperscan")
        (cands,) = sc.candidates_many(["from 127.0.0.1 and [::1]:80"]).values()
        assert sorted(p.detector for p, _ in cands) == ["ipv4", "ipv6"]

    def test_one_scan_maps_reports_to_strings(self) -> None:
        """Reports of one scan over the joined batch land on the right string with string-local offsets."""
        sc = Scanner(["email", "ipv4"], engine="hyperscan")
        lines = ["nothing", "to ada@example.com", "é from 10.1.2.3", "from 10.1.2.3"]
        flagged = sc.candidates_many(lines)
        assert sorted(flagged) == [1, 2, 3]
        (email, ends), = flagged[1]
        assert email.detector == "email" and ends == [8]  # the anchor report: just after "@e"
        assert flagged[2][0][1] is None  # non-ASCII: byte offsets are not characters, search it whole
        assert flagged[3][0][1] == [13]  # ipv4 reports once per address: after the last octet's first digit


class TestAnchors:
    def test_widths(self) -> None:
        """Longest match and lookahead reach come from the regex itself; unbounded parts give None."""
        assert widths(r"(?<![a-z])\d{2,4}(?![a-z]|\.\d)") == (4, 2)
        assert widths(r"a+") == (None, 0)
        assert widths(r"ab(?!c*d)") == (2, None)

    def test_run_starts(self) -> None:
        """A report is traced back to the start of its run; a run longer than the window is dropped."""
        run = re.compile("[A-Za-z0-9.]*")
        s = "ip=10.1.2.3 x" + "9" * 30 + ".1"
        assert run_starts(run, s, [10], 16) == [3]
        assert run_starts(run, s, [len(s)], 16) == []
