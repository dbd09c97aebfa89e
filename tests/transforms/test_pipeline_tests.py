"""`logferry test`: pipeline unit tests written in YAML, run through the real config loader and transforms."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from logferry.agent.pipeline_tests import default_tests_path, main

CONFIG = """\
data_dir: {data_dir}
sources:
  app: {{type: stdin}}
transforms:
  parse_app: {{type: parse, inputs: [app], formats: [cuda_oom, training_progress]}}
  enrich: {{type: add_fields, inputs: [parse_app], fields: {{service.name: trainer}}}}
  router:
    type: route
    inputs: [enrich]
    routes: {{oom: 'tags == "cuda_oom"', progress: 'exists(ml.step)'}}
  keep_errors: {{type: filter, inputs: [router._unmatched], condition: 'message =~ "ERROR"'}}
outputs:
  out: {{type: console, inputs: [router.oom, router.progress, keep_errors]}}
"""

PASSING = """\
tests:
  - name: oom and progress are routed
    insert_at: parse_app
    inputs:
      - "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 1.47 GiB free)"
      - "epoch: 0|step: 3|act_loss: 0.5"
      - "ERROR something else"
      - "hello"
    outputs:
      - extract_from: router.oom
        events:
          - {ml.cuda.requested_bytes: 2147483648, ml.cuda.free_bytes: 1578400481, service.name: trainer}
      - extract_from: router.progress
        count: 1
        conditions: ['ml.step == 3', 'ml.act_loss < 1']
      - extract_from: keep_errors
        events: [{message: ERROR something else}]
  - name: inserting downstream skips the parser
    insert_at: router
    inputs: [{message: x, ml.step: 7}]
    outputs:
      - extract_from: router.progress
        events: [{ml.step: 7, service.name: <missing>}]
"""


def run_cli(tmp_path: Path, tests: str, config: str | None = None, extra: list[str] | None = None) -> tuple[int, str, str]:
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(config if config is not None else CONFIG.format(data_dir=tmp_path / "data"), encoding="utf-8")
    (tmp_path / "pipeline.tests.yaml").write_text(tests, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    rc = main(["-c", str(cfg), *(extra or [])], out=out, err=err, host_name=lambda: "test-host")
    return rc, out.getvalue(), err.getvalue()


class TestPipelineTests:
    def test_passing_suite_exits_zero(self, tmp_path: Path) -> None:
        """Expectations met through parse, add_fields, route and filter give 'ok' lines and exit 0."""
        rc, out, err = run_cli(tmp_path, PASSING)
        assert err == ""
        assert "test 'oom and progress are routed' ... ok" in out
        assert "test 'inserting downstream skips the parser' ... ok" in out
        assert out.endswith("2 tests: 2 passed, 0 failed\n")
        assert rc == 0

    def test_failure_prints_a_unified_diff(self, tmp_path: Path) -> None:
        """A wrong expected value fails with a diff of expected vs actual JSON and exit 1."""
        tests = PASSING.replace("ml.step: 7, service.name: <missing>", "ml.step: 8, service.name: <missing>")
        rc, out, _ = run_cli(tmp_path, tests)
        assert rc == 1
        assert "test 'inserting downstream skips the parser' ... FAILED" in out
        assert "router.progress: events differ (1 expected, 1 got)" in out
        assert "    --- expected\n    +++ actual\n" in out
        assert '    -    "ml.step": 8,\n    +    "ml.step": 7,\n' in out

    def test_count_and_condition_failures_are_explained(self, tmp_path: Path) -> None:
        """A wrong count and an unmet condition are each reported with the offending event."""
        tests = PASSING.replace("count: 1", "count: 2").replace("'ml.act_loss < 1'", "'ml.act_loss > 1'")
        rc, out, _ = run_cli(tmp_path, tests)
        assert rc == 1
        assert "router.progress: expected 2 events, got 1" in out
        assert "router.progress: event 0 does not satisfy 'ml.act_loss > 1'" in out
        assert '"ml.act_loss": 0.5' in out

    def test_unknown_ids_are_reported_per_test(self, tmp_path: Path) -> None:
        """insert_at and extract_from naming missing components or routes fail that test with a reason."""
        tests = """\
tests:
  - name: bad ids
    insert_at: enrich
    inputs: [x]
    outputs:
      - {extract_from: router.nope, count: 0}
      - {extract_from: parse_app, count: 0}
  - name: bad insert
    insert_at: app
    inputs: [x]
    outputs: [{extract_from: enrich, count: 1}]
"""
        rc, out, _ = run_cli(tmp_path, tests)
        assert rc == 1
        assert "extract_from: 'router.nope': 'router' has no output named 'nope' (it has: oom, progress, _unmatched)" in out
        assert "extract_from: 'parse_app' is not downstream of 'enrich'" in out
        assert "insert_at: 'app' is not a transform of the config" in out

    def test_malformed_tests_file_exits_78(self, tmp_path: Path) -> None:
        """A tests file that does not match the schema is a usage error (78) naming the file and key."""
        rc, out, err = run_cli(tmp_path, "tests:\n  - name: x\n    insert_at: enrich\n    inputs: [x]\n    outputs: [{extract_from: enrich}]\n")
        assert rc == 78 and out == ""
        assert "pipeline.tests.yaml" in err and "an output needs `events`, `count` or `conditions`" in err

    def test_invalid_config_exits_78(self, tmp_path: Path) -> None:
        """A config the loader rejects stops before any test runs, with the loader's message."""
        rc, _, err = run_cli(tmp_path, PASSING, config="sources: {}\nbogus: 1\n")
        assert rc == 78 and "bogus" in err

    def test_explicit_tests_path(self, tmp_path: Path) -> None:
        """-t selects another tests file instead of <stem>.tests.yaml."""
        other = tmp_path / "other.yaml"
        other.write_text(PASSING, encoding="utf-8")
        rc, out, _ = run_cli(tmp_path, "not: [valid", extra=["-t", str(other)])
        assert rc == 0 and "2 passed" in out

    def test_default_tests_path(self) -> None:
        """The default tests file sits next to the config as <stem>.tests.yaml."""
        assert default_tests_path("/etc/logferry/pipeline.yaml") == Path("/etc/logferry/pipeline.tests.yaml")

    def test_no_config_given(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without -c or LOGFERRY_CONFIG the command explains and exits 78."""
        monkeypatch.delenv("LOGFERRY_CONFIG", raising=False)
        err = io.StringIO()
        assert main([], out=io.StringIO(), err=err) == 78
        assert "no config file" in err.getvalue()
