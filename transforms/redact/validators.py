"""Checks that turn a regex candidate into a finding: Luhn, IBAN mod-97, SSN rules, phone numbers, IPs, names.

Regexes find *candidates*; these functions decide. Each candidate validator has
the signature ``(s, start, end) -> int``: the whole string (for context), the
candidate's span, and the end of the accepted span (``end`` or less when a
trailing part had to be trimmed), or ``-1`` to reject it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Sequence

Validator = Callable[[str, int, int], int]

_SEPARATORS = re.compile(r"[ .()\-]+")

# --- Luhn and payment cards -------------------------------------------------------------


_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2d, minus 9 when over 9


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod-10) check."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    if digits.isascii():  # sums of byte values in C: several times faster than a loop over the digits
        rev = digits[::-1]
        total = sum(rev[0::2].encode()) + sum(rev[1::2].translate(_LUHN_DOUBLED).encode()) - 48 * len(digits)
        return total % 10 == 0
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The card scheme whose prefix and length fit ``digits``, or ``None``."""
    n = len(digits)
    p2, p4 = int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if 2200 <= p4 <= 2204 and 16 <= n <= 19:
        return "mir"
    if (p4 == 6011 or 644 <= int(digits[:3]) <= 649 or p2 == 65) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= int(digits[:3]) <= 305 or p4 == 3095 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


def _card_groups_ok(groups: Sequence[str]) -> bool:
    """Printed card groupings: 4-4-4-4(-x), Amex 4-6-5 and Diners 4-6-4."""
    if len(groups) == 1:
        return True
    lens = [len(g) for g in groups]
    if lens in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(n == 4 for n in lens[:-1]) and 1 <= lens[-1] <= 4


def card_number_ok(digits: str) -> bool:
    # Luhn first: it is the cheaper test and rejects nine of ten digit runs that are no card.
    return 12 <= len(digits) <= 19 and luhn_ok(digits) and card_brand(digits) is not None


_NO_ASCII_DIGITS = str.maketrans("", "", "0123456789")


def validate_card(s: str, start: int, end: int) -> int:
    """A Luhn-valid number of a known brand, one consistent separator; trailing groups may be trimmed."""
    text = s[start:end]
    if text.isascii():  # the usual case: what is not a digit is a separator, found without a Python loop
        seps = set(text.translate(_NO_ASCII_DIGITS))
    else:
        seps = {c for c in text if not c.isdigit()}
    if len(seps) > 1:
        return -1
    if not seps:
        return end if card_number_ok(text) else -1
    sep = seps.pop()
    groups = text.split(sep)
    if any(not g for g in groups):
        return -1
    # Longest grouping prefix first: "4111 1111 1111 1111 2026" is a card followed by a year.
    for k in range(len(groups), 1, -1):
        head = groups[:k]
        if _card_groups_ok(head) and card_number_ok("".join(head)):
            return start + len(sep.join(head))
    return -1


# --- IBAN -----------------------------------------------------------------------------

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban_ok(compact: str) -> bool:
    """Country length and ISO 7064 mod-97 check of an IBAN without spaces."""
    if len(compact) < 15 or not compact.isalnum() or not compact.isascii():
        return False
    compact = compact.upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int(rearranged.translate(_IBAN_LETTERS)) % 97 == 1


