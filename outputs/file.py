"""``file`` output: NDJSON (or text) files whose path may depend on the event.

``path`` may hold strftime codes, applied to the event's ``@timestamp``, and
``{field.name}`` placeholders filled from the event (``/`` in values becomes
``_`` so a value cannot escape the directory). Acks settle after the bytes
are written and flushed to the kernel (and fsynced with ``fsync: true``).
"""

from __future__ import annotations

import gzip
import os
import re
import time
from collections import OrderedDict
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from msgspec import Meta

from logferry.agent.component import BuildContext, Output, OutputContext
from logferry.agent.config.common import OutputConfig
from logferry.agent.event import Batch, Event
from logferry.outputs.encoding import Encoder, EncodingConfig
from logferry.outputs.write_behind import WriteBehind, on_written

_FIELD = re.compile(r"\{([A-Za-z0-9_@.\-]+)\}")
_MAX_OPEN_FILES = 64


class FileOutputConfig(OutputConfig):
    path: Annotated[str, Meta(min_length=1, description="File path; strftime codes and {field} placeholders allowed.")]
    encoding: EncodingConfig = EncodingConfig()
    compression: Annotated[Literal["none", "gzip"], Meta(description="gzip appends one member per write.")] = "none"
    fsync: Annotated[bool, Meta(description="fsync after every write before acknowledging.")] = False

    def __post_init__(self) -> None:
        try:
            time.strftime(self.path, time.gmtime(0))
        except ValueError as exc:
            raise ValueError(f"path: invalid strftime code: {exc}") from None

    def build(self, ctx: BuildContext) -> Output:
        return FileOutput(self)


class PathTemplate:
    """Renders an output path per event; static templates cost nothing per event."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.fields = _FIELD.findall(template)
        self.uses_time = "%" in _FIELD.sub("", template)
        self.static = not self.fields and not self.uses_time
        self._time_cache: dict[str, str] = {}

    def render(self, event: Event) -> str:
        text = self.template
        if self.uses_time:
            ts = event.get("@timestamp")
            key = ts[:19] if isinstance(ts, str) else ""
            cached = self._time_cache.get(key)
            if cached is None:
                if len(self._time_cache) > 4096:
                    self._time_cache.clear()
                cached = self._time_cache[key] = time.strftime(_FIELD.sub(_protect, text), _parse_ts(key))
            text = cached
        if self.fields:
            text = _FIELD.sub(lambda m: _field_text(event, m.group(1)), _unprotect(text))
        return text

    def group(self, batch: Batch) -> dict[str, list[Event]] | None:
        """Events per rendered path, or ``None`` when the template is static."""
        if self.static:
            return None
        groups: dict[str, list[Event]] = {}
        for e in batch.events:
            groups.setdefault(self.render(e), []).append(e)
        return groups


def _protect(m: re.Match[str]) -> str:
    # Keep {field} placeholders away from strftime, which would expand % inside them.
    return "\x02" + m.group(1) + "\x03"


def _unprotect(text: str) -> str:
    return text.replace("\x02", "{").replace("\x03", "}")


def _parse_ts(prefix: str) -> time.struct_time:
    try:
        return time.strptime(prefix, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return time.gmtime()


def _field_text(event: Event, name: str) -> str:
    value: Any = event.get(name)
    if value is None and "." in name:
        node: Any = event
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        value = node
    if value is None:
        return "unknown"
    return str(value).replace("/", "_").replace("\x00", "") or "unknown"


class FileOutput(Output):
    def __init__(self, cfg: FileOutputConfig) -> None:
        self.cfg = cfg
        self.encoder = Encoder(cfg.encoding)
        self.template = PathTemplate(cfg.path)
        self._files: OrderedDict[str, IO[bytes]] = OrderedDict()

    async def run(self, ctx: OutputContext) -> None:
        writer = WriteBehind(self._write_round, name=f"file-output-{ctx.component_id}")
        try:
            async for batch in ctx.inbox:
                groups = self.template.group(batch)
                if groups is None:
                    writes = [(self.cfg.path, self.encoder.encode(batch))]
                else:
                    writes = [(p, self.encoder.encode_events(evs)) for p, evs in groups.items()]
                # Written behind on the writer thread; only the count and the ack wait, not the events.
                await writer.submit(writes, on_written(ctx, batch))
            await writer.drain()
        finally:
            await writer.close(self._close_all)

    def _write_round(self, writes: list[tuple[str, bytes]]) -> None:
        """One round of the writer thread: each file written once, flushed (and fsynced) once."""
        by_path: dict[str, list[bytes]] = {}
        for path, data in writes:
            by_path.setdefault(path, []).append(data)
        for path, parts in by_path.items():
            f = self._open(path)
            if isinstance(f, gzip.GzipFile):
                for data in parts:
                    f.write(data)
            else:
                f.write(parts[0] if len(parts) == 1 else b"".join(parts))
            f.flush()
            if self.cfg.fsync:
                raw = f.fileobj if isinstance(f, gzip.GzipFile) else f  # type: ignore[attr-defined]
                raw.flush()
                os.fsync(raw.fileno())

    def _open(self, path: str) -> IO[bytes]:
        f = self._files.get(path)
        if f is not None:
            self._files.move_to_end(path)
            return f
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if self.cfg.compression == "gzip":
            f = _SyncFlushGzip(path)
        else:
            f = open(path, "ab")  # noqa: SIM115 - kept open across batches, closed in _close_all
        self._files[path] = f
        while len(self._files) > _MAX_OPEN_FILES:
            _, old = self._files.popitem(last=False)
            old.close()
        return f

    def _close_all(self) -> None:
        while self._files:
            _, f = self._files.popitem()
            f.close()


class _SyncFlushGzip(gzip.GzipFile):
    """A gzip file whose ``flush`` makes everything written so far decodable (Z_SYNC_FLUSH)."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "ab")

    def flush(self, zlib_mode: int = 2) -> None:  # zlib.Z_SYNC_FLUSH
        super().flush(zlib_mode)
