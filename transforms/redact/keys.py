"""Detectors that follow from a field's *name*: ``ssn``, ``first_name``, ``api_key``, ``password``, ``phone``.

When the transform walks an event, a field whose (last) key names a kind of
personal or secret value is judged whole: a bare ``123456789`` under ``ssn``
is an SSN, ``"Ada Lovelace"`` under ``customer_name`` is a person. The value
still has to pass the detector's check (SSN rules, a capitalised name, a
plausible secret), so ``"name": "resnet50"`` stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from logferry.transforms.redact import detectors as d
from logferry.transforms.redact import validators as v

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# "<parent>.name" is a person only when the parent is not one of these things with names.
_NAMED_THINGS = frozenset({
    "host", "service", "process", "file", "container", "agent", "observer", "cloud", "event", "log", "orchestrator",
    "kubernetes", "k8s", "pod", "node", "model", "dataset", "job", "task", "metric", "thread", "span",
    "transaction", "url", "package", "rule", "device", "os", "network", "server", "destination", "source",
    "interface", "geo", "organization", "group", "function", "queue", "topic", "table", "column", "index",
    "bucket", "feature", "experiment", "run", "logger", "image", "region", "zone", "project", "namespace",
    "deployment", "cluster", "app", "application", "team", "product", "vendor", "tag", "label", "field",
    "user",  # ECS user.name is a login, not a person's name (user.full_name is)
})


def _key_re(alternation: str) -> re.Pattern[str]:
    return re.compile(f"(?:{alternation})", re.IGNORECASE)


_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws_secret_key", _key_re(d.AWS_SECRET_KEYS)),
    ("password", _key_re(d.PASSWORD_KEYS)),
    ("api_token", _key_re(d.SECRET_KEYS + r"|authorization")),
    ("ssn", _key_re(d.SSN_KEYS)),
    ("phone", _key_re(d.PHONE_KEYS)),
    ("person_name", _key_re(d.NAME_KEYS)),
)


def normalize_key(key: str) -> tuple[str, str]:
    """(parent, leaf) of a dotted or nested key, leaf in snake_case: ``customer.firstName`` -> (customer, first_name)."""
    parts = key.rsplit(".", 2)
    leaf = _CAMEL.sub("_", parts[-1]).lower().replace("-", "_")
    parent = parts[-2].lower() if len(parts) > 1 else ""
    return parent, leaf


def classify_key(key: str, parent_hint: str = "") -> str | None:
    """The detector a field name implies, or ``None``. ``parent_hint`` is the enclosing key for nested dicts."""
    parent, leaf = normalize_key(key)
    if not parent and parent_hint:
        parent = normalize_key(parent_hint)[1]
    for detector, rx in _RULES:
        if rx.fullmatch(leaf):
            if detector == "person_name" and leaf == "name" and parent in _NAMED_THINGS:
                return None
            return detector
    return None


class KeyRules:
    """Whole-value checks for fields whose name implies a detector; classification is cached per key."""

    def __init__(self, enabled: set[str], phone: v.PhoneValidator | None) -> None:
        self.enabled = enabled
        self._cache: dict[tuple[str, str], str | None] = {}
        checks: dict[str, Callable[[str], bool]] = {
            "aws_secret_key": lambda s: v.validate_aws_secret(s, 0, len(s)) >= 0,
            "password": lambda s: not v.is_placeholder(s),
            "api_token": v.plausible_secret,
            "ssn": lambda s: v.ssn_ok(s.replace("-", "").replace(" ", "")),
            "person_name": lambda s: v.validate_person_name(s, 0, len(s)) == len(s),
        }
        if phone is not None:
            checks["phone"] = lambda s: phone.number_ok(s.strip())
        self._checks = checks

    def detector_for(self, key: str, parent_hint: str = "") -> str | None:
        ck = (key, parent_hint)
        try:
            return self._cache[ck]
        except KeyError:
            pass
        det = classify_key(key, parent_hint)
        if det not in self.enabled or det not in self._checks:
            det = None
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[ck] = det
        return det

    def value_matches(self, detector: str, value: str) -> bool:
        return self._checks[detector](value)