_IBAN_LETTERS = {ord(c): str(10 + i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}  # A=10 ... Z=35
_IBAN_HEADS: dict[int, re.Pattern[str]] = {}  # country length -> "that many characters besides spaces"


def validate_iban(s: str, start: int, end: int) -> int:
    """A mod-97-valid IBAN; a word caught after it (``... 00 EUR``) is trimmed by the country length."""
    want = IBAN_LENGTHS.get(s[start:start + 2])
    if want is None:
        return -1
    head = _IBAN_HEADS.get(want)
    if head is None:
        head = _IBAN_HEADS[want] = re.compile(f"(?: *[^ ]){{{want}}}")
    m = head.match(s, start, end)
    if m is None:
        return -1
    i = m.end()
    if i < end and s[i] != " ":
        return -1
    return i if iban_ok(s[start:i].replace(" ", "")) else -1


# --- US SSN ---------------------------------------------------------------------------

_SSN_NEVER_ISSUED = frozenset({"078051120", "219099999"})  # published in ads, never anybody's


def ssn_ok(digits: str) -> bool:
    """SSA rules: area not 000/666/9xx, group not 00, serial not 0000."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (area != "000" and area != "666" and area[0] != "9" and group != "00"
            and serial != "0000" and digits not in _SSN_NEVER_ISSUED)


def validate_ssn(s: str, start: int, end: int) -> int:
    text = s[start:end]
    digits = text.replace("-", "").replace(" ", "")
    return end if ssn_ok(digits) else -1


# --- phone numbers (libphonenumber) ---------------------------------------------------------


_NANP = frozenset({"US", "CA", "PR", "GU", "VI", "AS", "MP", "BS", "BB", "JM", "TT", "DO", "BM"})


class PhoneValidator:
    """Validates candidates with ``phonenumbers``; national formats are tried against ``regions``.

    Parsing costs tens of microseconds, so verdicts are cached per candidate text.
    """

    def __init__(self, regions: Sequence[str]) -> None:
        import phonenumbers

        self._pn = phonenumbers
        self.regions = tuple(regions)
        self._nanp_regions = tuple(r for r in self.regions if r in _NANP) or self.regions
        self._trunk_regions = tuple(r for r in self.regions if r not in _NANP) or self.regions
        self._cache: dict[str, bool] = {}
        self._spans: dict[str, int] = {}  # candidate text -> length accepted (after trimming), -1: rejected

    def number_ok(self, text: str) -> bool:
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        ok = False
        regions: Sequence[str | None]
        if text.startswith("+"):
            regions = (None,)
        elif text.lstrip("(").startswith("0"):  # trunk prefix 0: Europe and most of the world, never NANP
            regions = self._trunk_regions
        else:  # 415-555-2671, (415) 555-2671: NANP-style, only where NANP numbers are read nationally
            regions = self._nanp_regions
        for region in regions:
            try:
                num = self._pn.parse(text, region)
            except self._pn.NumberParseException:
                continue
            if self._pn.is_valid_number(num):
                ok = True
                break
        if len(self._cache) > 65536:
            self._cache.clear()
        self._cache[text] = ok
        return ok

    def __call__(self, s: str, start: int, end: int) -> int:
        text = s[start:end]
        kept = self._spans.get(text)
        if kept is None:
            kept = self._accepted_length(text)
            if len(self._spans) > 65536:
                self._spans.clear()
            self._spans[text] = kept
        return -1 if kept < 0 else start + kept

    def _accepted_length(self, text: str) -> int:
        if self.number_ok(text):
            return len(text)
        # "+1 415 555 2671 200" or "415-555-2671-3": drop trailing digit groups.
        parts = list(_SEPARATORS.finditer(text))
        for sep in reversed(parts):
            head = text[:sep.start()]
            if sum(c.isdigit() for c in head) < 7:
                break
            if self.number_ok(head):
                return sep.start()
        return -1


# --- IP and MAC addresses -----------------------------------------------------------------

_VERSION_WORDS = ("v", "ver", "version", "release", "rel", "build", "tag", "firmware", "fw", "ubuntu", "debian")
# What before an address makes it a version ("version=", "torch-", "nginx/", "==", "@"), anchored at its end.
_VERSION_BEFORE = re.compile(
    r"(?:(?<![A-Za-z])(?:" + "|".join(_VERSION_WORDS) + r")\s*[=:]?\s*[\"']?"
    r"|[A-Za-z]/|[A-Za-z0-9]-|==|>=|<=|~=|@)$", re.IGNORECASE)
# The same language read backwards, tried once at the start of the reversed text instead of searched for
# at every position ("$" also matches before a final newline, hence the optional one in front).
_VERSION_BEFORE_REVERSED = re.compile(
    r"\n?(?:[\"']?\s*[=:]?\s*(?:" + "|".join(w[::-1] for w in _VERSION_WORDS) + r")(?![A-Za-z])"
    r"|/[A-Za-z]|-[A-Za-z0-9]|==|=>|=<|=~|@)", re.IGNORECASE)


_WORD_ENDS = frozenset("vrneldgwuVRNELDGWU")  # last letters of the version words


def version_before(before: str) -> bool:
    """True when ``before`` ends with a version prefix (``_VERSION_BEFORE``), in one anchored attempt.

    Most text before an address ("client_ip=", "from ") cannot end in a version word followed by
    [white space] [=:] [white space] [quote]; that is ruled out first without any regex.
    """
    last = before[-1:]
    if not last:
        return False
    if last == "=" and before[-2:-1] in ("=", ">", "<", "~"):
        return True
    if last not in "\n/-@":  # else only a version word can end it ("$" also matches before a final newline)
        t = before[:-1] if last in "\"'" else before
        t = t.rstrip()
        if t[-1:] in ("=", ":"):
            t = t[:-1].rstrip()
        if t[-1:] not in _WORD_ENDS:
            return False
    return _VERSION_BEFORE_REVERSED.match(before[::-1]) is not None
_VERSION_PREFIX_ENDS = frozenset("=:\"'/-@")
_IP_CONTEXT_BEFORE = re.compile(
    r"(?:ip|addr|address|client|remote|host|from|src|dst|peer|forwarded|for|to|server|upstream|//)\W{0,3}$",
    re.IGNORECASE)


class IPv4Validator:
    """A dotted quad that is not a version string; loopback and 0.0.0.0 kept unless configured."""

    def __init__(self, keep_loopback: bool) -> None:
        self.keep_loopback = keep_loopback

    def __call__(self, s: str, start: int, end: int) -> int:
        if self.keep_loopback and (s.startswith("127.", start, end) or s[start:end] == "0.0.0.0"):
            return -1
        if start:
            # Every version prefix ends in a letter, white space or one of =:"'/-@; most addresses follow
            # something else ("(", "[", ",", line start), and then the regex cannot match.
            last = s[start - 1]
            if ((last.isalpha() or last.isspace() or last in _VERSION_PREFIX_ENDS)
                    and version_before(s[max(0, start - 16):start])):
                return -1
        if s[end:end + 1] in ("-", "+") and s[end + 1:end + 2].isalnum():  # 1.4.2.10-rc1, 1.2.3.4+cu118
            return -1
        text = s[start:end]
        # Bare "1.4.2.10": small numbers with a one-digit head read as a version unless context says IP.
        if (len(text.partition(".")[0]) == 1 and all(len(o) <= 2 for o in text.split("."))
                and not _IP_CONTEXT_BEFORE.search(s, max(0, start - 16), start)):
            return -1
        return end


class IPv6Validator:
    """A real IPv6 address (``ipaddress``); ``::1`` and ``::`` kept unless configured."""

    def __init__(self, keep_loopback: bool) -> None:
        self.keep_loopback = keep_loopback

    def __call__(self, s: str, start: int, end: int) -> int:
        text = s[start:end].strip("[]")
        text = text.split("%", 1)[0]
        try:
            ip = ipaddress.IPv6Address(text)
        except ValueError:
            return -1
        if self.keep_loopback:
            mapped = ip.ipv4_mapped
            if ip.is_loopback or ip.is_unspecified or (mapped is not None and (mapped.is_loopback or mapped.is_unspecified)):
                return -1
        return end


def validate_mac(s: str, start: int, end: int) -> int:
    hexes = "".join(c for c in s[start:end] if c not in ":-.")
    return -1 if hexes.strip("0") == "" else end


# --- credentials and secrets --------------------------------------------------------------------

_PLACEHOLDERS = frozenset({"null", "none", "nil", "undefined", "true", "false", "redacted", "masked", "hidden",
                           "changeme", "empty", "n/a", "na", "xxx", "***", "<redacted>", "[redacted]"})


def is_placeholder(value: str) -> bool:
    v = value.strip().lower()
    return (not v or v in _PLACEHOLDERS or not v.strip("*x•.-_#")  # made only of mask characters
            or v.startswith(("${", "{{", "<", "[", "%(")) or (v.startswith("[") and v.endswith("]")))


_ASCII_DIGIT = re.compile("[0-9]")
_HEX = re.compile("[0-9a-fA-F]*")


def plausible_secret(value: str) -> bool:
    """Looks like a generated secret: 8+ chars, not a placeholder, mixes at least two character classes."""
    if len(value) < 8 or is_placeholder(value):
        return False
    if value.isascii():  # lower/upper only change letters: the class tests run in C
        classes = ((value.upper() != value) + (value.lower() != value) + (_ASCII_DIGIT.search(value) is not None)
                   + (not value.isalnum()))
    else:
        classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
                   + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))
    if classes < 2:
        return len(value) >= 24 and not value.isalpha()
    # A dotted identifier such as "torch.nn.Module" is not a secret.
    return not (value.replace(".", "").replace("_", "").isalpha() and "." in value)


def validate_secret(s: str, start: int, end: int) -> int:
    return end if plausible_secret(s[start:end]) else -1


def validate_password(s: str, start: int, end: int) -> int:
    return -1 if is_placeholder(s[start:end]) else end


def validate_aws_secret(s: str, start: int, end: int) -> int:
    v = s[start:end]
    is_hex = _HEX.fullmatch(v) is not None
    return end if len(v) == 40 and not is_hex and plausible_secret(v) else -1


def validate_basic(s: str, start: int, end: int) -> int:
    """``Basic <b64>`` whose payload decodes to ``user:password``."""
    v = s[start:end]
    try:
        raw = base64.b64decode(v + "=" * (-len(v) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return -1
    return end if ":" in raw and raw.isprintable() else -1


def validate_token(s: str, start: int, end: int) -> int:
    """Vendor tokens (GitHub, Stripe, ...): the prefix is strong, but reject all-one-class bodies like ``sk-aaaa``."""
    body = s[start + 4:end]  # past the vendor prefix (ghp_, sk-, AIza, xoxb-, ...)
    return end if any(c.isdigit() for c in body) or (any(c.isupper() for c in body) and any(c.islower() for c in body)) else -1


# --- person names -----------------------------------------------------------------------------


def _name_word(w: str) -> bool:
    core = w.replace("'", "").replace("’", "").replace("-", "").replace(".", "")
    return bool(core) and core.isalpha() and w[0].isupper() and (len(core) == 1 or not core.isupper() or len(core) <= 3)


def validate_person_name(s: str, start: int, end: int) -> int:
    """1-5 capitalised words ("Ada", "Jean-Luc Picard", "J. R. Smith"); stops before the first word that is not."""
    pos = start
    last_ok = -1
    words = 0
    while pos < end and words < 5:
        sp = s.find(" ", pos, end)
        stop = end if sp < 0 else sp
        if not _name_word(s[pos:stop]):
            break
        last_ok = stop
        words += 1
        pos = stop + 1
    return last_ok
