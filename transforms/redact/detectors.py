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

Anchored patterns (keys such as ``password=...``, e-mail addresses) set
``anchor``: their ``rx`` opens with a lookbehind whose class holds every
character of the run that follows (the key, the local part), so ``rx`` can
only start where that run starts. A second prefilter, ``hs_anchor``, ends
right after the ``:``/``=`` of a key or the first character after an ``@``;
from there the scanner walks back to the start of the run and tries ``rx``
there only (hyperscan's own start-of-match tracking costs more than the
walk). ``hs`` may go on into the value to skip values the validator would
reject anyway (``"password": null``, ``"${API_KEY}"``); the scanner ends
every string with a newline so such a look at "the next character" is never
cut off.

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
# The same boundaries for hyperscan, which has no lookbehind: the start, or one character outside the class.
HS_B = r"(?:^|[^A-Za-z0-9])"
HS_B_DASH = r"(?:^|[^A-Za-z0-9-])"
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
AWS_SECRET_KEYS = r"aws[_-]?secret(?:[_-]?access)?[_-]?key|secret[_-]?access[_-]?key"
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
    anchor: str | None = None  # "key" or "local_part": how to walk back from an hs_anchor report
    hs_anchor: str | None = None
    anchor_width: int = 0  # longest key (anchor "key")
    # Set when ``rx`` opens with (?<![run_class]) and every character it matches is in run_class: a match
    # then starts where the run of such characters that holds any point of it starts.
    run_class: str | None = None
    hs_loopback_kept: str | None = None  # a tighter ``hs`` when loopback addresses are never findings


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    patterns: tuple[PatternSpec, ...]


# Python's \s as hyperscan bytes: ASCII white space, \x1c-\x1f, and any byte of a non-ASCII character.
WS = r"[\s\x1c-\x1f\x80-\xff]"
# A key, its optional closing quote, then ':' or '=': where every key pattern's hs ends.
KEY_HS_SEP = r"""(?:\\?["'])?""" + WS + "*[:=]"


def _key_value(keys: str, validator: str, value: str = VALUE, value_hs: str = "") -> PatternSpec:
    lits = tuple(k for k in ("pass", "pwd", "secret", "token", "key", "name", "ssn", "social", "phone", "mobile",
                             "cell", "tel", "msisdn", "holder") if k in keys)
    return PatternSpec(KB + f"(?i:{keys})" + KEYSEP + value, validator, hs=f"(?i:{keys})" + KEY_HS_SEP + value_hs,
                       lits=lits, **_key_anchor(keys))


def _key_anchor(keys: str) -> dict[str, Any]:
    import re._parser as sre_parse  # the stdlib's own parser: the exact longest key

    return {"anchor": "key", "hs_anchor": f"(?i:{keys})" + KEY_HS_SEP,
            "anchor_width": int(sre_parse.parse(f"(?i:{keys})").getwidth()[1])}


# Value prefilters (after ``KEY_HS_SEP``) that leave out values validators.is_placeholder rejects, the
# commonest non-secrets next to a password key. Each is a superset of the values the validator accepts.
# A bare value (VALUE's v3) is a run of characters other than these (an '&' may be one: superset):
_BARE_GOES_ON = r"""[^\s"'\\,;<>{}\[\]]"""
# Quoted: not "${...}", "{{...}}", "<...>", "[...]", "%(...)s"; any other start, even "*", may be a secret.
_DQ_NOT_TEMPLATE = r""""(?:[^"\\${<\[%]|\$[^{]|\{[^{]|%[^(])"""
_SQ_NOT_TEMPLATE = r"""'(?:[^'\\${<\[%]|\$[^{]|\{[^{]|%[^(])"""
# Bare: not exactly null/NULL (JSON null) and not only stars (password: ********). The character after
# "null" or the stars may be the newline the scanner adds after every string.
_BARE_NOT_NULL_OR_STARS = (r"""(?:[^\s"'\\,;<>{}\[\]nN*]|[nN](?:[^uU]|[uU](?:[^lL]|[lL](?:[^lL]|[lL]"""
                           + _BARE_GOES_ON + r""")))|\*+[^*\s"'\\,;<>{}\[\]])""")
PASSWORD_VALUE_HS = (WS + r"*(?:\\?(?:" + _DQ_NOT_TEMPLATE + "|" + _SQ_NOT_TEMPLATE + ")|"
                     + _BARE_NOT_NULL_OR_STARS + ")")
# validators.plausible_secret also wants 8+ characters; counted in quoted values only (their start is 1-2 chars).
SECRET_VALUE_HS = (WS + r"*(?:\\?(?:" + _DQ_NOT_TEMPLATE + r"""[^"\\]{6}|""" + _SQ_NOT_TEMPLATE + r"""[^'\\]{6})|"""
                   + _BARE_NOT_NULL_OR_STARS + ")")


# IPv4 prefilter: the validator drops bare quads like 1.4.2.10 (one-digit head, no octet over two digits: a
# version) unless an IP word precedes them, so the prefilter asks for a longer octet or that context.
# Before the quad: not [A-Za-z0-9.] (the regex's lookbehind), and none of the validator's version
# prefixes "torch-", "Chrome/", "==", ">=", "@" right before it.
_IP4_BOUND = r"(?:^|[^A-Za-z0-9./=@-]|(?:^|[^A-Za-z])/|(?:^|[^A-Za-z0-9])-|(?:^|[^=<>~])=)"
_IP4_WORDS = r"(?i:ip|addr|address|client|remote|host|from|src|dst|peer|forwarded|for|to|server|upstream|//)"


