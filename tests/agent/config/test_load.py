"""Tests of loading a config file: decoded components and golden `file:line:col: path: message` errors."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from logferry.agent.config.common import ApiConfig
from logferry.agent.config.load import YamlLoader, load_config, load_config_text
from logferry.agent.errors import ConfigError, ConfigProblem
from tests.agent.config.components import BatchCfg, DemoOutputConfig, DemoRouteConfig, DemoSourceConfig

DATA = Path(__file__).parent / "data"

MINIMAL = """\
sources:
  app: {type: demo, include: [/var/log/app.log]}
outputs:
  out: {type: demo, inputs: [app], endpoint: "http://sink.example.invalid"}
"""


def problems(text: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Every problem the loader reports for ``text`` (dedented), as the lines a user reads."""
    with pytest.raises(ConfigError) as caught:
        load_config_text(textwrap.dedent(text), "config.yaml", env or {})
    return [str(problem) for problem in caught.value.problems]


class TestLoadValid:
    def test_components_are_decoded_into_their_classes(self) -> None:
        """A valid file gives each component as its registered config class, with defaults filled in."""
        config = load_config(DATA / "pipeline.yaml", {"LOG_DIR": "/var/log/app"})
        assert isinstance(config.sources["app"], DemoSourceConfig)
        assert config.sources["app"].include == ["/var/log/app/*.log"]
        assert config.sources["audit"].read_from == "beginning"
        assert isinstance(config.transforms["router"], DemoRouteConfig)
        assert config.outputs["search"] == DemoOutputConfig(
            type="demo", inputs=["scrub"], endpoint="https://search.example.invalid:9200",
            batch=BatchCfg(max_bytes=1048576))
        assert config.warnings == []

    def test_path_is_kept_as_given(self) -> None:
        """`path` is the path string the user gave, used in every message."""
        given = str(DATA / "pipeline.yaml")
        assert load_config(given, {"LOG_DIR": "/x"}).path == given

    def test_relative_data_dir_is_resolved_against_the_working_directory(self, monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
        """A relative `data_dir` becomes absolute, relative to the current directory."""
        monkeypatch.chdir(tmp_path)
        assert load_config(DATA / "pipeline.yaml", {"LOG_DIR": "/x"}).data_dir == tmp_path / "state"

    def test_defaults_for_data_dir_and_api(self) -> None:
        """Without `data_dir` and `api` the defaults apply."""
        config = load_config_text(MINIMAL, "config.yaml", {})
        assert config.data_dir == Path("/var/lib/logferry")
        assert config.api == ApiConfig()
        assert config.transforms == {}

    def test_env_values_reach_the_decoded_config(self) -> None:
        """Variables and defaults expanded from the environment end up in the decoded values."""
        config = load_config(DATA / "pipeline.yaml", {"LOG_DIR": "/srv/logs", "API_PORT": "7000", "DATA_DIR": "/d"})
        assert config.api.address == "127.0.0.1:7000"
        assert config.data_dir == Path("/d")
        assert config.sources["app"].include == ["/srv/logs/*.log"]

    def test_topo_order_puts_every_component_after_its_inputs(self) -> None:
        """`topo_order` lists sources first and every component after what feeds it."""
        config = load_config(DATA / "pipeline.yaml", {"LOG_DIR": "/x"})
        assert config.topo_order() == ["app", "audit", "router", "scrub", "search", "alerts"]

    def test_unconsumed_component_is_a_warning(self) -> None:
        """A source nobody consumes is a warning with its position, not an error."""
        config = load_config_text(MINIMAL + "  # end\n", "config.yaml", {})
        assert config.warnings == []
        config = load_config_text(MINIMAL.replace("sources:\n", "sources:\n  spare: {type: demo, include: [x]}\n"),
                                  "config.yaml", {})
        assert config.warnings == ["config.yaml:2:3: sources.spare: no component consumes it"]

    def test_merge_keys_and_anchors_are_supported(self) -> None:
        """YAML anchors and `<<` merge keys work, and an explicit key overrides a merged one."""
        config = load_config_text(textwrap.dedent("""\
            sources:
              app: {type: demo, include: [a]}
            outputs:
              one: &common {type: demo, inputs: [app], endpoint: "http://a.invalid"}
              two:
                <<: *common
                endpoint: "http://b.invalid"
            """), "config.yaml", {})
        assert config.outputs["two"].endpoint == "http://b.invalid"
        assert config.outputs["two"].inputs == ["app"]


class TestComponentErrors:
    def test_every_field_error_of_one_component_is_reported(self) -> None:
        """Several bad fields of one component, nested ones included, are all reported in one pass."""
        assert problems("""\
            sources:
              app: {type: demo, include: [a], read_from: middle, max_line_bytes: 0, extra: 1}
            outputs:
              es:
                type: demo
                inputs: [app]
                endpoint: "http://es.invalid"
                batch:
                  max_bytes: 0
                  max_event: 3
                  timeout_secs: -1
                buffer: {type: disk, max_size_bytes: -5}
                labels: {a: 1, b: x}
            """) == [
            'config.yaml:2:46: sources.app.read_from: expected one of "beginning", "end", got "middle"',
            "config.yaml:2:70: sources.app.max_line_bytes: expected int >= 1",
            "config.yaml:2:73: sources.app.extra: unknown key",
            "config.yaml:9:18: outputs.es.batch.max_bytes: expected int >= 1",
            'config.yaml:10:7: outputs.es.batch.max_event: unknown key (did you mean "max_events"?)',
            "config.yaml:11:21: outputs.es.batch.timeout_secs: expected float > 0.0",
            "config.yaml:12:42: outputs.es.buffer.max_size_bytes: expected int >= 1",
            "config.yaml:13:23: outputs.es.labels.b: expected int, got str",
        ]

    def test_missing_required_fields_point_at_the_component(self) -> None:
        """Each missing required field is reported at the component's key."""
        assert problems("""\
            sources:
              app: {type: demo, include: [a]}
            outputs:
              es:
                type: demo
            """) == [
            'config.yaml:4:3: outputs.es: missing required field "inputs"',
            'config.yaml:4:3: outputs.es: missing required field "endpoint"',
        ]

    def test_post_init_error_points_at_the_component(self) -> None:
        """A cross-field check in `__post_init__` is reported at the component's key with its message."""
        assert problems(MINIMAL.replace("http://sink.example.invalid", "ftp://sink.example.invalid")) == [
            "config.yaml:4:3: outputs.out: endpoint must start with http:// or https://",
        ]

    def test_list_item_errors_name_the_index(self) -> None:
        """A bad list item is reported at the item, with its index in the path."""
        assert problems(MINIMAL.replace("include: [/var/log/app.log]", "include: [a, 5, b]")) == [
            "config.yaml:2:34: sources.app.include[1]: expected str, got int",
        ]

    def test_empty_inputs_list(self) -> None:
        """An output with an empty `inputs` list is an error at the list."""
        assert problems(MINIMAL.replace("inputs: [app]", "inputs: []")) == [
            "config.yaml:4:29: outputs.out.inputs: expected array of length >= 1",
        ]

    def test_unknown_type_lists_the_known_types(self) -> None:
        """An unknown type names itself and the registered types of that kind."""
        assert problems(MINIMAL.replace("{type: demo, include", "{type: fiel, include")) == [
            'config.yaml:2:15: sources.app.type: unknown source type "fiel" (known: demo, ghost, tail)',
        ]

    def test_type_whose_module_does_not_import_is_an_error(self) -> None:
        """A registered type whose module cannot be imported is an error naming the type, not a crash."""
        assert problems(MINIMAL.replace("{type: demo, include", "{type: ghost, include")) == [
            'config.yaml:2:15: sources.app.type: source type "ghost" is not available: ModuleNotFoundError: '
            "No module named 'tests.agent.config.no_such_module'",
        ]

    def test_type_with_a_config_class_msgspec_refuses(self) -> None:
        """A config class msgspec cannot decode into is reported at the type, not raised."""
        assert problems(MINIMAL.replace("type: demo, inputs", "type: broken, inputs")) == [
            'config.yaml:4:15: outputs.out.type: output type "broken" has an invalid config class: '
            "Can only set gt on a numeric type - type typing.Annotated[int | None, msgspec.Meta(gt=0)] is invalid",
        ]

    def test_component_without_type_or_mapping(self) -> None:
        """A component that is not a mapping, or has no `type`, is reported at its key."""
        assert problems("""\
            sources:
              app: [a]
              other: {include: [a]}
            outputs:
              out: {type: 7, inputs: [app]}
            """) == [
            "config.yaml:2:8: sources.app: expected a mapping with a type, got list",
            'config.yaml:3:3: sources.other: missing required field "type"',
            "config.yaml:5:15: outputs.out.type: expected str, got int",
        ]


class TestDocumentErrors:
    def test_top_level_problems(self) -> None:
        """Unknown top-level keys, a bad data_dir, a bad api block and missing sections are all reported."""
        assert problems("""\
            data_dir: 5
            api: {enabled: maybe, port: 1}
            sorces: {}
            """) == [
            "config.yaml:1:1: outputs: at least one output is required",
            "config.yaml:1:1: sources: at least one source is required",
            "config.yaml:1:11: data_dir: expected str, got int",
            "config.yaml:2:16: api.enabled: expected bool, got str",
            "config.yaml:2:23: api.port: unknown key",
            'config.yaml:3:1: sorces: unknown key (did you mean "sources"?)',
        ]

    def test_invalid_and_reused_component_ids(self) -> None:
        """Ids with dots are rejected (once, not again where used), and an id belongs to one component only."""
        assert problems("""\
            sources:
              my.app: {type: demo, include: [a]}
              app: {type: demo, include: [a]}
            outputs:
              app: {type: demo, inputs: [app], endpoint: "http://a.invalid"}
              out: {type: demo, inputs: [app, my.app], endpoint: "http://a.invalid"}
            """) == [
            'config.yaml:2:3: sources.my.app: invalid component id; use letters, digits, "_" and "-"',
            'config.yaml:5:3: outputs.app: id "app" is already used by sources.app',
        ]

    def test_duplicate_keys(self) -> None:
        """A key given twice in one mapping is an error at the second one, naming the first line."""
        assert problems("""\
            sources:
              app: {type: demo, include: [a]}
            outputs:
              out: {type: demo, inputs: [app], endpoint: "http://a.invalid"}
              out: {type: demo, inputs: [app], endpoint: "http://b.invalid", endpoint: "http://c.invalid"}
            """) == [
            "config.yaml:5:3: outputs.out: duplicate key (first on line 4)",
            "config.yaml:5:66: outputs.out.endpoint: duplicate key (first on line 5)",
        ]

    def test_empty_document(self) -> None:
        """An empty file is one clear error."""
        assert problems("# nothing yet\n") == [
            "config.yaml:1:1: the document is empty; expected a mapping with sources and outputs"]

    def test_document_that_is_not_a_mapping(self) -> None:
        """A document that is a list is reported at its start."""
        assert problems("- a\n- b\n") == ["config.yaml:1:1: expected a mapping with sources and outputs, got list"]

    def test_problems_are_sorted_by_line(self) -> None:
        """Problems come sorted by line and column whatever the order they were found in."""
        found = problems("""\
            outputs:
              out: {type: demo, inputs: [nope], endpoint: 1}
            sources:
              app: {type: fiel}
            """)
        assert found == [
            "config.yaml:2:30: outputs.out.inputs[0]: unknown input \"nope\"",
            "config.yaml:2:47: outputs.out.endpoint: expected str, got int",
            'config.yaml:4:15: sources.app.type: unknown source type "fiel" (known: demo, ghost, tail)',
        ]


class TestYamlErrors:
    def test_syntax_error(self) -> None:
        """A YAML syntax error is reported at the position the parser names, with its context line."""
        detail = ("did not find expected ',' or '}'" if YamlLoader is not yaml.SafeLoader
                  else "expected ',' or '}', but got ':'")
        assert problems("sources:\n  app: {type: demo\noutputs: {}\n") == [
            f"config.yaml:3:8: invalid YAML: {detail} (while parsing a flow mapping on line 2)"]

    def test_control_character(self) -> None:
        """A control character in the text is reported at its position."""
        assert problems("sources: \x07\n") == [
            "config.yaml:1:10: invalid YAML: character #x0007: control characters are not allowed"]

    def test_recursive_alias(self) -> None:
        """An alias inside the collection it names is an error, not a crash, and adds no follow-on error."""
        assert problems("sources: &x {a: *x}\noutputs: {}\n") == [
            "config.yaml:1:10: sources.a: an alias refers to a mapping or list that contains it",
            "config.yaml:2:1: outputs: at least one output is required",
        ]

    def test_alias_bomb_is_stopped(self) -> None:
        """Aliases that expand to a huge document stop the load with one error."""
        text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n" for previous, name in zip("abcdefgh", "bcdefghi"))
        found = problems(text)
        assert len(found) == 1 and found[0].endswith(": the document is too large (aliases expanding?)")

    def test_unsafe_and_unknown_tags_are_rejected(self) -> None:
        """Python object tags are refused (safe loading) and reported where they stand."""
        assert problems("""\
            sources:
              a: !!python/object:os.system {}
              b: {type: demo, include: [!!python/name:os.system x]}
            outputs: {}
            """) == [
            "config.yaml:2:6: sources.a: unsupported YAML tag tag:yaml.org,2002:python/object:os.system",
            "config.yaml:3:29: sources.b.include[0]: invalid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/name:os.system'",
            "config.yaml:4:1: outputs: at least one output is required",
        ]

    def test_complex_keys_are_rejected(self) -> None:
        """A mapping used as a key is an error at that key."""
        assert "config.yaml:1:3: mapping keys must be plain scalars" in problems("? [a]\n: 1\n")


class TestInterpolationErrors:
    def test_unset_variables_are_reported_at_their_position(self) -> None:
        """Every unset variable is an error at the line and column of its `${`."""
        assert problems("""\
            data_dir: ${STATE_DIR}
            sources:
              app: {type: demo, include: ["${LOG_DIR}/*.log"]}
            outputs:
              out: {type: demo, inputs: [app], endpoint: "http://${HOST}"}
            """, {"HOST": "h"}) == [
            "config.yaml:1:11: environment variable STATE_DIR is not set",
            "config.yaml:3:32: environment variable LOG_DIR is not set",
        ]

    def test_follow_on_errors_of_a_missing_variable_are_hidden(self) -> None:
        """A value left empty by a missing variable does not also produce a type error on that line."""
        assert problems(MINIMAL.replace("include: [/var/log/app.log]", "max_line_bytes: ${MAX}, include: [a]")) == [
            "config.yaml:2:37: environment variable MAX is not set",
        ]

    def test_positions_after_an_expansion_point_into_the_original_file(self) -> None:
        """A column after a long expanded value is the column in the file the user wrote."""
        text = 'sources:\n  app: {type: demo, include: ["${D}"], max_line_bytes: 0}\n' + MINIMAL.split("\n", 2)[2]
        found = problems(text, {"D": "/a/very/long/directory/name"})
        assert found == ["config.yaml:2:56: sources.app.max_line_bytes: expected int >= 1"]


class TestLoadConfigFile:
    def test_unreadable_file_is_a_config_error(self, tmp_path: Path) -> None:
        """A missing file is a ConfigError naming the file, not an OSError."""
        with pytest.raises(ConfigError) as caught:
            load_config(tmp_path / "absent.yaml")
        assert caught.value.problems == [
            ConfigProblem(str(tmp_path / "absent.yaml"), 0, 0, "", "cannot read the file: No such file or directory")]

    def test_errors_name_the_path_as_given(self, tmp_path: Path) -> None:
        """Messages use the path the user gave, and a UTF-8 BOM does not shift columns."""
        path = tmp_path / "c.yaml"
        path.write_text("\ufeff" + MINIMAL.replace("include: [/var/log/app.log]", "include: []"), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(str(path))
        assert str(caught.value) == f"{path}:2:30: sources.app.include: expected array of length >= 1"
