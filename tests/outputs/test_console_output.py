"""The console output: NDJSON or text on stdout/stderr, acknowledged after the write."""

import json

import pytest

from logferry.agent.acks import OrderedAcks
from logferry.agent.event import Batch
from logferry.outputs.console import ConsoleOutputConfig
from logferry.outputs.encoding import EncodingConfig
from tests.outputs.feed import run_output


async def write(cfg: ConsoleOutputConfig, batches: list[Batch]) -> None:
    await run_output(cfg, batches)


class TestConsoleOutput:
    async def test_ndjson_to_stdout_in_order_then_acked(self, capfd: pytest.CaptureFixture[str]) -> None:
        """Events reach stdout as NDJSON in batch order, and every batch's ack settles."""
        seen: list[int] = []
        acks = OrderedAcks(seen.append)
        cfg = ConsoleOutputConfig(type="console", inputs=["x"])
        await write(cfg, [Batch.from_events([{"message": "a"}], acks.open(1)),
                          Batch.from_events([{"message": "b", "log.level": "info"}], acks.open(2))])
        out, err = capfd.readouterr()
        assert [json.loads(x) for x in out.splitlines()] == [{"message": "a"}, {"message": "b", "log.level": "info"}]
        assert err == "" and seen[-1] == 2

    async def test_text_to_stderr(self, capfd: pytest.CaptureFixture[str]) -> None:
        """With target stderr and the text codec, only the messages are written, to stderr."""
        cfg = ConsoleOutputConfig(type="console", inputs=["x"], target="stderr", encoding=EncodingConfig(codec="text"))
        await write(cfg, [Batch.from_lines(["one", "two"], {}, None)])
        out, err = capfd.readouterr()
        assert (out, err) == ("", "one\ntwo\n")
