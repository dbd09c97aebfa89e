"""Process-wide settings for a long-running agent: the cyclic GC and glibc's allocator.

Both defaults suit short scripts, not a daemon that allocates a few thousand
dicts and strings per batch and frees them all a moment later:

* The cyclic GC runs a young-generation pass every 700 container
  allocations and, every so often, a full pass over every object alive,
  which includes the whole of each batch in flight. Events rarely form
  cycles (plain dicts of strings), so a pass finds almost nothing. A
  threshold of ``GC_YOUNG_THRESHOLD`` and ``gc.freeze()`` after start-up
  (configuration, compiled patterns, modules never become garbage) cut that
  cost to noise; cycles are still collected.
* glibc returns freed heap memory to the kernel as soon as the top of the
  heap holds more than its trim threshold, and serves buffers over 128 KiB
  (read chunks, decoded text, encoded output) with fresh ``mmap`` calls.
  Each new mapping is then faulted in page by page: a third of the parse
  benchmark's time was system time. Keeping ``HEAP_TOP_PAD_BYTES`` of slack
  on top of the heap lets the next batch reuse the pages of the last.

Measured on the parse benchmark (file -> parse -> file, 2 M lines, median of
4 interleaved runs): 4.11 s -> 3.60 s, system time 0.62 s -> 0.22 s; see
bench/README.md. ``LOGFERRY_RUNTIME_TUNING=0`` leaves both defaults alone.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys

GC_YOUNG_THRESHOLD = 50_000
HEAP_TOP_PAD_BYTES = 32 << 20
_M_TOP_PAD = -2  # glibc <malloc.h>


def enabled() -> bool:
    return os.environ.get("LOGFERRY_RUNTIME_TUNING", "1") != "0"


def tune_allocator() -> bool:
    """Ask glibc to keep heap slack instead of unmapping and refaulting it; whether that took effect."""
    if not sys.platform.startswith("linux") or not enabled():
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_TOP_PAD, HEAP_TOP_PAD_BYTES))


def tune_gc() -> None:
    """Fewer young-generation passes; call once everything built at start-up is in place."""
    if not enabled():
        return
    _, mid, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, mid, old)
    gc.freeze()
