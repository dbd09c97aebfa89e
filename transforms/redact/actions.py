"""What replaces a finding: a mask label, a partial mask, a keyed pseudonym, or the loss of the whole field.

The pseudonym is ``[LABEL:<key id>:<hex>]`` with ``hex`` the first characters
of HMAC-SHA256(key, detector NUL normalized value). It depends on nothing but
the key and the value, so every host that shares the key yields the same token
for the same person and Kibana can still count distinct users. The key id says
which key made a token, so a rotated key does not silently mix populations.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Literal
from urllib.parse import unquote

ActionName = Literal["mask", "partial", "hash", "drop_field"]


def label(detector: str) -> str:
    return detector.upper()


def normalize(detector: str, value: str) -> str:
    """The canonical form hashed, so "4111 1111 ..." and "4111-1111-..." get one pseudonym."""
    if detector == "email":
        return unquote(value).strip().lower()
    if detector in ("credit_card", "ssn", "iban"):
        return "".join(c for c in value if c.isalnum()).upper()
    if detector == "phone":
        return "".join(c for c in value if c.isdigit() or c == "+")
    if detector in ("ipv4", "ipv6"):
        try:
            return ipaddress.ip_address(value.strip("[]").split("%", 1)[0]).compressed
        except ValueError:
            return value
    if detector == "mac":
        return "".join(c for c in value if c not in ":-.").lower()
    if detector == "person_name":
        return " ".join(value.split()).casefold()
    return value


class Pseudonymizer:
    """Keyed, deterministic pseudonyms (HMAC-SHA256), identical on every host with the same key."""

    def __init__(self, key: bytes, key_id: str, hex_chars: int = 16) -> None:
        if len(key) < 16:
            raise ValueError("the hash key must be at least 16 bytes")
        self._key = key
        self.key_id = key_id
        self.hex_chars = hex_chars

    def digest(self, detector: str, value: str) -> str:
        msg = f"{detector}\x00{normalize(detector, value)}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[: self.hex_chars]

    def token(self, detector: str, value: str) -> str:
        return f"[{label(detector)}:{self.key_id}:{self.digest(detector, value)}]"


def partial_mask(detector: str, value: str) -> str:
    """Keep the last 4 letters/digits ("**** **** **** 1111"); short values are masked whole."""
    alnum = sum(c.isalnum() for c in value)
    if alnum < 8:
        return f"[{label(detector)}]"
    keep_from = alnum - 4
    out = []
    seen = 0
    for c in value:
        if c.isalnum():
            out.append(c if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


class Actions:
    """The action of every detector and how to apply it to one value."""

    def __init__(self, per_detector: dict[str, str], default: str, pseudonymizer: Pseudonymizer | None) -> None:
        self.per_detector = dict(per_detector)
        self.default = default
        self.pseudonymizer = pseudonymizer
        self._masks: dict[str, str] = {}

    def replacement(self, detector: str, value: str) -> str | None:
        """The text that replaces ``value``, or ``None`` when the whole field must go."""
        act = self.per_detector.get(detector, self.default)
        if act == "mask":
            m = self._masks.get(detector)
            if m is None:
                m = self._masks[detector] = f"[{label(detector)}]"
            return m
        if act == "partial":
            return partial_mask(detector, value)
        if act == "hash":
            assert self.pseudonymizer is not None  # checked at build
            return self.pseudonymizer.token(detector, value)
        return None
