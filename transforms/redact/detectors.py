"""The built-in detectors: candidate regexes, their validators and the prefilter each one gets.

A detector has one or more patterns. Each pattern is a stdlib ``re`` regex for
the exact candidate and, optionally, the groups ``v``/``v2``/``v3`` holding
the part to redact (``password=<v>``). ``hs`` is a cheaper regex for the
hyperscan prefilter. Contract (the scanner's windows rely on it, a test
checks it): inside every match of ``rx`` lies a match of ``hs`` that ends
within the ``rx`` match; ``hs`` may start a little before it (a boundary
character). By default ``rx`` itself is compiled in hyperscan's prefilter
mode. ``lits`` are lowercase literals of which one must occur for the pattern
to match, used as the prefilter when hyperscan is not installed (``None``: no
cheap literal exists, always run).

Key patterns (``password=...``) set ``key_anchor``: their ``hs`` ends just
after the ``:``/``=`` (plus ``value_head`` characters of the value), so the
scanner can walk back to the start of the key and try ``rx`` there only.

Hyperscan reads bytes and knows only ASCII classes, so ``hs`` patterns spell
Python's white-space class as ``WS`` (any byte of a non-ASCII character may be Unicode
white space) and let any non-ASCII byte through where ``rx`` takes letters.

The list order is the priority: when two findings start at the same place,
the earlier detector wins (PEM and JWT before tokens, URL credentials before
e-mail, IBAN before card, SSN before phone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logferry.transforms.redact import validators as v

# Shared pieces. B/E: not inside a longer alphanumeric token.
B = r"(?<![A-Za-z0-9])"
E = r"(?![A-Za-z0-9])"
KB = r"(?<![A-Za-z0-9_.-])"  # key boundary: "password" but not "db_password_hash" or "x.password"
# key, optional closing quote (also JSON-escaped \"), then ':' or '='
KEYSEP = r"""(?:\\?["'])?\s*[:=]\s*"""
# a value: "double quoted", 'single quoted' (also escaped) or bare up to a delimiter
VALUE = r"""(?:\\?"(?P<v>[^"\\]{1,256})\\?"|\\?'(?P<v2>[^'\\]{1,256})\\?'|(?P<v3>(?:[^\s"'\\&,;<>{}\[\]]|&(?![A-Za-z_][\w.-]*=)){1,256}))"""
NAME_VALUE = (r"""(?:\\?"(?P<v>[^"\\]{1,128})\\?"|\\?'(?P<v2>[^'\\]{1,128})\\?'"""
              r"""|(?P<v3>[^\W\d_][\w'.-]*(?: [^\W\d_][\w'.-]*){0,4}))""")
HEX = "[0-9A-Fa-f]"
H4 = f"{HEX}{{1,4}}"

# full or "::"-compressed IPv6, optional dotted-quad tail (::ffff:10.0.0.1) and zone (%eth0)
IP6 = (f"(?:(?:{H4}:){{7}}{H4}|(?:{H4}(?::{H4}){{0,6}})?::(?:{H4}(?::{H4}){{0,6}})?)"
       r"(?:\.\d{1,3}){0,3}(?:%[A-Za-z0-9]{1,64})?")  # zone ids are interface names (<= 15 chars on Linux)

SECRET_KEYS = (r"api[_-]?key|apikey|x-api-key|api[_-]?token|access[_-]?token|auth[_-]?token|refresh[_-]?token"
               r"|id[_-]?token|session[_-]?token|private[_-]?token|client[_-]?secret|secret[_-]?key|secret|token")
PASSWORD_KEYS = r"password|passwd|passphrase|pass|pwd|db[_-]?password|user[_-]?password"
NAME_KEYS = (r"full[_-]?name|customer[_-]?name|first[_-]?name|last[_-]?name|middle[_-]?name|given[_-]?name"
             r"|family[_-]?name|display[_-]?name|contact[_-]?name|cardholder(?:[_-]?name)?|holder[_-]?name"
             r"|patient[_-]?name|surname|name")
SSN_KEYS = r"ssn|social[_-]?security(?:[_-]?(?:number|no))?|ssn[_-]?number"
PHONE_KEYS = r"phone(?:[_-]?(?:number|no))?|mobile(?:[_-]?number)?|cell(?:[_-]?phone)?|tel|telephone|msisdn"


@dataclass(frozen=True)
class PatternSpec:
    """One candidate regex of a detector."""

    rx: str
    validator: str | None = None  # name of a validator in ``make_validators``
    hs: str | None = None
    lits: tuple[str, ...] | None = None
    dotall: bool = False
    key_anchor: bool = False
    value_head: int = 0  # characters of the value that ``hs`` includes after the separator (key patterns)
    hs_loopback_kept: str | None = None  # a tighter ``hs`` when loopback addresses are never findings


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    patterns: tuple[PatternSpec, ...]


# Python's \s as hyperscan bytes: ASCII white space, \x1c-\x1f, and any byte of a non-ASCII character.
WS = r"[\s\x1c-\x1f\x80-\xff]"
# A key, its optional closing quote, then ':' or '=': where every key pattern's hs ends.
KEY_HS_SEP = r"""(?:\\?["'])?""" + WS + "*[:=]"


def _key_value(keys: str, validator: str, value: str = VALUE, value_hs: str = "", value_head: int = 0) -> PatternSpec:
    lits = tuple(k for k in ("pass", "pwd", "secret", "token", "key", "name", "ssn", "social", "phone", "mobile",
                             "cell", "tel", "msisdn", "holder") if k in keys)
    return PatternSpec(KB + f"(?i:{keys})" + KEYSEP + value, validator, hs=f"(?i:{keys})" + KEY_HS_SEP + value_hs,
                       lits=lits, key_anchor=True, value_head=value_head)


# IPv4 prefilter: the validator drops bare quads like 1.4.2.10 (one-digit head, no octet over two digits: a
# version) unless an IP word precedes them, so the prefilter asks for a longer octet or that context.
_IP4_BOUND = r"(?:^|[^A-Za-z0-9.])"
_IP4_WORDS = r"(?i:ip|addr|address|client|remote|host|from|src|dst|peer|forwarded|for|to|server|upstream|//)"


def _ipv4_hs(head2: str) -> str:
    return (_IP4_BOUND + "(?:" + head2 + r"\.\d{1,3}\.\d{1,3}\.\d{1,3}"
            r"|\d\.(?:\d{3}\.\d{1,3}\.\d{1,3}|\d{1,3}\.\d{3}\.\d{1,3}|\d{1,3}\.\d{1,3}\.\d{3}))"
            "|" + _IP4_WORDS + r"[^A-Za-z0-9_]{1,12}\d\.\d{1,2}\.\d{1,2}\.\d{1,2}")


BUILTIN: tuple[DetectorSpec, ...] = (
    DetectorSpec("private_key", (PatternSpec(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)",
        hs=r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", lits=("private key-----",), dotall=True),)),
    DetectorSpec("jwt", (PatternSpec(
        r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
        hs=r"eyJ[A-Za-z0-9_-]{8,}\.eyJ", lits=("eyj",)),)),
    DetectorSpec("url_password", (PatternSpec(
        r"""(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s/?#@:'"]*:(?P<v>[^\s/?#'"]+)@""",
        validator="password", hs=r"""://[^\s/?#@:'"]*:[^\s/?#'"]+@""", lits=("://",)),)),
    DetectorSpec("bearer_token", (PatternSpec(
        B + r"(?i:bearer)\s+(?P<v>[A-Za-z0-9._~+/-]{8,}=*)", "secret",
        hs=r"(?i:bearer)\s+[A-Za-z0-9._~+/-]{8}", lits=("bearer",)),)),
    DetectorSpec("basic_auth", (PatternSpec(
        B + r"(?i:basic)\s+(?P<v>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])", "basic",
        hs=r"(?i:basic)\s+[A-Za-z0-9+/]{6}", lits=("basic",)),)),
    DetectorSpec("aws_access_key", (PatternSpec(
        B + r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}" + E,
        hs=r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}",
        lits=("akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "aroa", "apka", "asca")),)),
    DetectorSpec("aws_secret_key", (PatternSpec(
        KB + r"(?i:aws[_-]?secret(?:[_-]?access)?[_-]?key|secret[_-]?access[_-]?key)" + KEYSEP
        + r"""(?:\\?["'])?(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])""", "aws_secret",
        hs=r"(?i:aws[_-]?secret(?:[_-]?access)?[_-]?key|secret[_-]?access[_-]?key)" + KEY_HS_SEP,
        lits=("secret",), key_anchor=True),)),
    DetectorSpec("api_token", (
        PatternSpec(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{40,255})(?![A-Za-z0-9_])",
                    "token", hs=r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_)", lits=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
        PatternSpec(B + r"xox[abposr]-[A-Za-z0-9-]{10,250}", "token", hs=r"xox[abposr]-", lits=("xox",)),
        PatternSpec(B + r"(?:(?:sk|pk|rk)_(?:live|test)|whsec)_[A-Za-z0-9]{16,247}" + E, "token",
                    hs=r"(?:(?:sk|pk|rk)_(?:live|test)|whsec)_", lits=("_live_", "_test_", "whsec_")),
        PatternSpec(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,200}(?![A-Za-z0-9_-])", "token",
                    hs=r"sk-[A-Za-z0-9_-]{20}", lits=("sk-",)),
        PatternSpec(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,40}" + E, "token", hs=r"hf_[A-Za-z0-9]{30}", lits=("hf_",)),
        PatternSpec(r"(?<![A-Za-z0-9_-])(?:AIza[0-9A-Za-z_-]{35}|ya29\.[0-9A-Za-z_-]{20,})(?![A-Za-z0-9_-])", "token",
                    hs=r"(?:AIza|ya29\.)", lits=("aiza", "ya29.")),
        _key_value(SECRET_KEYS, "secret"),
    )),
    DetectorSpec("password", (_key_value(PASSWORD_KEYS, "password"),)),
    DetectorSpec("email", (PatternSpec(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
        hs=r"(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2}", lits=("@", "%40")),)),
    DetectorSpec("iban", (PatternSpec(
        B + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" + E, "iban",
        hs=r"[A-Z]{2}\d{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4} ?[A-Z0-9]{3}"),)),
    DetectorSpec("credit_card", (PatternSpec(
        r"(?<![A-Za-z0-9-])\d{4}(?:[ -]?\d){8,15}" + E, "card",
        # every card brand starts with 2-6 (validators.card_brand); epoch millis and most ids start with 1
        hs=r"(?:^|[^A-Za-z0-9-])[2-6]\d{3}(?:[ -]?\d){8}"),)),
    DetectorSpec("ssn", (
        PatternSpec(r"(?<![A-Za-z0-9-])\d{3}([- ])\d{2}\1\d{4}(?![A-Za-z0-9-])", "ssn", hs=r"\d{3}[- ]\d{2}[- ]\d{4}"),
        _key_value(SSN_KEYS, "ssn", r"""(?:\\?["'])?(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?![0-9])"""),
    )),
    DetectorSpec("phone", (
        PatternSpec(r"(?<![A-Za-z0-9+-])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![A-Za-z0-9-])", "phone",
                    hs=r"\+\d{1,3}[ .(-]{0,2}\d", lits=("+",)),
        PatternSpec(r"(?<![A-Za-z0-9-])(?:\(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,4}|\d{3}[.-]\d{3}[.-]\d{4}|\d{3} \d{3} \d{4}"
                    r"|0\d{1,4}[ -]\d{3,4}[ -]?\d{3,4}|0\d(?:[ .]\d{2}){4})(?![A-Za-z0-9-])", "phone",
                    hs=r"(?:\(\d{2,5}\)[ .-]?\d{3}|\d{3}[ .-]\d{3}[ .-]\d{4}|0\d{1,4}[ -]\d{3}|0\d[ .]\d\d[ .]\d\d)"),
        _key_value(PHONE_KEYS, "phone", r"""(?:\\?["'])?(?P<v>\+?\d[\d .()-]{5,18}\d)"""),
    )),
    DetectorSpec("mac", (PatternSpec(
        r"(?<![A-Za-z0-9:-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
        r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![A-Za-z0-9:-])", "mac",
        hs=r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"),)),
    DetectorSpec("ipv6", (PatternSpec(
        r"(?:(?<![A-Za-z0-9:.])\[" + IP6 + r"\]|(?<![A-Za-z0-9:.\[])" + IP6 + r"(?![A-Za-z0-9:\]]))", "ipv6",
        hs=f"(?:::|(?:{HEX}{{1,4}}:){{7}}{HEX})", lits=("::", ":")),)),
    DetectorSpec("ipv4", (PatternSpec(
        r"(?<![A-Za-z0-9.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
        r"(?![A-Za-z0-9]|\.\d)", "ipv4",
        hs=_ipv4_hs(r"\d{2,3}"), hs_loopback_kept=_ipv4_hs(r"(?:\d\d|[02-9]\d\d|1[013-9]\d|12[0-68-9])"),
        lits=(".",)),)),
    # a name starts with a capital letter (validators.validate_person_name): "name=resnet50" is not flagged
    DetectorSpec("person_name", (_key_value(NAME_KEYS, "person_name", NAME_VALUE,
                                            value_hs=WS + r"""*(?:\\?["'])?[A-Z\x80-\xff]""", value_head=1),)),
)

BUILTIN_NAMES: tuple[str, ...] = tuple(d.name for d in BUILTIN)

#: Mask labels that differ from ``[NAME.upper()]``.
LABELS: dict[str, str] = {}


def make_validators(keep_loopback: bool, phone_regions: list[str]) -> dict[str, Any]:
    """The validator callables by name, bound to the options that change them."""
    return {
        "card": v.validate_card, "iban": v.validate_iban, "ssn": v.validate_ssn,
        "phone": v.PhoneValidator(phone_regions), "ipv4": v.IPv4Validator(keep_loopback),
        "ipv6": v.IPv6Validator(keep_loopback), "mac": v.validate_mac, "secret": v.validate_secret,
        "password": v.validate_password, "aws_secret": v.validate_aws_secret, "basic": v.validate_basic,
        "token": v.validate_token, "person_name": v.validate_person_name,
    }
