"""Config blocks shared by components, and the base classes every component config extends.

Every config class is a frozen ``msgspec.Struct`` that rejects unknown keys.
Units are in the names (``_secs``, ``_bytes``, ``_ms``). Descriptions in
``Meta`` feed ``logferry schema``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from msgspec import Meta, StructMeta

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext, Output, Source, Transform


class _KwOnlyMeta(StructMeta):
    """msgspec does not inherit ``kw_only``; without it a required field may not follow an
    inherited default (``inputs``/``buffer``), so every config subclass gets it here."""

    def __new__(mcls, name, bases, namespace, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("kw_only", True)
        return super().__new__(mcls, name, bases, namespace, **kwargs)


class Strict(msgspec.Struct, metaclass=_KwOnlyMeta, forbid_unknown_fields=True, frozen=True):
    """Base of every config struct."""


class ComponentConfig(Strict):
    type: Annotated[str, Meta(description="Component type, e.g. `file`, `parse`, `elasticsearch`.")]


class SourceConfig(ComponentConfig):
    def build(self, ctx: BuildContext) -> Source:
        raise NotImplementedError

    def can_acknowledge(self) -> bool:
        return True


class TransformConfig(ComponentConfig):
    inputs: Annotated[list[str], Meta(min_length=1, description="Ids of the components feeding this one.")]

    def build(self, ctx: BuildContext) -> Transform:
        raise NotImplementedError

    def output_names(self) -> tuple[str, ...]:
        """Named outputs other components may consume as ``<id>.<name>``."""
        return ()


class BufferConfig(Strict):
    type: Annotated[Literal["memory", "disk"], Meta(description="Where events wait for the output.")] = "memory"
    max_events: Annotated[int, Meta(gt=0, description="Memory buffer: most events held.")] = 8192
    max_size_bytes: Annotated[int, Meta(gt=0, description="Disk buffer: most bytes on disk.")] | None = None
    when_full: Annotated[Literal["block", "drop_newest"],
                         Meta(description="`block` applies backpressure upstream; `drop_newest` drops and counts.")] = "block"


class OutputConfig(ComponentConfig):
    inputs: Annotated[list[str], Meta(min_length=1, description="Ids of the components feeding this one.")]
    buffer: BufferConfig = BufferConfig()

    def build(self, ctx: BuildContext) -> Output:
        raise NotImplementedError


class ApiConfig(Strict):
    enabled: Annotated[bool, Meta(description="Serve /health and /metrics.")] = True
    address: Annotated[str, Meta(description="host:port to listen on.")] = "127.0.0.1:8686"
