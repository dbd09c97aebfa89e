"""The trace_context transform: trace, span and request ids into ECS fields."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from logferry.transforms.parse.ml import parse_vllm
from logferry.transforms.trace_context import TraceContextConfig
from tests.transforms.util import build, decode, run

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
DATA = Path(__file__).resolve().parents[1] / "data" / "ml"


def apply(event: dict[str, object], **cfg: object) -> dict[str, object]:
    t = build(decode(TraceContextConfig, {"type": "trace_context", **cfg}))
    return run(t, [event])[0]


class TestFromFields:
    def test_traceparent_field(self) -> None:
        """A W3C traceparent value in a field gives trace.id and span.id."""
        out = apply({"traceparent": f"00-{TRACE}-{SPAN}-01"})
        assert (out["trace.id"], out["span.id"]) == (TRACE, SPAN)

    def test_nested_json_fields(self) -> None:
        """OpenTelemetry-style nested JSON ids and a request id are copied, trace ids lower-cased."""
        out = apply({"otelTraceID": TRACE.upper(), "spanId": SPAN, "request": {"id": "req-42"}})
        assert (out["trace.id"], out["span.id"], out["http.request.id"]) == (TRACE, SPAN, "req-42")

    def test_invalid_ids_are_ignored(self) -> None:
        """All-zero or non-hex ids are not taken as trace ids."""
        out = apply({"trace_id": "0" * 32, "span_id": "not-hex-at-all!!"}, message=False)
        assert "trace.id" not in out and "span.id" not in out

    def test_existing_ecs_fields_are_kept(self) -> None:
        """Without overwrite, a trace.id already set wins over a found one."""
        out = apply({"trace.id": "a" * 32, "trace_id": TRACE})
        assert out["trace.id"] == "a" * 32


class TestFromMessage:
    def test_key_value_pairs_in_text(self) -> None:
        """trace_id=, span_id= and request_id= pairs in the message are found."""
        out = apply({"message": f"handled trace_id={TRACE} span_id={SPAN} request_id=abc-123 in 4ms"})
        assert (out["trace.id"], out["span.id"], out["http.request.id"]) == (TRACE, SPAN, "abc-123")

    def test_traceparent_header_and_json_text(self) -> None:
        """A logged traceparent header and a JSON-style "requestId" are found."""
        out = apply({"message": f'headers: traceparent: 00-{TRACE}-{SPAN}-01, "requestId": "r-9"'})
        assert (out["trace.id"], out["span.id"], out["http.request.id"]) == (TRACE, SPAN, "r-9")

    def test_message_scan_can_be_turned_off(self) -> None:
        """With message: false the text is not searched."""
        assert "trace.id" not in apply({"message": f"trace_id={TRACE}"}, message=False)

    def test_vllm_router_request_uuid(self) -> None:
        """The vLLM router's 'Routing request <uuid>' line yields http.request.id."""
        line = (DATA / "vllm_router_excerpt.log").read_text(encoding="utf-8").split("\n")[12]
        event = {"message": line, **(parse_vllm(line) or {})}
        out = apply(event)
        assert out["http.request.id"] == "fc469bec-b78e-4e99-acf5-cc23d104b89b"

    def test_plain_text_is_untouched(self) -> None:
        """A message without any id keyword gets no fields."""
        assert apply({"message": "Torch worker started."}) == {"message": "Torch worker started."}


class TestTraceContextConfig:
    def test_bad_field_path(self) -> None:
        """A malformed field path in the lists is a config error."""
        with pytest.raises(msgspec.ValidationError, match="invalid field path"):
            decode(TraceContextConfig, {"type": "trace_context", "trace_id_fields": ["a..b"]})
