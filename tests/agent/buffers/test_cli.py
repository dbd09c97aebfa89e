"""`logferry buffer inspect | verify | repair` on real buffer directories."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from logferry.agent.buffers.cli import main
from logferry.agent.buffers.disk.ledger import Ledger
from logferry.agent.buffers.disk.segment import (
    list_segments,
    open_header,
    segment_path,
    take_lock,
)
from tests.agent.buffers.disk.harness import fill


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


class TestBufferCli:
    async def test_inspect_reports_what_is_waiting(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """inspect shows the unacknowledged records and events and the resume position, without changing files."""
        d = tmp_path / "b"
        await fill(d, 6)
        before = {p.name: p.read_bytes() for p in d.iterdir()}
        code, out = run_cli(capsys, "inspect", str(d), "--json")
        assert code == 0
        assert out["unacknowledged_records"] == 6 and out["unacknowledged_events"] == 60
        assert out["torn_tail_bytes"] == 0
        first = list_segments(d)[0]
        assert out["resume_at"] == [first, open_header(segment_path(d, first), first).size]
        ledger = Ledger.load(d)
        assert ledger is not None
        assert out["ledger"] == {"read": list(ledger.read), "write": list(ledger.write), "problem": None}
        assert {p.name: p.read_bytes() for p in d.iterdir()} == before

    async def test_verify_finds_damage_and_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """verify reads every record; a flipped byte is reported with its segment and offset, exit status 1."""
        d = tmp_path / "b"
        await fill(d, 4)
        assert run_cli(capsys, "verify", str(d), "--json")[0] == 0
        seg = segment_path(d, list_segments(d)[0])
        raw = bytearray(seg.read_bytes())
        raw[raw.index(b"line 20")] ^= 1
        seg.write_bytes(bytes(raw))
        code, out = run_cli(capsys, "verify", str(d), "--json")
        assert code == 1
        assert out["records"] == 3
        assert [(x["segment"], x["reason"]) for x in out["damaged"]] == [(list_segments(d)[0], "checksum")]  # type: ignore[union-attr]

    async def test_repair_cuts_torn_tail_and_sets_damaged_header_aside(
            self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """repair cuts a torn tail, moves a segment with a damaged header aside, removes a damaged ledger and stale
        temporary files."""
        d = tmp_path / "b"
        await fill(d, 30, segment_max_bytes=4096)
        ids = list_segments(d)
        first = segment_path(d, ids[0])
        raw = bytearray(first.read_bytes())
        raw[3] ^= 0xFF
        first.write_bytes(bytes(raw))
        tail = segment_path(d, ids[-1])
        whole = tail.read_bytes()
        tail.write_bytes(whole + b"LFR1" + b"\x01" * 30)
        (d / "ledger.json").write_text("garbage")
        (d / ".ledger.json.1-2.tmp").write_text("{")
        code, out = run_cli(capsys, "repair", str(d), "--json")
        assert code == 0
        actions = " | ".join(out["actions"])  # type: ignore[arg-type]
        assert "moved segment" in actions and "torn tail of 34 bytes" in actions and "damaged ledger" in actions
        assert "removed temporary files .ledger.json.1-2.tmp" in actions
        assert (d / f"{ids[0]:020d}.seg.bad").exists() and not segment_path(d, ids[0]).exists()
        assert tail.read_bytes() == whole
        assert Ledger.load(d) is None  # gone: the next start replays from the oldest segment
        assert not list(d.glob("*.tmp"))
        assert run_cli(capsys, "verify", str(d), "--json")[0] == 0

    async def test_repair_refuses_a_buffer_in_use(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """repair will not touch a buffer whose lock is held (a running agent), exit status 3."""
        d = tmp_path / "b"
        await fill(d, 1)
        fd = take_lock(d)
        try:
            assert main(["repair", str(d)]) == 3
        finally:
            os.close(fd)
        assert "stop the agent first" in capsys.readouterr().err
