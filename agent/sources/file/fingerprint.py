"""File identity: a checksum of the first bytes, or device and inode.

A checksum key (``c:<hex>``) follows a file through renames, recognises its
gzip-compressed copy (the checksum covers decompressed bytes) and tells a
reused inode apart. A file still shorter than the checksum window gets a
device/inode key (``i:<dev>:<ino>``) until it grows; the source then moves
its checkpoint to the checksum key.

Pure functions over bytes and stat results; the reader does the I/O.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class FingerprintPolicy:
    strategy: str = "checksum"      # "checksum" | "device_and_inode"
    window_bytes: int = 256         # how many bytes the checksum covers
    ignored_header_bytes: int = 0   # bytes skipped before the window

    @property
    def head_bytes(self) -> int:
        """How many bytes from the start of a file decide its checksum."""
        return self.ignored_header_bytes + self.window_bytes


def inode_key(st: os.stat_result) -> str:
    return f"i:{st.st_dev}:{st.st_ino}"


def checksum_key(head: bytes, policy: FingerprintPolicy) -> str | None:
    """The checksum key for a file starting with ``head``, or ``None`` while it is too short."""
    if policy.strategy != "checksum" or len(head) < policy.head_bytes:
        return None
    window = head[policy.ignored_header_bytes:policy.head_bytes]
    return "c:" + hashlib.blake2b(window, digest_size=8).hexdigest()


def file_key(head: bytes, st: os.stat_result, policy: FingerprintPolicy) -> str:
    """The identity of a file: its checksum key, or its device/inode key if none (yet)."""
    return checksum_key(head, policy) or inode_key(st)


def id_prefix(host: str, source_id: str, key: str) -> str:
    """Prefix of ``event.id`` for lines of one file: stable for (host, source, file identity)."""
    digest = hashlib.blake2b(f"{host}\0{source_id}\0{key}".encode(), digest_size=8).hexdigest()
    return digest + "-"
