"""A log writer thread for end-to-end tests: numbered lines, rotated by rename or copytruncate as logrotate would."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path


class RotatingWriter(threading.Thread):
    """Appends ``seq <n> <pad>`` lines to ``<logs>/app.log`` as fast as it can, rotating every ``rotate_every``."""

    def __init__(self, logs: Path, total: int, rotate_every: int = 0, copytruncate: bool = False,
                 pace_secs: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.logs = logs
        self.total = total
        self.rotate_every = rotate_every
        self.copytruncate = copytruncate
        self.pace_secs = pace_secs
        self.rotations = {"rename": 0, "copytruncate": 0}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._write()
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test through .error
            self.error = exc

    def _write(self) -> None:
        path = self.logs / "app.log"
        f = open(path, "a", buffering=1 << 16)  # noqa: SIM115 - reopened on rotation
        pad = "x" * 40
        for i in range(self.total):
            f.write(f"seq {i} {pad}\n")
            if self.rotate_every and i % self.rotate_every == self.rotate_every - 1:
                f.flush()
                k = sum(self.rotations.values())
                if self.copytruncate and k % 2 == 1:
                    # logrotate's copytruncate: copy, then truncate in place; the writer keeps its fd
                    # (O_APPEND). Lines written between the copy and the truncate would be lost by
                    # logrotate itself, so the writer is quiet during the swap, as in practice.
                    shutil.copyfile(path, self.logs / f"app.log.{k}")
                    os.truncate(path, 0)
                    self.rotations["copytruncate"] += 1
                else:
                    f.close()
                    os.rename(path, self.logs / f"app.log.{k}")
                    f = open(path, "a", buffering=1 << 16)  # noqa: SIM115
                    self.rotations["rename"] += 1
            if self.pace_secs and i % 1000 == 999:
                f.flush()
                time.sleep(self.pace_secs)
        f.close()
