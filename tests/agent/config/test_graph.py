"""Tests of the pipeline graph checks, on their own and as the loader reports them."""

from __future__ import annotations

import textwrap

import pytest

from logferry.agent.config.graph import GraphIssue, GraphNode, check_graph, split_input, topo_sort
from logferry.agent.config.load import load_config_text
from logferry.agent.errors import ConfigError


def source() -> GraphNode:
    return GraphNode("sources", (), ())


def transform(*inputs: str, names: tuple[str, ...] | None = ()) -> GraphNode:
    return GraphNode("transforms", inputs, names)


def output(*inputs: str) -> GraphNode:
    return GraphNode("outputs", inputs, ())


def errors(nodes: dict[str, GraphNode]) -> list[tuple[str, str]]:
    return [(i.path, i.message) for i in check_graph(nodes) if not i.warning]


class TestSplitInput:
    def test_named_output(self) -> None:
        """A dotted reference splits into component id and output name."""
        assert split_input("router.errors") == ("router", "errors")

    def test_plain_id(self) -> None:
        """A plain id has no output name."""
        assert split_input("app") == ("app", None)


class TestCheckGraph:
    def test_valid_graph_with_fan_out_has_no_issues(self) -> None:
        """A source feeding two branches that both reach outputs is fine."""
        nodes = {"app": source(), "a": transform("app"), "b": transform("app"), "out": output("a", "b")}
        assert check_graph(nodes) == []

    def test_unknown_input_suggests_a_close_id(self) -> None:
        """An unknown input is reported at its list item, with a close known id as a hint."""
        nodes = {"app": source(), "out": output("ap", "zzz")}
        assert errors(nodes) == [("outputs.out.inputs[0]", 'unknown input "ap" (did you mean "app"?)'),
                                 ("outputs.out.inputs[1]", 'unknown input "zzz"')]

    def test_cycle_names_its_components_in_flow_order(self) -> None:
        """A cycle is reported once, at its first component in file order, as a closed loop."""
        nodes = {"app": source(), "a": transform("app", "c"), "b": transform("a"), "c": transform("b"),
                 "out": output("c")}
        assert errors(nodes) == [("transforms.a", "inputs form a cycle: a -> b -> c -> a")]

    def test_two_separate_cycles_are_both_reported(self) -> None:
        """Each independent cycle gets its own issue."""
        nodes = {"app": source(), "a": transform("app", "b"), "b": transform("a"), "c": transform("app", "d"),
                 "d": transform("c"), "out": output("b", "d")}
        assert errors(nodes) == [("transforms.a", "inputs form a cycle: a -> b -> a"),
                                 ("transforms.c", "inputs form a cycle: c -> d -> c")]

    def test_component_consuming_itself(self) -> None:
        """A transform listing itself as input is an error at that item."""
        nodes = {"app": source(), "t": transform("app", "t"), "out": output("t")}
        assert errors(nodes) == [("transforms.t.inputs[1]", "a component cannot consume itself")]

    def test_output_cannot_be_an_input(self) -> None:
        """An output listed as an input is an error."""
        nodes = {"app": source(), "a": output("app"), "b": output("a")}
        assert errors(nodes) == [("outputs.b.inputs[0]", '"a" is an output; only sources and transforms can be inputs')]

    def test_named_outputs_are_checked(self) -> None:
        """A known named output is accepted; an unknown name, or a name on a source, is an error."""
        nodes = {"app": source(), "router": transform("app", names=("errors", "rest")), "t": transform("app"),
                 "out": output("router.errors", "router.rest", "router.nope", "app.x", "t.y")}
        assert errors(nodes) == [
            ("outputs.out.inputs[2]", 'transform "router" has no output named "nope" (its outputs: errors, rest)'),
            ("outputs.out.inputs[3]", 'source "app" has no named outputs'),
            ("outputs.out.inputs[4]", 'transform "t" has no named outputs'),
        ]

    def test_named_outputs_of_a_broken_transform_are_not_judged(self) -> None:
        """When a transform's config did not decode, references to its named outputs are not reported."""
        nodes = {"app": source(), "router": transform("app", names=None), "out": output("router.any")}
        assert check_graph(nodes) == []

    def test_duplicate_input_and_empty_inputs(self) -> None:
        """An input listed twice, and a component with no inputs, are errors."""
        nodes = {"app": source(), "t": transform(), "out": output("app", "app")}
        assert errors(nodes) == [("transforms.t.inputs", "expected at least one input"),
                                 ("outputs.out.inputs[1]", "input is listed twice")]

    def test_unconsumed_sources_and_transforms_are_warnings(self) -> None:
        """A source or transform nobody consumes is a warning; consuming a named output counts."""
        nodes = {"app": source(), "spare": source(), "router": transform("app", names=("x",)),
                 "idle": transform("app"), "out": output("router.x")}
        assert check_graph(nodes) == [GraphIssue("sources.spare", "no component consumes it", warning=True),
                                      GraphIssue("transforms.idle", "no component consumes it", warning=True)]

    def test_unknown_inputs_of_a_broken_component_are_skipped(self) -> None:
        """A component whose inputs are unknown (broken config) adds no graph errors."""
        nodes = {"app": source(), "out": GraphNode("outputs", None, None)}
        assert errors(nodes) == []


class TestTopoSort:
    def test_every_component_comes_after_its_inputs(self) -> None:
        """Sorting puts inputs first and keeps the given order among ready components."""
        order = topo_sort({"s1": [], "s2": [], "c": ["b"], "b": ["s1"], "a": ["s2", "c"], "out": ["a", "b"]})
        assert order == ["s1", "s2", "b", "c", "a", "out"]

    def test_cycle_raises(self) -> None:
        """A cycle cannot be ordered and raises ValueError naming the components left."""
        with pytest.raises(ValueError, match="^cycle among: a, b$"):
            topo_sort({"s": [], "a": ["s", "b"], "b": ["a"]})


class TestGraphErrorsInFile:
    def test_graph_errors_carry_file_positions(self) -> None:
        """Graph errors are reported like every other problem: at the input item or the component key."""
        text = textwrap.dedent("""\
            sources:
              app: {type: demo, include: [a]}
            transforms:
              a: {type: demo, inputs: [app, b]}
              b:
                type: demo
                inputs:
                  - a
              router: {type: route, inputs: [app], routes: {errors: "x"}}
            outputs:
              out: {type: demo, inputs: [b, router.error, nope], endpoint: "http://a.invalid"}
            """)
        with pytest.raises(ConfigError) as caught:
            load_config_text(text, "config.yaml", {})
        assert [str(p) for p in caught.value.problems] == [
            "config.yaml:4:3: transforms.a: inputs form a cycle: a -> b -> a",
            'config.yaml:11:33: outputs.out.inputs[1]: transform "router" has no output named "error" '
            "(its outputs: errors)",
            'config.yaml:11:47: outputs.out.inputs[2]: unknown input "nope"',
        ]

    def test_warning_for_an_unconsumed_transform_names_its_position(self) -> None:
        """A transform nobody consumes gives a positioned warning and the config still loads."""
        text = textwrap.dedent("""\
            sources:
              app: {type: demo, include: [a]}
            transforms:
              used: {type: demo, inputs: [app]}
              unused: {type: demo, inputs: [app]}
            outputs:
              out: {type: demo, inputs: [used], endpoint: "http://a.invalid"}
            """)
        config = load_config_text(text, "config.yaml", {})
        assert config.warnings == ["config.yaml:5:3: transforms.unused: no component consumes it"]
        assert config.topo_order() == ["app", "used", "unused", "out"]
