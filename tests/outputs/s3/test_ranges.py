"""Tests of the cut journal that lines objects up across restarts."""

from __future__ import annotations

from pathlib import Path

from logferry.outputs.s3.ranges import CutJournal


class TestCutJournal:
    def test_limit_inside_before_and_after_recorded_ranges(self) -> None:
        """Inside a range the limit is its end, before one it is the next start minus one, after all none."""
        j = CutJournal(None)
        j.record("p/", "s", 100, 199)
        j.record("p/", "s", 200, 350)
        assert j.limit_for("p/", "s", 150) == 199
        assert j.limit_for("p/", "s", 200) == 350
        assert j.limit_for("p/", "s", 10) == 99
        assert j.limit_for("p/", "s", 351) is None
        assert j.limit_for("q/", "s", 150) is None

    def test_survives_reopen_and_ignores_torn_line(self, tmp_path: Path) -> None:
        """Recorded cuts are read back after a restart; a half-written last line is skipped."""
        path = tmp_path / "cuts.jsonl"
        j = CutJournal(path)
        j.record("p/", "s", 0, 99)
        j.close()
        with open(path, "a") as f:
            f.write('["p/", "s", 100, ')
        j2 = CutJournal(path)
        assert j2.limit_for("p/", "s", 50) == 99
        assert j2.limit_for("p/", "s", 120) is None
        j2.record("p/", "s", 100, 180)
        j2.close()
        j3 = CutJournal(path)
        assert j3.limit_for("p/", "s", 120) == 180
        j3.close()
