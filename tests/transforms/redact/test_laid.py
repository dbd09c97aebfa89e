"""The redact transform on columnar batches whose lines carry fields laid by ``parse``: same results as events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from logferry.agent.component import BuildContext
from logferry.agent.event import Batch
from logferry.agent.telemetry import REGISTRY, ComponentMetrics
from logferry.transforms.parse.transform import ParseConfig
from logferry.transforms.redact.detectors import BUILTIN_NAMES
from logferry.transforms.redact.transform import RedactConfig, RedactTransform
from tests.transforms.redact.corpus import mixed

# Lines whose PII lands in parsed fields, nested ones too, and under name-like, password and excluded keys.
_STRUCTURED = [
    json.dumps({"msg": "login ok", "user": {"email": "ada@example.com", "first_name": "Ada", "ssn": 219456789,
                                            "model": {"name": "resnet50"}}, "peers": ["10.1.2.3", "fine", ["b@ex.org"]]}),
    json.dumps({"message": "mail to bob@example.org", "password": "hunter2", "customer_name": "Grace Hopper",
                "tags": ["from-json"], "event.id": "keep-me@example.com", "phone": "4155552671"}),
    json.dumps({"message": "nothing here", "note": "card 4111 1111 1111 1111", "n": 3}),
    "ts=2026-11-20T09:00:00Z level=info msg=\"sent to carol@example.net\" client=203.0.113.9 api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "ts=2026-11-20T09:00:01Z level=warn msg=plain user_name=resnet50 name=\"Alan Turing\" password=changeme",
    "plain text with dave@example.com and no structure",
    "short",
]


def _parse(formats: list[Any]):  # type: ignore[no-untyped-def]
    cfg = msgspec.convert({"type": "parse", "inputs": ["src"], "formats": formats}, ParseConfig)
    return cfg.build(BuildContext("parse", Path("/tmp"), "host-a", ComponentMetrics("parse", "transform", "parse")))


def _redact(cid: str, **kw: Any) -> RedactTransform:
    cfg = msgspec.convert({"type": "redact", "inputs": ["src"], **kw}, RedactConfig)
    return cfg.build(BuildContext(cid, Path("/tmp"), "host-a", ComponentMetrics(cid, "transform", "redact")))


def _parsed_batches(lines: list[str], formats: list[Any], n: int = 2) -> list[Batch]:
    """``n`` independent columnar batches of one ``parse`` run over ``lines`` (one run: same fill-in times).

    The copies are deep copies of the whole batch, so each still owes the failure tags of its
    unmatched lines as ``parse`` left them (reading ``line_tags`` would settle them).
    """
    common = {"host.name": "gpu-node-7", "log.file.path": "/var/log/serve.log", "tags": ["src"]}
    b = _parse(formats).process(Batch.from_lines(list(lines), common, line_tags={0: ["_line_truncated"]}))
    assert b is not None and not b.materialized and b.line_fields() is not None
    return [b] + [copy.deepcopy(b) for _ in range(n - 1)]


def _hits(cid: str) -> dict[str, float]:
    return {d: REGISTRY.get_sample_value("logferry_redact_hits_total", {"component_id": cid, "detector": d}) or 0.0
            for d in BUILTIN_NAMES}


class TestLaidFields:
    def _both(self, lines: list[str], formats: list[Any], cid: str,
              **kw: Any) -> tuple[bool, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """(stayed columnar, the columnar batch's events after redaction, those of the same batch built first,
        the parsed events before redaction)."""
        columnar, built, reference = _parsed_batches(lines, formats, 3)
        built.events  # noqa: B018  # builds the events: the transform takes its event path
        a = _redact(f"{cid}-columnar", **kw).process(columnar)
        b = _redact(f"{cid}-events", **kw).process(built)
        assert a is not None and b is not None
        stayed = not a.materialized
        return stayed, a.events, b.events, reference.events

    @pytest.mark.parametrize("formats", [["auto"], ["logfmt", "json"]], ids=["auto", "logfmt-json"])
    def test_parsed_corpus_same_as_event_path(self, formats: list[Any]) -> None:
        """A parsed batch redacted without building its events ends up with the event path's events, tags and hit counts."""
        lines = [c.line for c in mixed(3000, 7, 0.3)] + _STRUCTURED * 20
        cid = "laid-" + "-".join(formats)
        stayed, got, want, parsed = self._both(lines, formats, cid, tag_detectors=True)
        assert stayed
        assert got == want
        assert _hits(f"{cid}-columnar") == _hits(f"{cid}-events")
        changed_fields = sum(1 for e, p in zip(got, parsed) for k in p if k not in ("message", "tags") and e.get(k) != p[k])
        assert changed_fields > 100  # PII in parsed fields, not only in messages, was redacted
        assert sum(e.get("message") != p.get("message") for e, p in zip(got, parsed)) > 500

    def test_stays_columnar(self) -> None:
        """A parsed batch is redacted without building its events (the fast path is taken)."""
        (b,) = _parsed_batches(_STRUCTURED, ["auto"], 1)
        out = _redact("laid-stays").process(b)
        assert out is not None and not out.materialized
        assert out.events[0]["user"]["email"] == "[EMAIL]"

    def test_laid_dicts_left_as_they_were(self) -> None:
        """The laid dicts, nested values included, are not changed: a copy of the batch taken before keeps its PII."""
        (b,) = _parsed_batches(_STRUCTURED, ["auto"], 1)
        before = copy.deepcopy(b.line_fields())
        twin = b.copy()
        out = _redact("laid-untouched").process(b)
        assert out is not None
        assert twin.line_fields() == before
        assert twin.events[0]["user"] == {"email": "ada@example.com", "first_name": "Ada", "ssn": 219456789,
                                          "model": {"name": "resnet50"}}
        assert out.events[0]["user"] == {"email": "[EMAIL]", "first_name": "[PERSON_NAME]", "ssn": "[SSN]",
                                         "model": {"name": "resnet50"}}
        assert out.events[0]["peers"] == ["[IPV4]", "fine", ["[EMAIL]"]]

    def test_key_rules_and_excluded_fields(self) -> None:
        """Password and name-like laid keys are judged by name; event.id and tags laid by parse are never rewritten."""
        _, got, want, _ = self._both(_STRUCTURED, ["auto"], "laid-keys", tag_detectors=True)
        assert got == want
        ev = got[1]
        assert ev["password"] == "[PASSWORD]" and ev["customer_name"] == "[PERSON_NAME]" and ev["phone"] == "[PHONE]"
        assert ev["event.id"] == "keep-me@example.com" and ev["message"] == "mail to [EMAIL]"
        assert "from-json" in ev["tags"] and "redacted:email" in ev["tags"]

    def test_laid_tags_then_detector_tags(self) -> None:
        """Detector tags come after tags laid with the fields, as on built events."""
        def batch() -> Batch:
            b = Batch.from_lines(["ip 10.1.2.3", "fine line", "x"], {"host.name": "n", "tags": ["src"]},
                                 line_tags={0: ["_multiline"], 1: ["_multiline"]})
            b.set_line_fields([{"tags": ["laid"], "who": "ada@example.com"}, {"tags": ["laid"]}, None])
            return b

        a, b = batch(), batch()
        b.events  # noqa: B018
        got = _redact("laid-tags-a", tag_detectors=True).process(a)
        want = _redact("laid-tags-b", tag_detectors=True).process(b)
        assert got is not None and want is not None
        assert got.events == want.events
        assert got.events[0]["tags"] == ["src", "_multiline", "laid", "redacted:email", "redacted:ipv4"]

    def test_owed_parse_failure_tags(self) -> None:
        """Lines parse left unmatched keep their owed failure tag, before the detector tags, as on built events."""
        lines = ["plain text with dave@example.com and no structure", "no structure and nothing to redact",
                 *_STRUCTURED[:2]]
        columnar, built = _parsed_batches(lines, ["auto"], 2)
        assert columnar._unmatched == ["_parse_failure"]  # the tags are still owed, not yet in line_tags
        built.events  # noqa: B018  # builds the events: the transform takes its event path
        got = _redact("laid-owed-a", tag_detectors=True).process(columnar)
        want = _redact("laid-owed-b", tag_detectors=True).process(built)
        assert got is not None and want is not None and not got.materialized
        assert got.line_tags[0] == ["_line_truncated", "_parse_failure", "redacted:email"]
        assert got.line_tags[1] == ["_parse_failure"]
        assert got.events == want.events
        assert got.events[0]["tags"] == ["src", "_line_truncated", "_parse_failure", "redacted:email"]
        assert got.events[0]["message"] == "plain text with [EMAIL] and no structure"
        assert got.events[1]["tags"] == ["src", "_parse_failure"]
        assert "_parse_failure" not in got.events[2]["tags"] and "redacted:email" in got.events[2]["tags"]

    def test_drop_field_on_laid_field(self) -> None:
        """drop_field on a laid field removes it from that event, as on built events."""
        _, got, want, _ = self._both(_STRUCTURED, ["auto"], "laid-drop", actions={"email": "drop_field"})
        assert got == want
        assert "email" not in got[0]["user"] and got[0]["peers"] == ["[IPV4]", "fine", []]
