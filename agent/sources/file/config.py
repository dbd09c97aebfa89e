"""Configuration of the `file` source (tailing files matched by globs).

Pure validation happens here (regexes compile, presets exist); ``build``
only wires the runtime ``FileSource``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
import regex
from msgspec import Meta

from logferry.agent.config.common import SourceConfig, Strict

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext, Source


class FingerprintConfig(Strict):
    """How a file is recognised across renames, restarts and inode reuse."""

    strategy: Annotated[
        Literal["checksum", "device_and_inode"],
        Meta(description="`checksum`: hash of the first `bytes` bytes (survives renames and copies, detects inode "
                         "reuse); `device_and_inode`: the file's device and inode numbers."),
    ] = "checksum"
    bytes: Annotated[int, Meta(gt=0, le=1048576, description=(
        "How many bytes (after `ignored_header_bytes`) the checksum covers. Shorter files are tracked by "
        "device and inode until they reach this size; their position is carried over then."))] = 256
    ignored_header_bytes: Annotated[int, Meta(ge=0, description=(
        "Bytes at the start of every file that the checksum skips (a header all files share)."))] = 0


class MultilineConfig(Strict):
    """Joins several physical lines into one event (tracebacks, stack traces)."""

    preset: Annotated[
        Literal["python_traceback", "java_stack", "torchserve_traceback"] | None,
        Meta(description="Ready-made continuation rule: `python_traceback`, `java_stack`, or "
                         "`torchserve_traceback` (Python tracebacks inside TorchServe's "
                         "`<time> [LEVEL] <thread> MODEL_LOG - ` lines). "
                         "Excludes `start_pattern` and `continue_pattern`."),
    ] = None
    start_pattern: Annotated[str | None, Meta(description=(
        "Regex: a line matching it starts a new event; other lines are appended to the current one."))] = None
    continue_pattern: Annotated[str | None, Meta(description=(
        "Regex: a line matching it is appended to the current event; other lines start a new one."))] = None
    negate: Annotated[bool, Meta(description="Invert the sense of the pattern (match becomes no-match).")] = False
    timeout_ms: Annotated[int, Meta(gt=0, description=(
        "An event with no new line for this long is emitted as it is."))] = 1000
    max_lines: Annotated[int, Meta(gt=0, description=(
        "An event reaching this many lines is emitted; further lines start a new event (none are dropped)."))] = 500
    max_bytes: Annotated[int, Meta(gt=0, description=(
        "An event reaching this many bytes is emitted; further lines start a new event (none are dropped)."))] = 1048576

    def __post_init__(self) -> None:
        given = [n for n in ("preset", "start_pattern", "continue_pattern") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("multiline needs exactly one of `preset`, `start_pattern`, `continue_pattern`"
                             f" (got {', '.join(given) if given else 'none'})")
        for name in ("start_pattern", "continue_pattern"):
            pattern = getattr(self, name)
            if pattern is not None:
                try:
                    regex.compile(pattern)
                except regex.error as exc:
                    raise ValueError(f"multiline.{name}: invalid regex {pattern!r}: {exc}") from None


class FileSourceConfig(SourceConfig):
    """Tail files matched by globs, with checkpoints, rotation handling and multiline joining."""

    include: Annotated[list[str], Meta(min_length=1, description=(
        "Absolute glob patterns of files to read; `**` matches any number of directories."))]
    exclude: Annotated[list[str], Meta(description=(
        "Glob patterns (same syntax as `include`) of files to skip even though they match `include`."))] = (
        msgspec.field(default_factory=list))
    read_from: Annotated[Literal["beginning", "end"], Meta(description=(
        "Where to start in files present at startup that have no checkpoint. Files that appear later are "
        "always read from the beginning."))] = "beginning"
    ignore_older_secs: Annotated[float, Meta(gt=0), Meta(description=(
        "Skip files not modified for this many seconds."))] | None = None
    max_line_bytes: Annotated[int, Meta(gt=0, description=(
        "Longer lines are cut to this size and tagged `_line_truncated` (never dropped)."))] = 102400
    fingerprint: Annotated[FingerprintConfig, Meta(description="How files are identified.")] = FingerprintConfig()
    rescan_interval_secs: Annotated[float, Meta(gt=0, description=(
        "How often globs are re-evaluated besides file-system notifications."))] = 1.0
    checkpoint_interval_secs: Annotated[float, Meta(gt=0, description=(
        "How often changed read positions are written to `data_dir`."))] = 1.0
    read_chunk_bytes: Annotated[int, Meta(ge=4096, le=16777216, description=(
        "Bytes read per step from one file (one thread hop each)."))] = 1048576
    multiline: Annotated[MultilineConfig | None, Meta(description="Join lines into multi-line events.")] = None
    collapse_carriage_returns: Annotated[bool, Meta(description=(
        "Keep only the last non-empty `\\r`-separated part of a line: a tqdm progress bar becomes its final "
        "state, and a CRLF line loses its `\\r`. Otherwise only `\\n` is removed."))] = False
    decompress_gz: Annotated[bool, Meta(description=(
        "Read files ending in `.gz` through gzip (rotated archives); offsets count decompressed bytes."))] = True
    rotate_wait_secs: Annotated[float, Meta(ge=0, description=(
        "How long a renamed or deleted file is still read after its last growth before it is closed."))] = 5.0
    poll_interval_ms: Annotated[int, Meta(gt=0, description=(
        "How often open files are checked for growth when nothing else wakes the reader."))] = 250

    def __post_init__(self) -> None:
        for pattern in (*self.include, *self.exclude):
            if not pattern:
                raise ValueError("include/exclude: empty glob pattern")

    def build(self, ctx: BuildContext) -> Source:
        from logferry.agent.sources.file.source import FileSource

        return FileSource(self, ctx)
