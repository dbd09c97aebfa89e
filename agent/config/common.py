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


class BufferKeyConfig(Strict):
    """One AES-256 key for disk buffer records: exactly one of ``key_file`` and ``key_env``."""

    key_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                description="Key id stored in every segment header written with this key.")]
    key_file: Annotated[str, Meta(description="File holding the 32-byte key: base64 or hex text, or raw bytes.")] | None = None
    key_env: Annotated[str, Meta(description="Environment variable holding the key as base64 or hex text.")] | None = None

    def __post_init__(self) -> None:
        if (self.key_file is None) == (self.key_env is None):
            raise ValueError(f"key {self.key_id!r}: set exactly one of `key_file` and `key_env`")


class BufferEncryptionConfig(BufferKeyConfig):
    """At-rest encryption of disk buffer records (AES-256-GCM); the key here encrypts new segments."""

    previous_keys: Annotated[list[BufferKeyConfig],
                             Meta(description="Older keys still needed to read segments written before a rotation.")] = []

    def __post_init__(self) -> None:
        super().__post_init__()
        ids = [self.key_id, *(k.key_id for k in self.previous_keys)]
        if len(set(ids)) != len(ids):
            raise ValueError(f"encryption: duplicate key id among {', '.join(ids)}")


_DISK_ONLY = ("fsync", "fsync_interval_ms", "segment_max_bytes", "encryption")


class BufferConfig(Strict):
    type: Annotated[Literal["memory", "disk"], Meta(description="Where events wait for the output.")] = "memory"
    max_events: Annotated[int, Meta(gt=0, description="Memory buffer: most events held. Disk buffer: most events "
                                                       "read ahead from disk for the output.")] = 8192
    max_size_bytes: Annotated[int, Meta(gt=0, description=(
        "Disk buffer: most bytes on disk (required). Memory buffer: most bytes of event text held, "
        "in addition to `max_events`."))] | None = None
    when_full: Annotated[Literal["block", "drop_newest"],
                         Meta(description="`block` applies backpressure upstream; `drop_newest` drops and counts.")] = "block"
    fsync: Annotated[Literal["always", "interval", "never"],
                     Meta(description="Disk buffer: when records are fsynced (upstream is acknowledged after it); "
                                      "default `interval`.")] | None = None
    fsync_interval_ms: Annotated[int, Meta(gt=0, description="Disk buffer with `fsync: interval`: most "
                                                              "milliseconds between fsyncs (default 100).")] | None = None
    segment_max_bytes: Annotated[int, Meta(ge=4096, description="Disk buffer: size at which a segment file is "
                                                                 "closed (default max_size_bytes / 8, 1-128 MiB).")] | None = None
    encryption: Annotated[BufferEncryptionConfig | None,
                          Meta(description="Disk buffer: encrypt records at rest (AES-256-GCM).")] = None

    def __post_init__(self) -> None:
        if self.type == "memory":
            set_disk = [name for name in _DISK_ONLY if getattr(self, name) is not None]
            if set_disk:
                raise ValueError(f"{', '.join(set_disk)}: only for `type: disk` buffers")
            return
        if self.max_size_bytes is None:
            raise ValueError("a disk buffer needs `max_size_bytes`")
        if self.fsync_interval_ms is not None and self.fsync not in (None, "interval"):
            raise ValueError(f"fsync_interval_ms: only with `fsync: interval` (not {self.fsync!r})")
        if self.segment_max_bytes is not None and self.segment_max_bytes > self.max_size_bytes:
            raise ValueError("segment_max_bytes must not exceed max_size_bytes")


class OutputConfig(ComponentConfig):
    inputs: Annotated[list[str], Meta(min_length=1, description="Ids of the components feeding this one.")]
    buffer: BufferConfig = BufferConfig()

    def build(self, ctx: BuildContext) -> Output:
        raise NotImplementedError


class ApiConfig(Strict):
    enabled: Annotated[bool, Meta(description="Serve /health and /metrics.")] = True
    address: Annotated[str, Meta(description="host:port to listen on.")] = "127.0.0.1:8686"
