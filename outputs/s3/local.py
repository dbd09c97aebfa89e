"""Local directory store: the S3 layout on disk, each object written atomically and fsync'ed.

An object is written to a temporary name in its directory, fsync'ed, renamed
over the final name and the directory fsync'ed, so a crash leaves either
the old object or the new one, never a torn file. Metadata goes to a
``<object>.meta.json`` sidecar (queries glob by extension, e.g.
``**/*.parquet``, and never see it).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

from logferry.agent.fsutil import write_atomic
from logferry.outputs.s3.store import ArchiveObject


def path_from_url(location: str) -> Path:
    """``file:///var/lib/x`` or a plain path -> ``Path``."""
    if location.startswith("file://"):
        parsed = urlparse(location)
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file URL must name a local path, got host {parsed.netloc!r}")
        return Path(unquote(parsed.path))
    return Path(location).expanduser()


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"local archive {root}"

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object key {key!r} leaves the archive directory")
        return path

    def put(self, obj: ArchiveObject) -> None:
        path = self.path_of(obj.key)
        meta = dict(obj.metadata, content_type=obj.content_type, content_encoding=obj.content_encoding or "")
        write_atomic(path.with_name(path.name + ".meta.json"), json.dumps(meta, sort_keys=True).encode(),
                     make_parent=True)
        write_atomic(path, obj.body, make_parent=True)

    def probe(self, key: str) -> None:
        path = self.path_of(key)
        write_atomic(path, b"logferry healthcheck\n", make_parent=True)
        path.unlink()
        try:
            path.parent.rmdir()  # leave no trace in the archive tree (fails harmlessly if not empty)
        except OSError:
            pass
