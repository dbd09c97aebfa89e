"""Tests for logferry.agent.sources.file.watcher (globs and discovery)."""

from __future__ import annotations

from pathlib import Path

from logferry.agent.sources.file.watcher import GlobSet, glob_regex, static_root


class TestGlobs:
    def test_double_star_spans_directories(self) -> None:
        """``**`` matches zero or more directories; ``*`` stays within one segment."""
        r = glob_regex("/var/log/**/*.log")
        assert r.match("/var/log/a.log")
        assert r.match("/var/log/x/y/a.log")
        assert not r.match("/var/log/x/a.txt")
        assert not glob_regex("/var/log/*.log").match("/var/log/x/a.log")

    def test_character_classes(self) -> None:
        """``?`` and ``[...]`` (with ``!`` negation) match one character."""
        assert glob_regex("/l/app.[0-9].log").match("/l/app.3.log")
        assert not glob_regex("/l/app.[!0-9].log").match("/l/app.3.log")
        assert glob_regex("/l/a?c").match("/l/abc")

    def test_static_root(self) -> None:
        """The watch root is the directory before the first wildcard; deep globs are recursive."""
        assert static_root("/var/log/*.log") == ("/var/log", False)
        assert static_root("/var/log/**/*.log") == ("/var/log", True)
        assert static_root("/var/log/app.log") == ("/var/log", False)

    def test_scan_with_exclude(self, tmp_path: Path) -> None:
        """``scan`` finds regular files matching include but not exclude, with ``**`` in both."""
        for rel in ("a.log", "sub/b.log", "sub/deep/c.log", "sub/deep/skip/d.log", "e.txt"):
            p = tmp_path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("x\n")
        (tmp_path / "dir.log").mkdir()
        globs = GlobSet([f"{tmp_path}/**/*.log"], [f"{tmp_path}/**/skip/**"])
        assert [Path(p).relative_to(tmp_path).as_posix() for p in globs.scan()] == [
            "a.log", "sub/b.log", "sub/deep/c.log"]
