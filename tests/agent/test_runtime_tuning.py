"""Process-wide GC and allocator settings, checked in a fresh interpreter (they are global)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import gc
from logferry.agent.runtime_tuning import tune_allocator, tune_gc
before = gc.get_threshold()[0]
applied = tune_allocator()
tune_gc()
print(before, gc.get_threshold()[0], gc.get_freeze_count() > 0, applied)
"""


def _probe(env_value: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "LOGFERRY_RUNTIME_TUNING"}
    if env_value is not None:
        env["LOGFERRY_RUNTIME_TUNING"] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


class TestRuntimeTuning:
    def test_gc_threshold_raised_and_startup_objects_frozen(self) -> None:
        """tune_gc raises the young-generation threshold from Python's 700 and freezes what exists."""
        before, after, frozen, _ = _probe(None)
        assert (before, after, frozen) == ("700", "50000", "True")

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
    def test_allocator_tuned_on_glibc(self) -> None:
        """On glibc Linux the heap top pad is accepted by mallopt."""
        assert _probe(None)[3] == "True"

    def test_switched_off_by_environment(self) -> None:
        """LOGFERRY_RUNTIME_TUNING=0 leaves the interpreter's and allocator's defaults alone."""
        assert _probe("0") == ["700", "700", "False", "False"]
