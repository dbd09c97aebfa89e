"""The `trace_context` transform: put trace, span and request ids into ECS `trace.id`, `span.id`, `http.request.id`.

Where ids are found, in this order (the first hit wins per target field):

1. fields of the event (JSON payloads): a W3C ``traceparent`` field, then the configured
   ``trace_id_fields`` / ``span_id_fields`` / ``request_id_fields`` (OpenTelemetry's logging names
   ``otelTraceID``/``otelSpanID``, ``trace_id``, ``traceId``, ``request_id``, ``x-request-id`` ... by default);
2. the message (``message: true``): ``traceparent: 00-<trace>-<span>-01``, ``trace_id=...``,
   ``"spanId": "..."``, ``request_id=...``, ``X-Request-ID: ...`` and ``request <uuid>`` phrases.

Trace ids must be 32 (or 16, B3/Jaeger 64-bit) hex digits and span ids 16, not all zero; they are stored
lower case. Request ids are tokens of up to 128 characters. Existing target fields are kept unless
``overwrite: true``. Built-in patterns use the stdlib ``re`` module (hot path).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta

from logferry.agent.component import EventTransform
from logferry.agent.config.common import TransformConfig
from logferry.agent.event import Event
from logferry.transforms.fields import MISSING, FieldPath

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext

TRACE_ID = "trace.id"
SPAN_ID = "span.id"
REQUEST_ID = "http.request.id"

_TRACEPARENT = re.compile(r"\b[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}\b")
_HEX_TRACE = re.compile(r"(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{16})")
_HEX_SPAN = re.compile(r"[0-9a-fA-F]{16}")
_REQUEST_TOKEN = re.compile(r"[\w.:/+=-]{1,128}")

_SEP = r"""["']?\s*[=:]\s*["']?"""
_MSG_TRACEPARENT = re.compile(r"traceparent" + _SEP + r"([0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})\b",
                              re.IGNORECASE)
_MSG_TRACE = re.compile(r"\b(?:trace[_.-]?id|otelTraceID|x-b3-traceid)" + _SEP + r"([0-9a-fA-F]{32}|[0-9a-fA-F]{16})\b",
                        re.IGNORECASE)
_MSG_SPAN = re.compile(r"\b(?:span[_.-]?id|otelSpanID|x-b3-spanid)" + _SEP + r"([0-9a-fA-F]{16})\b", re.IGNORECASE)
_MSG_REQUEST = re.compile(
    r"\b(?:x-)?(?:request[_.-]?id|req[_.-]?id|correlation[_.-]?id)" + _SEP + r"([\w.:/+=-]{1,128}?)(?=[\s\"',;)\]}]|$)"
    r"|\brequest ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b",
    re.IGNORECASE)
_KEYWORDS = ("trace", "span", "req", "correlation", "b3")

DEFAULT_TRACE_FIELDS = ["trace_id", "traceId", "traceID", "otelTraceID", "trace.trace_id", "dd.trace_id_hex"]
DEFAULT_SPAN_FIELDS = ["span_id", "spanId", "spanID", "otelSpanID"]
DEFAULT_REQUEST_FIELDS = ["request_id", "requestId", "requestID", "x-request-id", "x_request_id", "req_id",
                          "correlation_id", "request.id"]
DEFAULT_TRACEPARENT_FIELDS = ["traceparent", "http.request.headers.traceparent", "headers.traceparent"]


def _valid_hex_id(value: Any, rx: re.Pattern[str]) -> str | None:
    if not isinstance(value, str) or not rx.fullmatch(value) or not value.strip("0"):
        return None
    return value.lower()


class TraceContextConfig(TransformConfig):
    traceparent_fields: Annotated[list[str], Meta(description=(
        "Fields that may hold a W3C `traceparent` header value."))] = msgspec.field(
        default_factory=lambda: list(DEFAULT_TRACEPARENT_FIELDS))
    trace_id_fields: Annotated[list[str], Meta(description="Fields that may hold a trace id.")] = msgspec.field(
        default_factory=lambda: list(DEFAULT_TRACE_FIELDS))
    span_id_fields: Annotated[list[str], Meta(description="Fields that may hold a span id.")] = msgspec.field(
        default_factory=lambda: list(DEFAULT_SPAN_FIELDS))
    request_id_fields: Annotated[list[str], Meta(description=(
        "Fields that may hold a request id (copied to `http.request.id`)."))] = msgspec.field(
        default_factory=lambda: list(DEFAULT_REQUEST_FIELDS))
    message: Annotated[bool, Meta(description="Also look for ids in the message text.")] = True
    overwrite: Annotated[bool, Meta(description="Replace `trace.id`/`span.id`/`http.request.id` already set.")] = False

    def __post_init__(self) -> None:
        for f in (*self.traceparent_fields, *self.trace_id_fields, *self.span_id_fields, *self.request_id_fields):
            FieldPath(f)

    def build(self, ctx: BuildContext) -> TraceContext:
        return TraceContext(self)


class TraceContext(EventTransform):
    def __init__(self, cfg: TraceContextConfig) -> None:
        self._traceparent = [FieldPath(f) for f in cfg.traceparent_fields]
        self._trace = [FieldPath(f) for f in cfg.trace_id_fields]
        self._span = [FieldPath(f) for f in cfg.span_id_fields]
        self._request = [FieldPath(f) for f in cfg.request_id_fields]
        self._message = cfg.message
        self._overwrite = cfg.overwrite

    def transform_event(self, event: Event) -> Event:
        found: dict[str, str] = {}
        if not self._overwrite:
            for key in (TRACE_ID, SPAN_ID, REQUEST_ID):
                if key in event:
                    found[key] = event[key]
        have = dict.fromkeys(found, True)
        self._from_fields(event, found)
        if self._message and len(found) < 3:
            msg = event.get("message")
            if isinstance(msg, str):
                self._from_message(msg, found)
        for key, value in found.items():
            if key not in have:
                event[key] = value
        return event

    def _from_fields(self, event: Event, found: dict[str, str]) -> None:
        if TRACE_ID not in found or SPAN_ID not in found:
            for path in self._traceparent:
                v = path.get(event)
                if isinstance(v, str) and (m := _TRACEPARENT.search(v.lower())):
                    found.setdefault(TRACE_ID, m.group(1))
                    found.setdefault(SPAN_ID, m.group(2))
                    break
        for target, paths, rx in ((TRACE_ID, self._trace, _HEX_TRACE), (SPAN_ID, self._span, _HEX_SPAN)):
            if target in found:
                continue
            for path in paths:
                if (ok := _valid_hex_id(path.get(event), rx)) is not None:
                    found[target] = ok
                    break
        if REQUEST_ID not in found:
            for path in self._request:
                v = path.get(event)
                if v is not MISSING and isinstance(v, (str, int)) and _REQUEST_TOKEN.fullmatch(str(v)):
                    found[REQUEST_ID] = str(v)
                    break

    @staticmethod
    def _from_message(msg: str, found: dict[str, str]) -> None:
        low = msg.lower()
        if not any(k in low for k in _KEYWORDS):
            return
        if TRACE_ID not in found or SPAN_ID not in found:
            if m := _MSG_TRACEPARENT.search(msg):
                tp = _TRACEPARENT.search(m.group(1).lower())
                if tp is not None and tp.group(1).strip("0") and tp.group(2).strip("0"):
                    found.setdefault(TRACE_ID, tp.group(1))
                    found.setdefault(SPAN_ID, tp.group(2))
        if TRACE_ID not in found and (m := _MSG_TRACE.search(msg)) and m.group(1).strip("0"):
            found[TRACE_ID] = m.group(1).lower()
        if SPAN_ID not in found and (m := _MSG_SPAN.search(msg)) and m.group(1).strip("0"):
            found[SPAN_ID] = m.group(1).lower()
        if REQUEST_ID not in found and (m := _MSG_REQUEST.search(msg)):
            found[REQUEST_ID] = m.group(1) or m.group(2)
