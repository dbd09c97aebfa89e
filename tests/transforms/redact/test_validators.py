"""Luhn, IBAN, SSN, card and phone validators, with property tests for Luhn and IBAN and their fast paths."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from logferry.transforms.redact.validators import (
    _VERSION_BEFORE,
    IBAN_LENGTHS,
    IPv4Validator,
    PhoneValidator,
    card_brand,
    iban_ok,
    is_placeholder,
    luhn_ok,
    plausible_secret,
    ssn_ok,
    validate_card,
    validate_iban,
    validate_person_name,
    version_before,
)


def _luhn_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError("no check digit")


def _iban(country: str, bban: str) -> str:
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - num % 97:02d}{bban}"


class TestLuhn:
    def test_known_numbers(self) -> None:
        """Published test card numbers pass and a one-digit change fails."""
        assert luhn_ok("4111111111111111")
        assert luhn_ok("5555555555554444")
        assert not luhn_ok("4111111111111112")

    @given(st.text(alphabet=string.digits, min_size=11, max_size=18))
    def test_exactly_one_check_digit(self, body: str) -> None:
        """For any digit string exactly one appended check digit makes it Luhn-valid."""
        assert sum(luhn_ok(body + d) for d in string.digits) == 1

    @given(st.text(alphabet=string.digits, min_size=12, max_size=18), st.integers(0, 17), st.integers(1, 9))
    def test_single_digit_error_detected(self, body: str, pos: int, delta: int) -> None:
        """Changing any one digit of a valid number makes it invalid."""
        num = body + _luhn_check_digit(body)
        pos %= len(num)
        changed = num[:pos] + str((int(num[pos]) + delta) % 10) + num[pos + 1:]
        assert not luhn_ok(changed)


class TestIban:
    def test_known_iban(self) -> None:
        """The ECBS example IBANs validate; a changed digit does not."""
        assert iban_ok("DE89370400440532013000")
        assert iban_ok("GB82WEST12345698765432")
        assert not iban_ok("DE89370400440532013001")

    @settings(max_examples=200)
    @given(st.sampled_from(sorted(IBAN_LENGTHS)), st.data())
    def test_generated_ibans_validate(self, country: str, data: st.DataObject) -> None:
        """An IBAN built with correct check digits for any country validates; altering a BBAN digit breaks it."""
        n = IBAN_LENGTHS[country] - 4
        bban = data.draw(st.text(alphabet=string.digits, min_size=n, max_size=n))
        iban = _iban(country, bban)
        assert iban_ok(iban)
        i = data.draw(st.integers(4, len(iban) - 1))
        bad = iban[:i] + str((int(iban[i]) + 1) % 10) + iban[i + 1:]
        assert not iban_ok(bad)

    def test_wrong_length_rejected(self) -> None:
        """A check-valid string of the wrong length for its country is not an IBAN."""
        assert not iban_ok(_iban("DE", "1234567890123456789"))

    def test_trailing_word_trimmed(self) -> None:
        """A currency caught after a compact IBAN is trimmed by the country length."""
        iban = _iban("ES", "21000418450200051332")
        s = " ".join(iban[i:i + 4] for i in range(0, 24, 4)) + " EURO"
        assert validate_iban(s, 0, len(s)) == 29


class TestSsn:
    def test_rules(self) -> None:
        """Area 000/666/9xx, group 00, serial 0000 and advertised numbers are rejected."""
        assert ssn_ok("219456789")
        for bad in ("000456789", "666456789", "912456789", "219006789", "219450000", "078051120"):
            assert not ssn_ok(bad), bad


class TestCards:
    def test_brands(self) -> None:
        """Mastercard 2-series, Amex, Diners and Visa 13/19 are recognised; unknown prefixes are not."""
        assert card_brand("2221000000000009") == "mastercard"
        assert card_brand("378282246310005") == "amex"
        assert card_brand("36227206271667") == "diners"
        assert card_brand("4222222222222") == "visa"
        assert card_brand("1234567812345670") is None

    def test_separators_and_trim(self) -> None:
        """Mixed separators are rejected and a trailing number after a spaced card is trimmed."""
        assert validate_card("4111 1111-1111 1111", 0, 19) == -1
        s = "4111 1111 1111 1111 2026"
        assert validate_card(s, 0, len(s)) == 19


class TestPhoneAndIp:
    def test_phone_regions(self) -> None:
        """NANP-style numbers are read as US, trunk-prefix ones as European; placeholders fail."""
        v = PhoneValidator(["US", "GB", "DE", "FR"])
        assert v.number_ok("(201) 555-0123") or v.number_ok("415-555-2671")
        assert v.number_ok("020 7946 0958")
        assert not v.number_ok("123-456-7890")

    def test_version_strings_are_not_ips(self) -> None:
        """1.4.2.10 after version context or bare is kept; with an IP context it is an address."""
        v = IPv4Validator(keep_loopback=True)
        for s in ("version 1.4.2.10", "torch==1.4.2.10", "agent/1.4.2.10", "got 1.4.2.10"):
            assert v(s, s.index("1.4"), len(s)) == -1, s
        s = "client_ip=1.4.2.10"
        assert v(s, 10, len(s)) == len(s)
        s = "from 127.0.0.1"
        assert v(s, 5, len(s)) == -1

    def test_person_name(self) -> None:
        """Capitalised words are a name; the scan stops at the first lowercase word."""
        s = "Jean-Luc Picard status"
        assert validate_person_name(s, 0, len(s)) == len("Jean-Luc Picard")
        assert validate_person_name("resnet50", 0, 8) == -1


def _luhn_reference(digits: str) -> bool:
    """The textbook loop the fast path replaces (ord - 48 even for non-ASCII digits, as before)."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _secret_reference(value: str) -> bool:
    """plausible_secret with every character class counted by a Python loop."""
    if len(value) < 8 or is_placeholder(value):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))
    if classes < 2:
        return len(value) >= 24 and not value.isalpha()
    return not (value.replace(".", "").replace("_", "").isalpha() and "." in value)


