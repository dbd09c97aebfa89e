"""What the archive writer hands to a store, and the two calls a store must answer (S3 or local disk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ArchiveObject:
    """One encoded object, ready to be written under ``key``."""

    key: str
    body: bytes
    sha256_hex: str
    content_type: str
    content_encoding: str | None
    metadata: dict[str, str]


class ObjectStore(Protocol):
    """Blocking writes, run in a worker thread; ``put`` returns only once the object is durable."""

    description: str

    def put(self, obj: ArchiveObject) -> None: ...

    def probe(self, key: str) -> None:
        """Check the destination exists and takes writes (write and remove a tiny object at ``key``)."""
