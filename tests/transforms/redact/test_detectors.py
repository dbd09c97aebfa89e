"""Table-driven positives and hard negatives per detector, on both prefilter engines."""

from __future__ import annotations

import pytest

from logferry.transforms.redact.detectors import BUILTIN_NAMES
from logferry.transforms.redact.scanner import CustomPattern, CustomTimeout, Scanner, hyperscan_available
from tests.transforms.redact.corpus import KINDS, negatives, positives, score

ENGINES = ["re"] + (["hyperscan"] if hyperscan_available() else [])
REGIONS = ["US", "GB", "DE", "FR"]


@pytest.fixture(scope="module", params=ENGINES)
def scanner(request: pytest.FixtureRequest) -> Scanner:
    return Scanner(BUILTIN_NAMES, phone_regions=REGIONS, engine=request.param)


def _found(scanner: Scanner, line: str) -> list[tuple[str, str]]:
    return [(f.detector, line[f.start:f.end]) for f in scanner.find(line)]


# (line, [(detector, exact redacted text)]): contexts the generated corpus does not cover
TABLE = [
    ("GET /cb?u=jane.doe%40example.com&x=1", [("email", "jane.doe%40example.com")]),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_sig_sig", [
        ("bearer_token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_sig_sig")]),
    ("tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0. end", [
        ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.")]),
    ("dsn=postgres://app:pa55w0rd@db.example.com:5432/x", [("url_password", "pa55w0rd")]),
    ("peer [2001:db8::1]:8443 and 10.20.30.40:9000 ok", [("ipv6", "[2001:db8::1]"), ("ipv4", "10.20.30.40")]),
    ("mapped ::ffff:203.0.113.9 seen", [("ipv6", "::ffff:203.0.113.9")]),
    ("card 5555-5555-5555-4444 exp 12/29", [("credit_card", "5555-5555-5555-4444")]),
    ("amex 3782 822463 10005.", [("credit_card", "3782 822463 10005")]),
    ("mc2 2221000000000009 ok", [("credit_card", "2221000000000009")]),
    ("iban DE89 3704 0044 0532 0130 00 EUR", [("iban", "DE89 3704 0044 0532 0130 00")]),
    ("ssn 219 45 6789 and key ssn: 219456789", [("ssn", "219 45 6789"), ("ssn", "219456789")]),
    ("call +44 20 7946 0958 now", [("phone", "+44 20 7946 0958")]),
    ("mac 02:1a:2b:3c:4d:5e and 021a.2b3c.4d5e", [("mac", "02:1a:2b:3c:4d:5e"), ("mac", "021a.2b3c.4d5e")]),
    ("key=AKIAIOSFODNN7EXAMPLE", [("aws_access_key", "AKIAIOSFODNN7EXAMPLE")]),
    ("slack xoxb-123456789012-abcdefghijklmnop posted", [("api_token", "xoxb-123456789012-abcdefghijklmnop")]),
    ('{"password": "a b c", "customer_name": "Ada Lovelace"}', [("password", "a b c"), ("person_name", "Ada Lovelace")]),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAA\\n-----END OPENSSH PRIVATE KEY-----", [
        ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAA\\n-----END OPENSSH PRIVATE KEY-----")]),
]

HARD_NEGATIVES = [
    "2026-11-20T10:23:45.123456Z took 00:00:05.120",
    "request 550e8400-e29b-41d4-a716-446655440000 done",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "version 1.4.2.10 installed; torch==2.1.0.3; nginx/1.4.2.10",
    "order_id=4111111111111112 amount=12.50",
    "listening on 127.0.0.1:8080 and [::1]:9090 and 0.0.0.0:443 and ::",
    "port=5432 pid=31337 epoch_ms=1764391419881",
    '{"name": "resnet50", "token_type": "bearer", "max_tokens": 4096, "password": null}',
    "std::vector<int> x; a[::2]; Foo::Bar",
    "Bearer token expired; Basic auth disabled",
]


class TestTable:
    @pytest.mark.parametrize(("line", "expected"), TABLE, ids=[e[0][0] for _, e in TABLE])
    def test_positive(self, scanner: Scanner, line: str, expected: list[tuple[str, str]]) -> None:
        """Each table line yields exactly the listed findings with the exact redacted text."""
        assert _found(scanner, line) == expected

    @pytest.mark.parametrize("line", HARD_NEGATIVES)
    def test_hard_negative(self, scanner: Scanner, line: str) -> None:
        """Timestamps, UUIDs, digests, versions, invalid order ids, loopback and ports are left alone."""
        assert _found(scanner, line) == []

    def test_loopback_configurable(self) -> None:
        """With keep_loopback off, 127.0.0.1 and ::1 are redacted too."""
        sc = Scanner(["ipv4", "ipv6"], keep_loopback=False)
        assert [f.detector for f in sc.find("a 127.0.0.1 b ::1")] == ["ipv4", "ipv6"]


class TestCorpus:
    @pytest.mark.parametrize("kind", KINDS)
    def test_recall_per_kind(self, scanner: Scanner, kind: str) -> None:
        """Every planted value of each kind, in JSON, URL, SQL, traceback and header contexts, is found."""
        scores, bad = score(positives(kind, 60, seed=11), scanner.find)
        assert bad == []
        assert all(s.recall == 1.0 for s in scores.values())

    def test_no_false_positives_on_hard_negatives(self, scanner: Scanner) -> None:
        """Generated ML-service lines dense in look-alikes produce no finding at all."""
        _, bad = score(negatives(600, seed=12), scanner.find)
        assert bad == []

    def test_prefilter_loses_nothing(self, scanner: Scanner) -> None:
        """The prefilter (hyperscan or literals) never drops a finding that running every pattern yields."""
        cases = [c for k in KINDS for c in positives(k, 10, seed=13)] + negatives(200, seed=14)
        for c in cases:
            assert scanner.find(c.line) == scanner.find(c.line, exhaustive=True), c.line


class TestCustom:
    def test_custom_pattern_with_value_group(self) -> None:
        """A user pattern replaces only its `value` group and is reported under its own name."""
        sc = Scanner([], custom=[CustomPattern("employee_id", r"emp=(?P<value>EMP-\d{6})")])
        line = "login emp=EMP-123456 ok"
        assert [(f.detector, line[f.start:f.end]) for f in sc.find(line)] == [("employee_id", "EMP-123456")]

    def test_custom_timeout(self) -> None:
        """A catastrophic user pattern raises CustomTimeout instead of hanging the pipeline."""
        sc = Scanner([], custom=[CustomPattern("evil", r"(?:a|aa)+$")], custom_timeout_secs=0.01)
        with pytest.raises(CustomTimeout):
            sc.find("a" * 30 + "!")
