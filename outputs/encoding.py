"""Encoding events for line-oriented outputs (console, file): NDJSON or plain text."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from logferry.agent.config.common import Strict
from logferry.agent.event import Batch, Event


class EncodingConfig(Strict):
    codec: Annotated[Literal["ndjson", "text"],
                     Meta(description="`ndjson`: one JSON object per line; `text`: the `message` only.")] = "ndjson"
    nested: Annotated[bool, Meta(description="NDJSON: expand dotted keys into nested objects.")] = False
    only_fields: Annotated[list[str] | None, Meta(description="NDJSON: keep just these fields.")] = None
    except_fields: Annotated[list[str] | None, Meta(description="NDJSON: leave these fields out.")] = None


def expand_dots(event: Event) -> dict[str, Any]:
    """``{"log.level": "info"}`` -> ``{"log": {"level": "info"}}``; a clash keeps the dotted key."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if "." not in key or key.startswith("@"):
            out[key] = value
            continue
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.get(p)
            if nxt is None:
                nxt = node[p] = {}
            elif not isinstance(nxt, dict):
                out[key] = value
                break
            node = nxt
        else:
            node[parts[-1]] = value
    return out


class Encoder:
    """Turns a batch into bytes; built once per output."""

    def __init__(self, cfg: EncodingConfig) -> None:
        self.cfg = cfg
        self._json = msgspec.json.Encoder()
        self._only = cfg.only_fields
        self._except = frozenset(cfg.except_fields or ())

    def encode(self, batch: Batch) -> bytes:
        if self.cfg.codec == "text":
            msgs = batch.messages()
            return ("\n".join(msgs) + "\n").encode("utf-8", "surrogateescape") if msgs else b""
        if self._only is not None and not self.cfg.nested:
            # Straight from a columnar batch's lines and parsed fields: full events are never built.
            return self._json.encode_lines(batch.project(self._only))
        return self.encode_events(batch.events)

    def encode_events(self, events: list[Event]) -> bytes:
        if self._only is not None:
            only = self._only
            events = [{k: e[k] for k in only if k in e} for e in events]
        elif self._except:
            drop = self._except
            events = [{k: v for k, v in e.items() if k not in drop} for e in events]
        if self.cfg.nested:
            events = [expand_dots(e) for e in events]
        return self._json.encode_lines(events)
