"""The redact transform end to end: config checks, actions, key rules, nested fields, metrics, tags, pseudonyms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from logferry.agent.component import BuildContext
from logferry.agent.errors import BuildError
from logferry.agent.event import Batch
from logferry.agent.telemetry import REGISTRY, ComponentMetrics
from logferry.transforms.redact.actions import Pseudonymizer
from logferry.transforms.redact.transform import RedactConfig, RedactTransform

KEY = "0123456789abcdef-test-key"
CARD = "4111 1111 1111 1111"


def _config(**kw: Any) -> RedactConfig:
    return msgspec.convert({"type": "redact", "inputs": ["src"], **kw}, RedactConfig)


def _build(tmp_path: Path, cid: str = "scrub", **kw: Any) -> RedactTransform:
    ctx = BuildContext(cid, tmp_path, "host-a", ComponentMetrics(cid, "transform", "redact"))
    return _config(**kw).build(ctx)


def _run(t: RedactTransform, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = t.process(Batch.from_events(events))
    assert out is not None
    return out.events


class TestConfig:
    def test_unknown_detector_rejected(self) -> None:
        """A detector name that does not exist is a config error."""
        with pytest.raises(msgspec.ValidationError, match="unknown detectors"):
            _config(detectors=["email", "dna"])

    def test_hash_needs_key_source(self) -> None:
        """The hash action without hash_key_env/hash_key_file is a config error at load."""
        with pytest.raises(msgspec.ValidationError, match="needs a key"):
            _config(actions={"email": "hash"})

    def test_missing_key_is_build_error(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An empty key variable or an unreadable key file fails the build, not the first event."""
        monkeypatch.delenv("REDACT_TEST_KEY", raising=False)
        with pytest.raises(BuildError, match="missing or shorter"):
            _build(tmp_path, actions={"email": "hash"}, hash_key_env="REDACT_TEST_KEY")
        with pytest.raises(BuildError, match="cannot read"):
            _build(tmp_path, actions={"email": "hash"}, hash_key_file=str(tmp_path / "nope"))

    def test_bad_custom_pattern(self) -> None:
        """A custom pattern that does not compile is a config error naming the detector."""
        with pytest.raises(msgspec.ValidationError, match="employee_id"):
            _config(custom=[{"name": "employee_id", "pattern": "EMP-("}])


