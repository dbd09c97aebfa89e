"""Component type name -> config class, imported lazily.

The core names concrete components only as ``"module:Class"`` strings, so
``logferry.agent`` never imports an output or a transform at import time.
"""

from __future__ import annotations

import importlib
from typing import Literal

from logferry.agent.config.common import ComponentConfig

Kind = Literal["sources", "transforms", "outputs"]
KINDS: tuple[Kind, ...] = ("sources", "transforms", "outputs")  # the config file's sections, in file order
SINGULAR: dict[str, str] = {"sources": "source", "transforms": "transform", "outputs": "output"}

SOURCES: dict[str, str] = {
    "file": "logferry.agent.sources.file.config:FileSourceConfig",
    "stdin": "logferry.agent.sources.stdin:StdinSourceConfig",
    "journald": "logferry.agent.sources.journald:JournaldSourceConfig",
}

TRANSFORMS: dict[str, str] = {
    "parse": "logferry.transforms.parse.transform:ParseConfig",
    "add_fields": "logferry.transforms.add_fields:AddFieldsConfig",
    "rename": "logferry.transforms.rename:RenameConfig",
    "remove": "logferry.transforms.remove:RemoveConfig",
    "filter": "logferry.transforms.filter:FilterConfig",
    "route": "logferry.transforms.route:RouteConfig",
    "trace_context": "logferry.transforms.trace_context:TraceContextConfig",
    "redact": "logferry.transforms.redact.transform:RedactConfig",
    "sample": "logferry.transforms.sample:SampleConfig",
    "throttle": "logferry.transforms.throttle:ThrottleConfig",
    "encrypt": "logferry.transforms.encrypt:EncryptConfig",
}

OUTPUTS: dict[str, str] = {
    "console": "logferry.outputs.console:ConsoleOutputConfig",
    "file": "logferry.outputs.file:FileOutputConfig",
    "elasticsearch": "logferry.outputs.elasticsearch.config:ElasticsearchOutputConfig",
    "s3": "logferry.outputs.s3.config:S3OutputConfig",
    "archive": "logferry.outputs.s3.config:ArchiveOutputConfig",
}

_TABLES: dict[str, dict[str, str]] = {"sources": SOURCES, "transforms": TRANSFORMS, "outputs": OUTPUTS}


def type_names(kind: Kind) -> list[str]:
    return sorted(_TABLES[kind])


def lookup(kind: Kind, type_name: str) -> type[ComponentConfig] | None:
    """The config class for ``type_name``, or ``None`` if no such type exists."""
    ref = _TABLES[kind].get(type_name)
    if ref is None:
        return None
    module, _, attr = ref.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    assert issubclass(cls, ComponentConfig)
    return cls
