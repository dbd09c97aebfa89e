"""Luhn, IBAN, SSN, card and phone validators, with property tests for Luhn and IBAN."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from logferry.transforms.redact.validators import (
    IBAN_LENGTHS, IPv4Validator, PhoneValidator, card_brand, iban_ok, luhn_ok, ssn_ok, validate_card,
    validate_iban, validate_person_name,
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
