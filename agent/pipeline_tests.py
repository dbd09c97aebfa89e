"""``logferry test -c pipeline.yaml [-t pipeline.tests.yaml]``: unit tests for a pipeline's transforms.

Like ``vector test``: each test feeds input lines (or events) into one transform, runs it and every
transform downstream of it synchronously, in topological order, and checks what comes out of the
components it names. Sources and outputs are not started; nothing touches the network or the files
the sources read.

The tests live in their own YAML file (the pipeline config rejects unknown top-level keys). By default
that is ``<config stem>.tests.yaml`` next to the config::

    tests:
      - name: CUDA OOM lines go to the alerts route
        insert_at: parse_app              # a transform id: the inputs enter it
        inputs:
          - "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; ...)"   # a line = message
          - {message: "step=3 loss=0.5", log.file.path: /var/log/train.log}            # a map = an event
        outputs:
          - extract_from: router.oom      # a transform id, or <id>.<route> for a named output
            events:                       # expected events in order; only the listed fields are compared
              - {ml.cuda.requested_bytes: 2147483648, tags: [cuda_oom]}
          - extract_from: keep_errors
            count: 0                      # exact number of events
          - extract_from: router._unmatched
            conditions: ['exists(ml.loss)', 'ml.loss < 1']   # every event must satisfy each condition

A failed expectation prints a unified diff of the expected and actual events as JSON (actual events
reduced to the fields the expectation lists). Exit status: 0 all tests pass, 1 a test failed,
78 the config or the tests file is invalid.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import msgspec
import yaml
from msgspec import Meta

from logferry.agent.component import BuildContext, Transform
from logferry.agent.config.common import Strict
from logferry.agent.config.graph import split_input
from logferry.agent.config.load import load_config
from logferry.agent.config.model import LoadedConfig
from logferry.agent.errors import EX_CONFIG, BuildError, ConfigError
from logferry.agent.event import Batch, Event
from logferry.agent.telemetry import ComponentMetrics
from logferry.transforms.condition import Predicate, compile_condition
from logferry.transforms.fields import MISSING, FieldPath

EXIT_OK, EXIT_FAILED = 0, 1


class ExpectedOutput(Strict):
    extract_from: Annotated[str, Meta(description="Transform id, or `<id>.<route>` for a named output.")]
    events: Annotated[list[dict[str, Any]] | None, Meta(description=(
        "Expected events in order; only the fields listed are compared."))] = None
    count: Annotated[Annotated[int, Meta(ge=0)] | None, Meta(description="Exact number of events expected.")] = None
    conditions: Annotated[list[str], Meta(description="Conditions every event must satisfy.")] = []

    def __post_init__(self) -> None:
        if self.events is None and self.count is None and not self.conditions:
            raise ValueError("an output needs `events`, `count` or `conditions`")
        for c in self.conditions:
            compile_condition(c)
        for ev in self.events or []:
            for k in ev:
                FieldPath(k)


class PipelineTest(Strict):
    name: Annotated[str, Meta(min_length=1)]
    insert_at: Annotated[str, Meta(description="Id of the transform that receives the inputs.")]
    inputs: Annotated[list[str | dict[str, Any]], Meta(min_length=1, description=(
        "Lines (become `message`) or whole events."))]
    outputs: Annotated[list[ExpectedOutput], Meta(min_length=1)]


class TestsFile(Strict):
    tests: Annotated[list[PipelineTest], Meta(min_length=1)]


@dataclass
class Failure:
    extract_from: str
    what: str
    detail: str = ""


def default_tests_path(config_path: str | os.PathLike[str]) -> Path:
    """``pipeline.yaml`` -> ``pipeline.tests.yaml`` in the same folder."""
    p = Path(config_path)
    return p.with_name(p.stem + ".tests.yaml")


def load_tests(path: Path) -> TestsFile:
    """The tests file, decoded; ``ValueError`` with ``file: message`` when it is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the tests file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return msgspec.convert(data, TestsFile)
    except msgspec.ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from exc


