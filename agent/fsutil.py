"""Durable file replacement, shared by every piece of state the agent keeps on disk.

A crash (or SIGKILL) leaves either the old file or the new one, never half of
one: write a temporary file beside the target, fsync it, rename it over the
target, then fsync the directory so the rename itself survives a power loss.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, sync: bool = True,
                 make_parent: bool = False) -> None:
    """Replace ``path`` with ``data``; with ``sync`` it is durable once this returns (blocking).

    The temporary name is unique per process and thread, so concurrent writers
    of different targets in one directory never share it.
    """
    if make_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync:
        fsync_dir(path.parent)
