"""The file output: encodings, path templates, gzip, and acknowledgement after the write."""

import gzip
import json
from pathlib import Path

from logferry.agent.acks import OrderedAcks
from logferry.agent.event import Batch, LineOrigin
from logferry.outputs.encoding import EncodingConfig, expand_dots
from logferry.outputs.file import FileOutputConfig, PathTemplate
from tests.outputs.feed import run_output


async def write(cfg: FileOutputConfig, batches: list[Batch], tmp_path: Path) -> None:
    await run_output(cfg, batches, tmp_path)


class TestFileOutput:
    async def test_text_passthrough_is_byte_identical(self, tmp_path: Path) -> None:
        """Text encoding writes each message as one line, exactly as read."""
        dest = tmp_path / "out.log"
        cfg = FileOutputConfig(type="file", inputs=["x"], path=str(dest), encoding=EncodingConfig(codec="text"))
        await write(cfg, [Batch.from_lines(["a", "b ü"], {}, None), Batch.from_lines(["c"], {}, None)], tmp_path)
        assert dest.read_text(encoding="utf-8") == "a\nb ü\nc\n"

    async def test_ndjson_with_only_fields(self, tmp_path: Path) -> None:
        """NDJSON writes one object per event and only_fields keeps just the named keys."""
        dest = tmp_path / "out.ndjson"
        cfg = FileOutputConfig(type="file", inputs=["x"], path=str(dest),
                               encoding=EncodingConfig(only_fields=["message", "log.offset"]))
        await write(cfg, [Batch.from_lines(["a"], {"host.name": "h"}, LineOrigin("p-", [7]))], tmp_path)
        assert [json.loads(x) for x in dest.read_text().splitlines()] == [{"message": "a", "log.offset": 7}]

    async def test_acks_settle_after_the_write(self, tmp_path: Path) -> None:
        """Each batch's ack is settled by the time the output finishes, with the data on disk."""
        dest = tmp_path / "o.log"
        seen: list[tuple[int, str]] = []  # (position, file content when the ack advanced to it)
        acks = OrderedAcks(lambda pos: seen.append((pos, dest.read_text())))
        cfg = FileOutputConfig(type="file", inputs=["x"], path=str(dest), encoding=EncodingConfig(codec="text"))
        await write(cfg, [Batch.from_lines(["a"], {}, None, ack=acks.open(1)),
                          Batch.from_lines(["b"], {}, None, ack=acks.open(2))], tmp_path)
        assert seen[-1] == (2, "a\nb\n")
        assert all(content.startswith("a\nb\n"[:2 * pos]) for pos, content in seen)

    async def test_path_template_splits_by_time_and_field(self, tmp_path: Path) -> None:
        """strftime codes use the event's @timestamp and {field} placeholders its values."""
        cfg = FileOutputConfig(type="file", inputs=["x"], path=str(tmp_path / "%Y-%m-%d" / "{service.name}.ndjson"))
        events = [
            {"@timestamp": "2026-11-23T23:59:59.000Z", "service.name": "api", "message": "1"},
            {"@timestamp": "2026-11-24T00:00:01.000Z", "service.name": "api", "message": "2"},
            {"@timestamp": "2026-11-24T00:00:02.000Z", "service.name": "../etc", "message": "3"},
        ]
        await write(cfg, [Batch.from_events(events)], tmp_path)
        assert json.loads((tmp_path / "2026-11-23" / "api.ndjson").read_text())["message"] == "1"
        assert json.loads((tmp_path / "2026-11-24" / "api.ndjson").read_text())["message"] == "2"
        assert json.loads((tmp_path / "2026-11-24" / ".._etc.ndjson").read_text())["message"] == "3"

    async def test_gzip_output_is_readable_after_each_batch(self, tmp_path: Path) -> None:
        """gzip output appends members that decode to every line written."""
        dest = tmp_path / "o.log.gz"
        cfg = FileOutputConfig(type="file", inputs=["x"], path=str(dest), compression="gzip",
                               encoding=EncodingConfig(codec="text"))
        await write(cfg, [Batch.from_lines(["a"], {}, None), Batch.from_lines(["b"], {}, None)], tmp_path)
        assert gzip.decompress(dest.read_bytes()) == b"a\nb\n"


class TestPathTemplate:
    def test_static_template_needs_no_rendering(self) -> None:
        """A path without placeholders is static, so batches are written without grouping."""
        assert PathTemplate("/tmp/x.log").static
        assert not PathTemplate("/tmp/%Y.log").static

    def test_missing_field_renders_unknown(self) -> None:
        """A placeholder for a field the event lacks renders as 'unknown'."""
        assert PathTemplate("/o/{a.b}.log").render({"message": "m"}) == "/o/unknown.log"

    def test_nested_field_value(self) -> None:
        """Placeholders also find values in nested objects."""
        assert PathTemplate("/o/{a.b}.log").render({"a": {"b": "x"}}) == "/o/x.log"


class TestExpandDots:
    def test_expands_dotted_keys(self) -> None:
        """Dotted keys become nested objects; @timestamp stays as is."""
        assert expand_dots({"@timestamp": "t", "log.file.path": "/p", "log.offset": 1, "message": "m"}) == {
            "@timestamp": "t", "log": {"file": {"path": "/p"}, "offset": 1}, "message": "m"}