class TestActions:
    def test_mask_default(self, tmp_path: Path) -> None:
        """By default every finding in the message becomes its [LABEL]."""
        (ev,) = _run(_build(tmp_path), [{"message": f"user=ada@example.com card={CARD} from 10.1.2.3:8080"}])
        assert ev["message"] == "user=[EMAIL] card=[CREDIT_CARD] from [IPV4]:8080"

    def test_partial_keeps_last_four(self, tmp_path: Path) -> None:
        """The partial action keeps a card's last 4 digits and its separators."""
        (ev,) = _run(_build(tmp_path, actions={"credit_card": "partial"}), [{"message": f"card {CARD}"}])
        assert ev["message"] == "card **** **** **** 1111"

    def test_hash_is_keyed_and_stable(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Same value, same pseudonym (case of the e-mail ignored); the key id is in the token."""
        monkeypatch.setenv("REDACT_TEST_KEY", KEY)
        t = _build(tmp_path, actions={"email": "hash"}, hash_key_env="REDACT_TEST_KEY", hash_key_id="2026a")
        a, b, c = _run(t, [{"message": "u=Ada@Example.com"}, {"message": "to ada@example.com"},
                           {"message": "to bob@example.com"}])
        token = a["message"][2:]
        assert token.startswith("[EMAIL:2026a:") and len(token) == len("[EMAIL:2026a:]") + 16
        assert b["message"] == f"to {token}"
        assert c["message"] != f"to {token}"

    def test_hash_identical_across_processes(self, tmp_path: Path) -> None:
        """A second Python process with the same key file produces the same pseudonym."""
        key_file = tmp_path / "key"
        key_file.write_text(KEY + "\n")
        here = Pseudonymizer(KEY.encode(), "k1").token("email", "ada@example.com")
        code = ("from logferry.transforms.redact.actions import Pseudonymizer; from pathlib import Path; "
                f"print(Pseudonymizer(Path({str(key_file)!r}).read_bytes().strip(), 'k1').token('email', 'ada@example.com'))")
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
        assert other.stdout.strip() == here

    def test_drop_field(self, tmp_path: Path) -> None:
        """drop_field removes the field holding the finding and leaves the others."""
        (ev,) = _run(_build(tmp_path, actions={"ssn": "drop_field"}),
                     [{"message": "ok", "note": "ssn 219-45-6789", "other": "fine"}])
        assert ev == {"message": "ok", "other": "fine"}


class TestFields:
    def test_nested_and_key_rules(self, tmp_path: Path) -> None:
        """Nested dicts and lists are walked; ssn, name, password and phone keys are judged by name."""
        ev = {"message": "x", "json": {"customer": {"first_name": "Ada", "ssn": 219456789, "model": {"name": "resnet50"}},
                                        "password": "hunter2", "emails": ["a@example.com", "fine"],
                                        "phone": "4155552671"}}
        (out,) = _run(_build(tmp_path), [ev])
        j = out["json"]
        assert j["customer"] == {"first_name": "[PERSON_NAME]", "ssn": "[SSN]", "model": {"name": "resnet50"}}
        assert j["password"] == "[PASSWORD]" and j["emails"] == ["[EMAIL]", "fine"] and j["phone"] == "[PHONE]"

    def test_only_chosen_fields(self, tmp_path: Path) -> None:
        """With `fields` set, only those (flat or nested paths) are scanned."""
        (ev,) = _run(_build(tmp_path, fields=["message", "json.user.email"]),
                     [{"message": "a@example.com", "other": "b@example.com", "json": {"user": {"email": "c@example.com"}}}])
        assert ev == {"message": "[EMAIL]", "other": "b@example.com", "json": {"user": {"email": "[EMAIL]"}}}

    def test_excluded_core_fields_untouched(self, tmp_path: Path) -> None:
        """@timestamp, event.id and tags are never rewritten."""
        ev = {"message": "m", "@timestamp": "2026-11-20T10:00:00Z", "event.id": "ab12", "tags": ["a@example.com"]}
        (out,) = _run(_build(tmp_path), [dict(ev)])
        assert out == ev

    def test_columnar_batch(self, tmp_path: Path) -> None:
        """Batches read from files (lines + common fields) are redacted in message and common fields."""
        b = Batch.from_lines(["from 203.0.113.9", "nothing here"], {"host.name": "node-1", "user.email": "x@example.org"})
        out = _build(tmp_path).process(b)
        assert out is not None
        assert [e["message"] for e in out.events] == ["from [IPV4]", "nothing here"]
        assert all(e["user.email"] == "[EMAIL]" for e in out.events)


class TestObservability:
    def test_hit_counter_per_detector(self, tmp_path: Path) -> None:
        """logferry_redact_hits_total counts findings per detector and component."""
        t = _build(tmp_path, cid="scrub-metrics")
        _run(t, [{"message": "a@example.com b@example.com"}, {"message": f"{CARD}"}])
        get = REGISTRY.get_sample_value
        assert get("logferry_redact_hits_total", {"component_id": "scrub-metrics", "detector": "email"}) == 2
        assert get("logferry_redact_hits_total", {"component_id": "scrub-metrics", "detector": "credit_card"}) == 1

    def test_tags_name_detectors_not_values(self, tmp_path: Path) -> None:
        """tag_detectors adds redacted:<detector> tags once each, never the value."""
        (ev,) = _run(_build(tmp_path, tag_detectors=True), [{"message": "a@example.com b@example.com", "tags": ["t"]}])
        assert ev["tags"] == ["t", "redacted:email"]

    def test_custom_detector_in_config(self, tmp_path: Path) -> None:
        """A custom detector from the config is applied with its own action and label."""
        t = _build(tmp_path, custom=[{"name": "employee_id", "pattern": r"EMP-\d{6}", "action": "partial"}])
        (ev,) = _run(t, [{"message": "by EMP-123456"}])
        assert ev["message"] == "by ***-**3456"

    def test_custom_timeout_fails_closed(self, tmp_path: Path) -> None:
        """A custom pattern that times out replaces the field with [REDACTION_FAILED]."""
        t = _build(tmp_path, custom=[{"name": "evil", "pattern": r"(?:a|aa)+$"}], custom_timeout_ms=10)
        (ev,) = _run(t, [{"message": "a" * 30 + "!"}])
        assert ev["message"] == "[REDACTION_FAILED]"


class TestBatches:
    def test_common_fields_every_event(self, tmp_path: Path) -> None:
        """A value every event of a file batch shares is redacted in each event, in this batch and the next."""
        t = _build(tmp_path, cid="scrub-common")
        for _ in range(2):  # the second batch is served from the memo
            b = Batch.from_lines(["a", "b from 10.9.8.7", "c"], {"host.name": "node-1", "user.email": "x@example.org"})
            out = t.process(b)
            assert out is not None
            assert [e["user.email"] for e in out.events] == ["[EMAIL]"] * 3
            assert [e["message"] for e in out.events] == ["a", "b from [IPV4]", "c"]
            assert all(e["host.name"] == "node-1" for e in out.events)
        get = REGISTRY.get_sample_value
        assert get("logferry_redact_hits_total", {"component_id": "scrub-common", "detector": "email"}) == 6

    def test_repeated_values_scanned_once(self, tmp_path: Path) -> None:
        """Repeated short values go to the scanner once per batch and not again in the next batch."""
        t = _build(tmp_path)
        seen: list[list[str]] = []
        find_flagged = t.scanner.find_flagged

        def recording(texts: list[str]):  # type: ignore[no-untyped-def]
            seen.append(list(texts))
            return find_flagged(texts)

        t.scanner.find_flagged = recording  # type: ignore[method-assign]
        events = [{"message": f"m{i} bob@example.com", "svc": "billing-api", "owner": "ada@example.com"} for i in range(3)]
        out = _run(t, events)
        assert [e["owner"] for e in out] == ["[EMAIL]"] * 3 and [e["svc"] for e in out] == ["billing-api"] * 3
        assert sorted(seen[0]) == sorted(["ada@example.com", "billing-api"] + [f"m{i} bob@example.com" for i in range(3)])
        _run(t, [{"message": "m9", "svc": "billing-api", "owner": "ada@example.com"}])
        assert len(seen) == 1  # no scan at all: m9 is shorter than any finding, the others come from the memo

    def test_drops_in_lists_and_dicts(self, tmp_path: Path) -> None:
        """drop_field removes a list item or a dict key that holds a finding and keeps every other value."""
        t = _build(tmp_path, actions={"email": "drop_field"})
        ev = {"message": "ok", "json": {"to": ["a@example.com", "fine", ["b@example.org", "x"]], "cc": "c@example.net",
                                        "n": 1}}
        (out,) = _run(t, [ev])
        assert out["json"] == {"to": ["fine", ["x"]], "n": 1}

    def test_unchanged_events_untouched_and_untagged(self, tmp_path: Path) -> None:
        """Events without findings keep their very string objects and get no tags; others get theirs."""
        msg = "nothing to see here"
        a, b = _run(_build(tmp_path, tag_detectors=True), [{"message": msg}, {"message": "ip 10.1.2.3"}])
        assert a["message"] is msg and "tags" not in a
        assert b["tags"] == ["redacted:ipv4"]


def _file_common() -> dict[str, Any]:
    return {"host.name": "gpu-node-7", "log.file.path": "/var/log/serve.log", "tags": ["src"]}


class TestColumnar:
    def _pair(self, tmp_path: Path, lines: list[str], **kw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        """(events of the columnar batch after redaction, events built first then redacted, stayed columnar)."""
        line_tags = {0: ["_line_truncated"], 3: ["_multiline"]}
        columnar = Batch.from_lines(list(lines), _file_common(), line_tags=line_tags)
        built = Batch.from_lines(list(lines), _file_common(), line_tags=line_tags)
        built.events  # noqa: B018  # builds the events: the transform takes its event path
        a, b = _build(tmp_path, **kw).process(columnar), _build(tmp_path, **kw).process(built)
        assert a is not None and b is not None
        stayed = not a.materialized
        return a.events, b.events, stayed

    def test_same_events_as_the_event_path(self, tmp_path: Path) -> None:
        """A batch of lines redacted without building its events ends up equal to one redacted as events, tags too."""
        from tests.transforms.redact.corpus import mixed

        lines = [c.line for c in mixed(3000, 11, 0.3)]
        got, want, stayed = self._pair(tmp_path, lines, tag_detectors=True)
        assert stayed
        assert got == want
        assert sum(e["message"] != line for e, line in zip(got, lines)) > 500

    def test_drop_field_removes_the_message(self, tmp_path: Path) -> None:
        """drop_field on a line of a columnar batch removes that event's message and keeps the other events."""
        lines = ["mail ada@example.com", "nothing to see", "again bob@example.org", "fine", "x"]
        got, want, _ = self._pair(tmp_path, lines, actions={"email": "drop_field"}, tag_detectors=True)
        assert got == want
        assert "message" not in got[0] and got[1]["message"] == "nothing to see"
        assert got[2]["tags"] == ["src", "redacted:email"] and got[1]["tags"] == ["src"]

    def test_common_fields_left_alone(self, tmp_path: Path) -> None:
        """A common field with a finding is redacted in the events while the source's common dict stays as it was."""
        common = {"host.name": "node-1", "user.email": "x@example.org"}
        b = Batch.from_lines(["from 203.0.113.9", "nothing"], common)
        out = _build(tmp_path).process(b)
        assert out is not None
        assert [(e["message"], e["user.email"]) for e in out.events] == [("from [IPV4]", "[EMAIL]"), ("nothing", "[EMAIL]")]
        assert common == {"host.name": "node-1", "user.email": "x@example.org"}

    def test_laid_fields_are_scanned(self, tmp_path: Path) -> None:
        """Fields an earlier transform laid over the lines are redacted like fields of built events."""
        b = Batch.from_lines(["a", "from 10.9.8.7"], {"host.name": "node-1"})
        b.set_line_fields([{"json.email": "ada@example.com"}, None])
        out = _build(tmp_path).process(b)
        assert out is not None
        assert [(e.get("json.email"), e["message"]) for e in out.events] == [("[EMAIL]", "a"), (None, "from [IPV4]")]

    def test_tags_not_shared_between_events(self, tmp_path: Path) -> None:
        """Events that share one tags list (built from one batch) get detector tags only where something fired."""
        shared = ["src"]
        a, b = _run(_build(tmp_path, tag_detectors=True),
                    [{"message": "ip 10.1.2.3", "tags": shared}, {"message": "nothing", "tags": shared}])
        assert a["tags"] == ["src", "redacted:ipv4"] and b["tags"] == ["src"] and shared == ["src"]
