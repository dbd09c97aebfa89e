"""The logferry command as a user runs it: validate, schema, version, run, reload and drain."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from tests.support.agent import REPO, AgentProcess, logferry, wait_for_lines

STDIN_TO_FILE = """\
data_dir: {data}
api: {{enabled: false}}
sources:
  in: {{type: stdin}}
outputs:
  out:
    type: file
    inputs: [in]
    path: {out}
    encoding: {{codec: text}}
"""


def stdin_to_file(tmp_path: Path) -> tuple[Path, Path]:
    """A config reading stdin into a text file: (config path, output path)."""
    out = tmp_path / "out.log"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(STDIN_TO_FILE.format(data=tmp_path / "data", out=out))
    return cfg, out


class TestValidate:
    def test_every_error_with_file_line_column_and_key(self, tmp_path: Path) -> None:
        """validate prints every mistake of the file as file:line:col: key: message and exits 78."""
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            "data_dir: ./data\n"
            "sources:\n"
            "  app: {type: file, include: ['/tmp/x/*.log'], max_line_bytes: -5}\n"
            "outputs:\n"
            "  out:\n"
            "    type: file\n"
            "    inputs: [app, ghost]\n"
            "    path: /tmp/out.log\n"
            "    colour: blue\n"
        )
        r = logferry("validate", "--no-health", "-c", str(cfg), cwd=tmp_path)
        assert r.returncode == 78
        assert r.stderr.splitlines() == [
            f"{cfg}:3:64: sources.app.max_line_bytes: expected int >= 1",
            f"{cfg}:7:19: outputs.out.inputs[1]: unknown input \"ghost\"",
            f"{cfg}:9:5: outputs.out.colour: unknown key",
        ]

    def test_unset_variable_is_named(self, tmp_path: Path) -> None:
        """An unset ${VAR} without default is an error naming the variable."""
        cfg = tmp_path / "c.yaml"
        cfg.write_text("data_dir: ${LOGFERRY_TEST_UNSET_DIR}\nsources:\n  in: {type: stdin}\n"
                       "outputs:\n  o: {type: console, inputs: [in]}\n")
        r = logferry("validate", "--no-health", "-c", str(cfg))
        assert r.returncode == 78
        assert "LOGFERRY_TEST_UNSET_DIR" in r.stderr
        assert r.stderr.startswith(f"{cfg}:1:11:")

    def test_example_config_is_valid(self) -> None:
        """The shipped config.example.yaml validates."""
        r = logferry("validate", "--no-health", "-c", str(REPO / "config.example.yaml"), cwd=REPO)
        assert r.returncode == 0, r.stderr

    def test_config_from_environment(self, tmp_path: Path) -> None:
        """LOGFERRY_CONFIG names the config when -c is not given."""
        cfg = tmp_path / "c.yaml"
        cfg.write_text("sources:\n  in: {type: stdin}\noutputs:\n  o: {type: console, inputs: [in]}\n")
        r = logferry("validate", "--no-health", env={"LOGFERRY_CONFIG": str(cfg)})
        assert r.returncode == 0, r.stderr


class TestSchemaAndVersion:
    def test_schema_is_json_schema(self) -> None:
        """schema prints a JSON Schema document covering sources, transforms and outputs."""
        r = logferry("schema")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc["$schema"].startswith("https://json-schema.org/")
        assert {"data_dir", "api", "sources", "transforms", "outputs"} <= set(doc["properties"])
        branches = doc["properties"]["outputs"]["additionalProperties"]["oneOf"]
        types = {b["properties"]["type"]["const"] for b in branches}
        assert {"file", "console", "elasticsearch", "s3", "archive"} <= types
        # Every registered type loads: none was left out of the schema.
        assert "Left out" not in r.stderr, r.stderr

    def test_version(self) -> None:
        """version prints the package version."""
        from logferry.agent import __version__

        assert logferry("version").stdout.strip() == f"logferry {__version__}"


class TestRun:
    def test_stdin_to_file_exits_at_end_of_input(self, tmp_path: Path) -> None:
        """stdin piped into run is written line for line, and the agent exits 0 at end of input."""
        cfg, out = stdin_to_file(tmp_path)
        r = logferry("run", "-c", str(cfg), input="a\nb\nc")
        assert r.returncode == 0, r.stderr
        assert out.read_text() == "a\nb\nc\n"

    def test_sighup_with_broken_config_keeps_old_pipeline(self, tmp_path: Path) -> None:
        """After SIGHUP with an invalid file the error is logged and the old pipeline still ships lines."""
        cfg, out = stdin_to_file(tmp_path)
        with AgentProcess(cfg, stdin=subprocess.PIPE) as agent:
            agent.wait_for_log("Pipeline started.")
            agent.feed(b"before\n")
            wait_for_lines(out, 1)
            cfg.write_text("sources: [this is not a mapping\n")
            agent.signal(signal.SIGHUP)
            agent.wait_for_log("Reload refused")
            agent.feed(b"after\n")
            assert wait_for_lines(out, 2) == ["before", "after"]
            agent.end_input()
            assert agent.wait() == 0

    def test_sigterm_drains(self, tmp_path: Path) -> None:
        """SIGTERM stops the agent cleanly (exit 0) after writing what it read."""
        cfg, out = stdin_to_file(tmp_path)
        with AgentProcess(cfg, stdin=subprocess.PIPE) as agent:
            agent.wait_for_log("Pipeline started.")
            agent.feed(b"x\n" * 1000)
            wait_for_lines(out, 1000)
            agent.signal(signal.SIGTERM)
            assert agent.wait() == 0
            assert "Stopping: draining the pipeline." in agent.stderr()
        assert out.read_text() == "x\n" * 1000  # nothing written twice or torn at the stop


TAIL_TO = """\
data_dir: {data}
api: {{enabled: false}}
sources:
  app: {{type: file, include: ["{log}"], rescan_interval_secs: 0.2}}
outputs:
  out: {{type: file, inputs: [app], path: "{out}", encoding: {{codec: text}}}}
"""


class TestReload:
    def test_sighup_swaps_to_the_new_pipeline_without_loss_or_duplicates(self, tmp_path: Path) -> None:
        """A valid new config is swapped in on SIGHUP and resumes from the old pipeline's checkpoint."""
        log, out1, out2 = tmp_path / "app.log", tmp_path / "one.log", tmp_path / "two.log"
        log.write_text("".join(f"line {i}\n" for i in range(100)))
        cfg = tmp_path / "c.yaml"
        cfg.write_text(TAIL_TO.format(data=tmp_path / "data", log=log, out=out1))
        with AgentProcess(cfg) as agent:
            agent.wait_for_log("Pipeline started.")
            wait_for_lines(out1, 100)
            cfg.write_text(TAIL_TO.format(data=tmp_path / "data", log=log, out=out2))
            agent.signal(signal.SIGHUP)
            agent.wait_for_log("Pipeline reloaded.")
            with open(log, "a") as f:
                f.write("".join(f"line {i}\n" for i in range(100, 150)))
            assert wait_for_lines(out2, 50) == [f"line {i}" for i in range(100, 150)]
            agent.signal(signal.SIGTERM)
            assert agent.wait() == 0
        assert out1.read_text().splitlines() == [f"line {i}" for i in range(100)]
        assert out2.read_text().splitlines() == [f"line {i}" for i in range(100, 150)]