def _ipv4_hs(head2: str) -> str:
    # Ends at the first digit of the last octet where it can: one report per address, not one per digit.
    return (_IP4_BOUND + "(?:" + head2 + r"\.\d{1,3}\.\d{1,3}\.\d"
            r"|\d\.(?:\d{3}\.\d{1,3}\.\d|\d{1,3}\.\d{3}\.\d|\d{1,3}\.\d{1,3}\.\d{3}))"
            "|" + _IP4_WORDS + r"[^A-Za-z0-9_]{1,12}\d\.\d{1,2}\.\d{1,2}\.\d")


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
        KB + f"(?i:{AWS_SECRET_KEYS})" + KEYSEP
        + r"""(?:\\?["'])?(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])""", "aws_secret",
        hs=f"(?i:{AWS_SECRET_KEYS})" + KEY_HS_SEP, lits=("secret",), **_key_anchor(AWS_SECRET_KEYS)),)),
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
        _key_value(SECRET_KEYS, "secret", value_hs=SECRET_VALUE_HS),
    )),
    DetectorSpec("password", (_key_value(PASSWORD_KEYS, "password", value_hs=PASSWORD_VALUE_HS),)),
    DetectorSpec("email", (PatternSpec(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
        hs=r"(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2}", lits=("@", "%40"),
        anchor="local_part", hs_anchor=r"[A-Za-z0-9._%+-](?:@|%40)[A-Za-z0-9]"),)),
    DetectorSpec("iban", (PatternSpec(
        B + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" + E, "iban",
        hs=HS_B + r"[A-Z]{2}\d{2} ?[A-Z0-9]{4} ?[A-Z0-9]{4} ?[A-Z0-9]{3}"),)),
    DetectorSpec("credit_card", (PatternSpec(
        r"(?<![A-Za-z0-9-])\d{4}(?:[ -]?\d){8,15}" + E, "card",
        # every card brand starts with 2-6 (validators.card_brand); epoch millis and most ids start with 1
        hs=HS_B_DASH + r"[2-6]\d{3}(?:[ -]?\d){8}"),)),
    DetectorSpec("ssn", (
        PatternSpec(r"(?<![A-Za-z0-9-])\d{3}([- ])\d{2}\1\d{4}(?![A-Za-z0-9-])", "ssn",
                    hs=HS_B_DASH + r"[0-8]\d\d[- ]\d{2}[- ]\d{4}"),  # no SSN area is 9xx (validators.ssn_ok)
        _key_value(SSN_KEYS, "ssn", r"""(?:\\?["'])?(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})(?![0-9])"""),
    )),
    DetectorSpec("phone", (
        PatternSpec(r"(?<![A-Za-z0-9+-])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![A-Za-z0-9-])", "phone",
                    # no country code starts with 0 ("+0000" in a timestamp is no phone number)
                    hs=r"(?:^|[^A-Za-z0-9+-])\+[1-9]\d{0,2}[ .(-]{0,2}\d", lits=("+",)),
        PatternSpec(r"(?<![A-Za-z0-9-])(?:\(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,4}|\d{3}[.-]\d{3}[.-]\d{4}|\d{3} \d{3} \d{4}"
                    r"|0\d{1,4}[ -]\d{3,4}[ -]?\d{3,4}|0\d(?:[ .]\d{2}){4})(?![A-Za-z0-9-])", "phone",
                    hs=HS_B_DASH + r"(?:\(\d{2,5}\)[ .-]?\d{3}|\d{3}[ .-]\d{3}[ .-]\d{4}|0\d{1,4}[ -]\d{3}"
                                      r"|0\d[ .]\d\d[ .]\d\d)"),
        _key_value(PHONE_KEYS, "phone", r"""(?:\\?["'])?(?P<v>\+?\d[\d .()-]{5,18}\d)"""),
    )),
    DetectorSpec("mac", (PatternSpec(
        r"(?<![A-Za-z0-9:-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}"
        r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![A-Za-z0-9:-])", "mac",
        hs=r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"),)),
    DetectorSpec("ipv6", (PatternSpec(
        r"(?:(?<![A-Za-z0-9:.])\[" + IP6 + r"\]|(?<![A-Za-z0-9:.\[])" + IP6 + r"(?![A-Za-z0-9:\]]))", "ipv6",
        hs=f"(?:::|(?:{HEX}{{1,4}}:){{7}}{HEX})", lits=("::", ":"),
        # without "::1" and "::" alone ("[::1]:8080", "a[::2]"), which are never findings then
        hs_loopback_kept=f"(?:{HEX}::|::(?:[02-9A-Fa-f]|1[0-9A-Fa-f:.])|(?:{HEX}{{1,4}}:){{7}}{HEX})"),)),
    DetectorSpec("ipv4", (PatternSpec(
        r"(?<![A-Za-z0-9.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
        r"(?![A-Za-z0-9]|\.\d)", "ipv4",
        hs=_ipv4_hs(r"\d{2,3}"), hs_loopback_kept=_ipv4_hs(r"(?:\d\d|[02-9]\d\d|1[013-9]\d|12[0-68-9])"),
        lits=(".",), run_class="A-Za-z0-9."),)),
    # a name starts with a capital letter (validators.validate_person_name): "name=resnet50" is not flagged
    DetectorSpec("person_name", (_key_value(NAME_KEYS, "person_name", NAME_VALUE,
                                            value_hs=WS + r"""*(?:\\?["'])?[A-Z\x80-\xff]"""),)),
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
