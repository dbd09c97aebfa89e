"""The ``redact`` transform: find personal data and secrets in events and mask, pseudonymise or drop them.

Config (YAML)::

    transforms:
      scrub:
        type: redact
        inputs: [app]
        detectors: all                 # or [email, credit_card, ...]
        default_action: mask           # mask | partial | hash | drop_field
        actions: {email: hash, credit_card: partial}
        hash_key_env: LOGFERRY_REDACT_KEY
        hash_key_id: "2026-11"
        tag_detectors: true            # adds tags redacted:<detector>, never values
        custom:
          - {name: employee_id, pattern: 'EMP-\\d{6}', action: mask}

Hits per detector go to ``logferry_redact_hits_total{component_id, detector}``,
bumped once per batch.

A batch read from a file (lines over common fields, events not built yet) is
redacted without building its events: the lines are scanned as ``message``
and the changed ones laid over the batch (``Batch.set_line_fields``); fields
an earlier transform laid over the lines (``parse``) are walked like the
fields of an event and the changed ones laid again. Other batches are
redacted event by event (``Redactor.redact_events``).
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
import regex
from msgspec import Meta

from logferry.agent.component import Transform
from logferry.agent.config.common import Strict, TransformConfig
from logferry.agent.errors import BuildError
from logferry.agent.event import Batch, Event
from logferry.agent.telemetry import counter
from logferry.transforms.redact.actions import ActionName, Actions, Pseudonymizer
from logferry.transforms.redact.detectors import BUILTIN_NAMES
from logferry.transforms.redact.keys import KeyRules
from logferry.transforms.redact.redactor import Redactor, tag_event, tag_names
from logferry.transforms.redact.scanner import CustomPattern, Scanner
from logferry.transforms.redact.validators import PhoneValidator

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MIN_KEY_BYTES = 16
_PER_LINE = ("message", "log.offset", "event.id")  # what a columnar batch sets per line, over its common fields
_MESSAGE_ONLY = frozenset({"message"})


class CustomDetector(Strict):
    name: Annotated[str, Meta(description="Detector name: the mask label (upper-cased), metric label and tag.")]
    pattern: Annotated[str, Meta(description="A `regex`-module pattern; a group named `value` limits what is replaced.")]
    action: Annotated[ActionName | None, Meta(description="Action for this detector; default: `default_action`.")] = None


class RedactConfig(TransformConfig):
    detectors: Annotated[list[str] | Literal["all"],
                         Meta(description=f"Built-in detectors to run, or `all`: {', '.join(BUILTIN_NAMES)}.")] = "all"
    default_action: Annotated[ActionName, Meta(description="Action of detectors not listed in `actions`.")] = "mask"
    actions: Annotated[dict[str, ActionName],
                       Meta(description="Action per detector: `mask` ([EMAIL]), `partial` (keep the last 4), "
                                        "`hash` (keyed HMAC-SHA256 pseudonym), `drop_field`.")] = {}
    fields: Annotated[list[str] | None,
                      Meta(description="Fields to scan (dotted, may reach into nested objects); "
                                       "default: every string field, nested ones too.")] = None
    exclude_fields: Annotated[list[str], Meta(description="Top-level fields never scanned when `fields` is unset.")] = msgspec.field(
        default_factory=lambda: ["@timestamp", "event.id", "tags"])
    keep_loopback: Annotated[bool, Meta(description="Leave loopback and unspecified IPs (127.0.0.1, ::1, 0.0.0.0, ::).")] = True
    phone_regions: Annotated[list[str], Meta(min_length=1, description="Regions (ISO 3166 alpha-2) national phone "
                                                                       "formats are validated against.")] = msgspec.field(
        default_factory=lambda: ["US", "GB", "DE", "FR"])
    tag_detectors: Annotated[bool, Meta(description="Add tags `redacted:<detector>` naming the detectors that fired.")] = False
    hash_key_env: Annotated[str | None, Meta(description="Environment variable holding the HMAC key (`hash` action).")] = None
    hash_key_file: Annotated[str | None, Meta(description="File holding the HMAC key (`hash` action).")] = None
    hash_key_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{1,32}$",
                                     description="Key id written into every pseudonym.")] = "k1"
    hash_hex_chars: Annotated[int, Meta(ge=8, le=64, description="Hex characters of the HMAC kept in a pseudonym.")] = 16
    custom: Annotated[list[CustomDetector], Meta(description="Extra detectors by regex.")] = []
    custom_timeout_ms: Annotated[int, Meta(gt=0, description="Time budget of one custom pattern on one string; "
                                                             "past it the field becomes [REDACTION_FAILED].")] = 100
    engine: Annotated[Literal["auto", "hyperscan", "re"],
                      Meta(description="Prefilter engine: hyperscan when installed (`auto`), or stdlib literals.")] = "auto"

    def __post_init__(self) -> None:
        if self.detectors != "all":
            unknown = sorted(set(self.detectors) - set(BUILTIN_NAMES))
            if unknown:
                raise ValueError(f"unknown detectors {unknown}; built-in: {list(BUILTIN_NAMES)}")
        names = set(self.enabled_detectors()) | {c.name for c in self.custom}
        for c in self.custom:
            if not _NAME.match(c.name):
                raise ValueError(f"custom detector name {c.name!r} must match {_NAME.pattern}")
            if c.name in BUILTIN_NAMES:
                raise ValueError(f"custom detector {c.name!r} has the name of a built-in detector")
            try:
                regex.compile(c.pattern)
            except regex.error as exc:
                raise ValueError(f"custom detector {c.name!r}: bad pattern: {exc}") from exc
        if len({c.name for c in self.custom}) != len(self.custom):
            raise ValueError("custom detector names must be unique")
        unknown_actions = sorted(set(self.actions) - names)
        if unknown_actions:
            raise ValueError(f"`actions` names detectors that are not enabled: {unknown_actions}")
        if "hash" in self.all_actions().values():
            if not (self.hash_key_env or self.hash_key_file):
                raise ValueError("the `hash` action needs a key: set `hash_key_env` or `hash_key_file`")
            if self.hash_key_env and self.hash_key_file:
                raise ValueError("set only one of `hash_key_env` and `hash_key_file`")
        if any(not re.fullmatch(r"[A-Z]{2}", r) for r in self.phone_regions):
            raise ValueError("`phone_regions` are two upper-case letters (ISO 3166 alpha-2), e.g. US")

    def enabled_detectors(self) -> list[str]:
        return list(BUILTIN_NAMES) if self.detectors == "all" else [d for d in BUILTIN_NAMES if d in self.detectors]

    def all_actions(self) -> dict[str, str]:
        """The action of every enabled detector, built-in and custom."""
        out = {d: self.actions.get(d, self.default_action) for d in self.enabled_detectors()}
        for c in self.custom:
            out[c.name] = self.actions.get(c.name, c.action or self.default_action)
        return out

    def load_hash_key(self) -> bytes:
        """The HMAC key from the environment or a file; ``BuildError`` when missing or too short."""
        if self.hash_key_env:
            raw = os.environ.get(self.hash_key_env, "").strip().encode()
            where = f"environment variable {self.hash_key_env}"
        else:
            assert self.hash_key_file is not None
            try:
                raw = Path(self.hash_key_file).read_bytes().strip()
            except OSError as exc:
                raise BuildError(f"redact: cannot read hash_key_file {self.hash_key_file}: {exc}") from exc
            where = f"hash_key_file {self.hash_key_file}"
        if len(raw) < MIN_KEY_BYTES:
            raise BuildError(f"redact: the hash key in {where} is missing or shorter than {MIN_KEY_BYTES} bytes")
        return raw

    def build(self, ctx: BuildContext) -> RedactTransform:
        actions = self.all_actions()
        pseudo = None
        if "hash" in actions.values():
            pseudo = Pseudonymizer(self.load_hash_key(), self.hash_key_id, self.hash_hex_chars)
        return RedactTransform(self, ctx.component_id, pseudo)


class RedactTransform(Transform):
    """Scans every event of a batch and replaces what the detectors find."""

    def __init__(self, config: RedactConfig, component_id: str, pseudonymizer: Pseudonymizer | None) -> None:
        enabled = config.enabled_detectors()
        self.scanner = Scanner(
            enabled, keep_loopback=config.keep_loopback, phone_regions=config.phone_regions,
            custom=[CustomPattern(c.name, c.pattern) for c in config.custom],
            custom_timeout_secs=config.custom_timeout_ms / 1000, engine=config.engine)
        actions = Actions(config.all_actions(), config.default_action, pseudonymizer)
        phone = PhoneValidator(config.phone_regions) if "phone" in enabled else None
        self.redactor = Redactor(self.scanner, actions, KeyRules(set(enabled), phone), config.fields,
                                 set(config.exclude_fields), on_timeout=self._on_timeout)
        self.tag_detectors = config.tag_detectors
        hits = counter("logferry_redact_hits_total", "Values the redact transform replaced, by detector.",
                       ("component_id", "detector"))
        self._hits = {d: hits.labels(component_id, d) for d in config.all_actions()}
        # Columnar batches (lines over common fields) are redacted without building events when the walk
        # of an event would touch nothing per line but ``message``: the default field choice.
        excluded = set(config.exclude_fields)
        self._columnar = (config.fields is None and "message" not in excluded and {"event.id", "tags"} <= excluded
                          and all(self.redactor.key_rules.detector_for(k) is None for k in _PER_LINE))
        self._clean_common: Event | None = None

    def _on_timeout(self, detector: str) -> None:
        if self.metrics is not None:
            self.metrics.error("redact_pattern_timeout")

    def process(self, batch: Batch) -> Batch | None:
        fired = self._process_columnar(batch) if self._columnar and not batch.materialized else None
        if fired is None:
            events = batch.events
            fired = self.redactor.redact_events(events)
            self._tag(events, fired)
        counts: dict[str, int] = {}
        for dets in fired.values():
            for d in dets:
                counts[d] = counts.get(d, 0) + 1
        for d, n in counts.items():
            self._hits[d].inc(n)
        return batch

    def _tag(self, events: list[Event], fired: dict[int, list[str]]) -> None:
        if self.tag_detectors:
            for i, dets in fired.items():
                tag_event(events[i], dets)

    def _process_columnar(self, batch: Batch) -> dict[int, list[str]] | None:
        """Redact a batch that is still lines over common fields without building its events.

        Only ``message`` differs between the events of such a batch, so the
        lines are scanned and the changed ones laid over the batch as new
        messages. ``None``: this batch needs its events built (common fields
        that would change).
        """
        if not self._common_is_clean(batch.common):
            return None
        laid_before = batch.line_fields()
        if laid_before is not None:
            return self._process_laid(batch, laid_before)
        results = self.redactor.redact_lines(batch.messages())
        fired = {i: list(dets) for i, (_, dets) in results.items() if dets}
        if not results:
            return fired
        if any(new is None for new, _ in results.values()):  # drop_field: a laid field cannot remove the message
            events = batch.events
            for i, (new, _) in results.items():
                if new is None:
                    events[i].pop("message", None)
                else:
                    events[i]["message"] = new
            self._tag(events, fired)
            return fired
        laid: list[Event | None] = [None] * len(batch)
        for i, (new, _) in results.items():
            laid[i] = {"message": new}
        tags = {i: tag_names(dets) for i, dets in fired.items()} if self.tag_detectors else None
        batch.set_line_fields(laid, tags, _MESSAGE_ONLY)
        return fired

    def _process_laid(self, batch: Batch, laid: list[Event | None]) -> dict[int, list[str]] | None:
        """Redact a columnar batch whose lines carry fields laid by an earlier transform (``parse``).

        The per-line part of each event is its message (the line, or a laid
        ``message``) and its laid fields: those are scanned and the changed
        keys laid again, in new dicts. ``None`` (events to be built) when a
        value is to be dropped: laying fields cannot remove one.
        """
        out = self.redactor.redact_laid(batch.messages(), laid)
        if out is None:
            return None
        changes, fired = out
        if not changes:
            return fired
        tags: dict[int, list[str]] | None = None
        if self.tag_detectors:
            tags = {}
            for i, dets in fired.items():
                f = laid[i]
                if f is not None and "tags" in f:
                    changes[i]["tags"] = tag_names(dets)  # merged after the laid tags, where the event path adds them
                else:
                    tags[i] = tag_names(dets)
        lay: list[Event | None] = [None] * len(laid)
        for i, new in changes.items():
            lay[i] = new
        batch.set_line_fields(lay, tags)
        return fired

    def _common_is_clean(self, common: Event) -> bool:
        """True when the redactor would change none of the fields every event of a columnar batch shares.

        The batches a source cuts from one read share one ``common`` dict: it is judged once (a reference
        is kept, so the identity test cannot be fooled by a reused id). The check runs on a deep copy and
        leaves ``common`` as it is.
        """
        if common is self._clean_common:
            return True
        probe = {k: v for k, v in common.items() if k not in _PER_LINE}
        before = copy.deepcopy(probe)
        if self.redactor.redact_events([probe]) or probe != before:
            return False
        self._clean_common = common
        return True
