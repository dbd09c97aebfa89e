"""Tests for logferry.outputs.write_behind: ordered, group-committed writes on one thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from logferry.outputs.write_behind import WriteBehind


class TestWriteBehind:
    async def test_writes_land_in_order_and_done_follows_the_write(self, tmp_path: Path) -> None:
        """Every submitted write reaches the file in order; each `done` runs only once its bytes are there, given their count."""
        out = tmp_path / "out.log"
        rounds: list[int] = []

        def write_round(writes: list[tuple[str, bytes]]) -> None:
            rounds.append(len(writes))
            with open(writes[0][0], "ab") as f:
                f.write(b"".join(d for _, d in writes))

        # At each `done`, the lines written so far (a prefix of 0..199, by order) reach past line i.
        seen_at_done: list[bool] = []
        nbytes_at_done: list[int] = []

        def done(nbytes: int, i: int) -> None:
            seen_at_done.append(out.read_text().split()[i:i + 1] == [str(i)])
            nbytes_at_done.append(nbytes)

        writer = WriteBehind(write_round)
        for i in range(200):
            await writer.submit([(str(out), f"{i}\n".encode()), (str(out), b"")], lambda n, i=i: done(n, i))
        await writer.drain()
        await writer.close()
        assert out.read_text().split() == [str(i) for i in range(200)]
        assert seen_at_done == [True] * 200
        assert nbytes_at_done == [len(f"{i}\n") for i in range(200)]
        assert sum(rounds) == 400

    async def test_queued_writes_share_one_round(self, tmp_path: Path) -> None:
        """Writes queued while a round is running are written together in the next round."""
        gate = threading.Event()
        rounds: list[int] = []

        def write_round(writes: list[tuple[str, bytes]]) -> None:
            gate.wait(5)
            rounds.append(len(writes))

        writer = WriteBehind(write_round)
        await writer.submit([("x", b"a")], lambda _n: None)
        await asyncio.sleep(0.05)  # the first round is now blocked in the gate; the next four queue up
        for _ in range(4):
            await writer.submit([("x", b"a")], lambda _n: None)
        gate.set()
        await writer.drain()
        await writer.close()
        assert rounds == [1, 4]

    async def test_submit_waits_for_room(self) -> None:
        """Beyond max_bytes queued, submit waits until a round has finished."""
        gate = threading.Event()

        def write_round(writes: list[tuple[str, bytes]]) -> None:
            gate.wait(5)

        writer = WriteBehind(write_round, max_bytes=10)
        await writer.submit([("x", b"0123456789")], lambda _n: None)
        second = asyncio.ensure_future(writer.submit([("x", b"more")], lambda _n: None))
        await asyncio.sleep(0.05)
        assert not second.done()
        gate.set()
        await asyncio.wait_for(second, 5)
        await writer.drain()
        await writer.close()

    async def test_failed_round_raises_and_acknowledges_nothing(self, tmp_path: Path) -> None:
        """A round that fails is raised by drain/submit and none of its writes (or later ones) count as done."""
        def write_round(writes: list[tuple[str, bytes]]) -> None:
            with open(tmp_path, "ab") as f:  # a directory: IsADirectoryError
                f.write(b"x")

        done: list[int] = []
        writer = WriteBehind(write_round)
        await writer.submit([("x", b"a")], lambda _n: done.append(1))
        with pytest.raises(IsADirectoryError):
            await writer.drain()
        with pytest.raises(IsADirectoryError):
            await writer.submit([("x", b"b")], lambda _n: done.append(2))
        await writer.close()
        assert done == []
