"""Tests for logferry.agent.sources.file.multiline (and its config validation)."""

from __future__ import annotations

import traceback

import msgspec
import pytest

from logferry.agent.event import TAG_INVALID_UTF8, TAG_MULTILINE
from logferry.agent.sources.file.config import MultilineConfig
from logferry.agent.sources.file.framing import Framed, LineFramer
from logferry.agent.sources.file.multiline import MultilineAggregator

# A Java stack trace in the shape the JVM prints (invented class names, not a real program).
JAVA_LOG = """\
2026-11-22 10:00:00.001 INFO  c.e.Server - started
2026-11-22 10:00:01.002 ERROR c.e.Handler - request failed
java.lang.IllegalStateException: model not loaded
\tat com.example.Handler.predict(Handler.java:42)
\tat com.example.Server.lambda$serve$0(Server.java:17)
\tat java.base/java.lang.Thread.run(Thread.java:833)
Caused by: java.io.FileNotFoundException: /models/m.bin (No such file or directory)
\tat java.base/java.io.FileInputStream.open0(Native Method)
\t... 3 more
2026-11-22 10:00:02.003 INFO  c.e.Server - still alive
"""


def real_python_traceback() -> str:
    """A traceback Python itself formats, with a chained exception."""
    def load() -> None:
        raise KeyError("weights")

    try:
        try:
            load()
        except KeyError as exc:
            raise RuntimeError("could not load model") from exc
    except RuntimeError:
        return traceback.format_exc()
    raise AssertionError("unreachable")


def aggregate(cfg: MultilineConfig, text: bytes, now: float = 0.0) -> tuple[Framed, MultilineAggregator]:
    agg = MultilineAggregator(cfg)
    framed = agg.push(LineFramer().feed(text), now)
    return framed, agg


class TestMultilineAggregator:
    def test_python_traceback_preset(self) -> None:
        """A real chained Python traceback joins onto its log line; surrounding lines stay single."""
        tb = real_python_traceback()
        text = f"2026-11-22 10:00:00,000 INFO start\n2026-11-22 10:00:01,000 ERROR failed\n{tb}" \
               f"2026-11-22 10:00:02,000 INFO next\n"
        framed, agg = aggregate(MultilineConfig(preset="python_traceback"), text.encode())
        assert framed.lines[0] == "2026-11-22 10:00:00,000 INFO start"
        assert framed.lines[1] == "2026-11-22 10:00:01,000 ERROR failed\n" + tb.rstrip("\n")
        assert framed.tags == {1: [TAG_MULTILINE]}
        assert framed.offsets == [0, 35]
        assert agg.held_start == text.encode().index(b"2026-11-22 10:00:02")
        assert framed.end == agg.held_start

    def test_java_stack_preset(self) -> None:
        """A Java stack trace with ``Caused by`` and ``... N more`` becomes one event."""
        framed, agg = aggregate(MultilineConfig(preset="java_stack"), JAVA_LOG.encode())
        lines = JAVA_LOG.splitlines()
        assert framed.lines == [lines[0], "\n".join(lines[1:9])]
        assert agg.flush(999).lines == [lines[9]]

    def test_start_pattern(self) -> None:
        """With ``start_pattern`` every line not matching it is appended to the current event."""
        cfg = MultilineConfig(start_pattern=r"^\[")
        framed, _ = aggregate(cfg, b"[1] a\n  b\nc\n[2] d\n[3] e\n")
        assert framed.lines == ["[1] a\n  b\nc", "[2] d"]

    def test_negate(self) -> None:
        """``negate`` flips the pattern: lines NOT matching the continue pattern are appended."""
        cfg = MultilineConfig(continue_pattern=r"^\d", negate=True)
        framed, _ = aggregate(cfg, b"1 a\nmore\n2 b\n3 c\n")
        assert framed.lines == ["1 a\nmore", "2 b"]

    def test_max_lines_splits_without_loss(self) -> None:
        """An event reaching ``max_lines`` is emitted and the next lines start a new one."""
        cfg = MultilineConfig(continue_pattern=r"^ ", max_lines=2)
        framed, agg = aggregate(cfg, b"a\n 1\n 2\n 3\nb\n")
        assert framed.lines == ["a\n 1", " 2\n 3"]
        assert agg.flush(0).lines == ["b"]

    def test_max_bytes_splits_without_loss(self) -> None:
        """An event that would exceed ``max_bytes`` is emitted before the line that overflows it."""
        cfg = MultilineConfig(continue_pattern=r"^ ", max_bytes=6)
        framed, _ = aggregate(cfg, b"ab\n cd\n ef\nx\n")
        assert framed.lines == ["ab\n cd", " ef"]

    def test_timeout_flush(self) -> None:
        """A held event is emitted by ``flush_due`` only once ``timeout_ms`` passed since its last line."""
        cfg = MultilineConfig(continue_pattern=r"^ ", timeout_ms=500)
        _, agg = aggregate(cfg, b"a\n b\n", now=10.0)
        assert agg.flush_due(10.4, 5) is None
        due = agg.flush_due(10.6, 5)
        assert due is not None and due.lines == ["a\n b"] and due.end == 5
        assert agg.held_start is None

    def test_line_tags_are_kept(self) -> None:
        """Tags of joined lines are carried by the multi-line event."""
        cfg = MultilineConfig(continue_pattern=r"^ ")
        _, agg = aggregate(cfg, b"a\n b\xff\n")
        f = agg.flush(7)
        assert f.tags == {0: [TAG_MULTILINE, TAG_INVALID_UTF8]}


class TestMultilineConfig:
    def test_exactly_one_rule(self) -> None:
        """Giving two rules (or none) is a config error naming the fields."""
        with pytest.raises(msgspec.ValidationError, match="exactly one of"):
            msgspec.convert({"preset": "java_stack", "start_pattern": "x"}, MultilineConfig)
        with pytest.raises(msgspec.ValidationError, match="got none"):
            msgspec.convert({}, MultilineConfig)

    def test_invalid_regex(self) -> None:
        """An invalid pattern is reported with the field name."""
        with pytest.raises(msgspec.ValidationError, match=r"multiline.start_pattern: invalid regex"):
            msgspec.convert({"start_pattern": "(unclosed"}, MultilineConfig)