class TestFastPaths:
    @given(st.text(alphabet="0123456789٣", min_size=0, max_size=20))
    def test_luhn_matches_reference(self, digits: str) -> None:
        """The byte-sum Luhn check agrees with the digit loop, non-ASCII digits included."""
        assert luhn_ok(digits) == _luhn_reference(digits)

    @given(st.text(alphabet=string.ascii_letters + string.digits + "._-*x#$ ${}<[%é", max_size=40))
    def test_secret_matches_reference(self, value: str) -> None:
        """The ASCII class tests of plausible_secret agree with the per-character loop."""
        assert plausible_secret(value) == _secret_reference(value)

    @given(st.lists(st.sampled_from(["v", "ver", "version", "Release", "fw", "s", " ", "\t", "\n", "=", ":", '"', "'",
                                     "/", "-", "@", "~", ">", "<", "1", "a", ".", "\u00a0", "é", "ſ"]), max_size=8)
           .map("".join))
    def test_version_before_matches_regex(self, before: str) -> None:
        """The reversed, anchored version-prefix check agrees with searching the forward regex."""
        before = before[-16:]
        assert version_before(before) == (_VERSION_BEFORE.search(before) is not None)

    @given(st.sampled_from(sorted(IBAN_LENGTHS)), st.data())
    @settings(max_examples=200)
    def test_iban_mod97_by_table(self, country: str, data: st.DataObject) -> None:
        """The translate-table mod-97 check agrees with converting letter by letter, valid or not."""
        n = IBAN_LENGTHS[country] - 2
        compact = country + data.draw(st.text(alphabet=string.digits + "ABCXYZ", min_size=n, max_size=n))
        expected = compact[2:4].isdigit() and int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1
        assert iban_ok(compact) == expected
        assert iban_ok(_iban(country, compact[4:]))

    def test_phone_verdicts_cached(self) -> None:
        """A candidate's verdict (and trimmed length) is the same when it comes from the cache."""
        v = PhoneValidator(["US", "GB"])
        s = "call +1 415 555 2671 200 now"
        first = v(s, 5, 24)
        assert first == 20 and v(s, 5, 24) == first
        assert v("x 123-456-7890", 2, 14) == -1 == v("x 123-456-7890", 2, 14)

    def test_card_separator_kinds(self) -> None:
        """One separator kind is allowed, none is fine, two kinds are not."""
        assert validate_card("4111111111111111", 0, 16) == 16
        assert validate_card("4111-1111-1111-1111", 0, 19) == 19
        assert validate_card("4111-1111 1111-1111", 0, 19) == -1