class PipelineRunner:
    """Builds the config's transforms once per test and pushes test inputs through them."""

    def __init__(self, config: LoadedConfig, data_dir: Path, host_name: str) -> None:
        self.config = config
        self.data_dir = data_dir
        self.host_name = host_name
        order = config.topo_order()
        self.transform_order = [cid for cid in order if cid in config.transforms]

    def check(self, test: PipelineTest) -> list[str]:
        """Problems that make the test impossible to run (unknown ids, unreachable outputs)."""
        problems: list[str] = []
        if test.insert_at not in self.config.transforms:
            problems.append(f"insert_at: {test.insert_at!r} is not a transform of the config")
            return problems
        reachable = self.downstream(test.insert_at)
        for out in test.outputs:
            cid, name = split_input(out.extract_from)
            cfg = self.config.transforms.get(cid)
            if cfg is None:
                problems.append(f"extract_from: {out.extract_from!r}: {cid!r} is not a transform of the config")
            elif name is not None and name not in cfg.output_names():
                problems.append(f"extract_from: {out.extract_from!r}: {cid!r} has no output named {name!r}"
                                f" (it has: {', '.join(cfg.output_names()) or 'none'})")
            elif cid not in reachable:
                problems.append(f"extract_from: {out.extract_from!r} is not downstream of {test.insert_at!r}")
        return problems

    def downstream(self, start: str) -> set[str]:
        seen = {start}
        for cid in self.transform_order:
            if any(split_input(ref)[0] in seen for ref in self.config.transforms[cid].inputs):
                seen.add(cid)
        return seen

    def run(self, test: PipelineTest) -> dict[tuple[str, str | None], list[Event]]:
        """Every (transform id, output name) -> the events it emitted for this test's inputs."""
        produced: dict[tuple[str, str | None], list[Event]] = {}
        reachable = self.downstream(test.insert_at)
        for cid in self.transform_order:
            if cid not in reachable:
                continue
            if cid == test.insert_at:
                events = [_as_event(x) for x in test.inputs]
            else:
                events = []
                for ref in self.config.transforms[cid].inputs:
                    events.extend(copy.deepcopy(produced.get(split_input(ref), [])))
            transform = self._build(cid)
            results = transform.route(Batch.from_events(events)) if events else []
            results += transform.flush()
            for name, batch in results:
                produced.setdefault((cid, name), []).extend(batch.events)
        return produced

    def _build(self, cid: str) -> Transform:
        cfg = self.config.transforms[cid]
        metrics = ComponentMetrics(cid, "transform", cfg.type)
        comp_dir = self.data_dir / cid
        comp_dir.mkdir(parents=True, exist_ok=True)
        ctx = BuildContext(component_id=cid, data_dir=comp_dir, host_name=self.host_name, metrics=metrics,
                           once=True, acknowledgements=False)
        transform = cfg.build(ctx)
        transform.metrics = metrics
        return transform


def _as_event(x: str | dict[str, Any]) -> Event:
    return {"message": x} if isinstance(x, str) else copy.deepcopy(x)


def _dumps(x: Any) -> str:
    return json.dumps(x, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _project(event: Event, keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in keys:
        v = FieldPath(k).get(event)
        out[k] = "<missing>" if v is MISSING else v
    return out


def compare(expected: ExpectedOutput, actual: list[Event]) -> list[Failure]:
    """What is wrong with ``actual`` against one expected output (empty when it matches)."""
    failures: list[Failure] = []
    where = expected.extract_from
    if expected.count is not None and len(actual) != expected.count:
        failures.append(Failure(where, f"expected {expected.count} events, got {len(actual)}",
                                _dumps(actual) if actual else ""))
    if expected.events is not None:
        want = expected.events
        got: list[Any] = []
        for i, ev in enumerate(actual):
            got.append(_project(ev, list(want[i])) if i < len(want) else ev)
        if got != want:
            diff = difflib.unified_diff(_dumps(want).splitlines(), _dumps(got).splitlines(),
                                        "expected", "actual", lineterm="", n=3)
            failures.append(Failure(where, f"events differ ({len(want)} expected, {len(actual)} got)",
                                    "\n".join(diff)))
    predicates: list[tuple[str, Predicate]] = [(c, compile_condition(c)) for c in expected.conditions]
    if predicates and not actual:
        failures.append(Failure(where, "no events to check the conditions on"))
    for i, ev in enumerate(actual):
        for src, pred in predicates:
            if not pred(ev):
                failures.append(Failure(where, f"event {i} does not satisfy {src!r}", _dumps(ev)))
    return failures


def run_tests(config: LoadedConfig, tests: TestsFile, out: TextIO, data_dir: Path, host_name: str) -> int:
    """Run every test, report to ``out``; returns the exit status."""
    runner = PipelineRunner(config, data_dir, host_name)
    failed = 0
    for test in tests.tests:
        problems = runner.check(test)
        failures: list[Failure] = []
        if not problems:
            try:
                produced = runner.run(test)
            except (BuildError, OSError, ValueError) as exc:
                problems = [f"building or running the transforms failed: {exc}"]
            else:
                for expected in test.outputs:
                    failures.extend(compare(expected, produced.get(split_input(expected.extract_from), [])))
        if problems or failures:
            failed += 1
            out.write(f"test {test.name!r} ... FAILED\n")
            for p in problems:
                out.write(f"  {p}\n")
            for f in failures:
                out.write(f"  {f.extract_from}: {f.what}\n")
                if f.detail:
                    out.write("".join(f"    {line}\n" for line in f.detail.splitlines()))
        else:
            out.write(f"test {test.name!r} ... ok\n")
    total = len(tests.tests)
    out.write(f"{total} test{'s' if total != 1 else ''}: {total - failed} passed, {failed} failed\n")
    return EXIT_FAILED if failed else EXIT_OK


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None,
         host_name: Callable[[], str] = socket.gethostname) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    ap = argparse.ArgumentParser(prog="logferry test", description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("-c", "--config", default=os.environ.get("LOGFERRY_CONFIG"),
                    help="pipeline config file (default: $LOGFERRY_CONFIG)")
    ap.add_argument("-t", "--tests", help="tests file (default: <config stem>.tests.yaml next to the config)")
    args = ap.parse_args(argv)
    if not args.config:
        err.write("logferry test: no config file: give -c FILE or set LOGFERRY_CONFIG\n")
        return EX_CONFIG
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return EX_CONFIG
    tests_path = Path(args.tests) if args.tests else default_tests_path(args.config)
    try:
        tests = load_tests(tests_path)
    except ValueError as exc:
        err.write(f"{exc}\n")
        return EX_CONFIG
    with tempfile.TemporaryDirectory(prefix="logferry-test-") as tmp:
        return run_tests(config, tests, out, Path(tmp), host_name())
