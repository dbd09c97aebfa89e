"""Load a config file and report every problem in it, each as ``file:line:col: key.path: message``.

Usage:
    config = load_config("/etc/logferry/config.yaml")  # env defaults to os.environ; or load_config_text(text, name)
    # On any problem: ConfigError with .problems (ConfigProblem list, sorted by line); exit with errors.EX_CONFIG (78).
    config.sources / .transforms / .outputs  -> {id: decoded config Struct}; config.api, config.data_dir (absolute)
    config.topo_order()  -> ids, every component after its inputs; graph.split_input("router.errors") for named inputs
    config.warnings      -> ["config.yaml:7:3: transforms.unused: no component consumes it"]; log them, they do not fail

Pipeline: expand ``${VAR}`` on the raw text (interpolate.py), compose the YAML
keeping a mark for every key and value, build plain data, check the top level,
decode each component through the registry (decode.py reports every field
problem), then check the graph (graph.py). Nothing is built and nothing but
the file is read.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from logferry.agent import registry
from logferry.agent.config.common import ApiConfig, ComponentConfig, TransformConfig
from logferry.agent.config.decode import INVALID, Issue, decode, unknown_key, unusable_type
from logferry.agent.config.graph import GraphNode, check_graph
from logferry.agent.config.interpolate import interpolate
from logferry.agent.config.model import DEFAULT_DATA_DIR, LoadedConfig
from logferry.agent.errors import ConfigError, ConfigProblem

TOP_LEVEL_KEYS = ("data_dir", "api", *registry.KINDS)
COMPONENT_ID = re.compile(r"[A-Za-z0-9_-]+")
_NODE_BUDGET = 200_000  # YAML nodes visited, counting alias re-visits: stops "billion laughs" documents
_EMPTY_DOCUMENT = "the document is empty; expected a mapping with sources and outputs"
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
# libyaml's parser is about 10x faster than the pure Python one; its marks also count characters, not bytes.
YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and check ``path``; raises ConfigError with every problem found."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError([ConfigProblem(name, 0, 0, "", f"cannot read the file: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(name, 0, 0, "", f"not UTF-8 text (bad byte at offset {exc.start})")]) from exc
    return load_config_text(text, name, env)


def load_config_text(text: str, filename: str, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Check config ``text``; ``filename`` is only used in messages."""
    return _Load(text, filename, os.environ if env is None else env).run()


class _Load:
    """One pass over one file: collects problems instead of stopping at the first."""

    def __init__(self, text: str, filename: str, env: Mapping[str, str]) -> None:
        self.file = filename
        self.expanded = interpolate(text, env)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.marks: dict[str, tuple[int, int]] = {}  # key path -> (key index, value index) in the expanded text
        self.problems: list[ConfigProblem] = []
        self.warnings: list[ConfigProblem] = []
        self.budget = _NODE_BUDGET
        self.flattened: set[int] = set()  # mappings whose merge keys are resolved
        self.active: set[int] = set()  # collections being built, to catch recursive aliases
        self.unbuilt_paths: set[str] = set()  # paths with a YAML-level problem
        for error in self.expanded.errors:
            self.problems.append(self._problem_at_original(error.index, "", error.message))
        # A value whose variable is missing is garbage; problems about it on the same line are noise.
        self.unreliable_lines = {p.line for p in self.problems}

    def run(self) -> LoadedConfig:
        loader = YamlLoader(self.expanded.text)
        try:
            root = self._compose(loader)
            if root is not None:
                self.marks[""] = (root.start_mark.index, root.start_mark.index)
            data = self._data(loader, root, "") if root is not None else None
        except RecursionError:
            self.problems.append(ConfigProblem(self.file, 1, 1, "", "the document nests too deeply"))
            raise self._error() from None
        finally:
            loader.dispose()
        if root is None:
            if not self.problems:
                self.problems.append(ConfigProblem(self.file, 1, 1, "", _EMPTY_DOCUMENT))
            raise self._error()
        if not isinstance(data, dict):
            self._add("", f"expected a mapping with sources and outputs, got {_kind(data)}")
            raise self._error()
        config = self._check_document(data)
        if self.problems:
            raise self._error()
        assert config is not None
        config.warnings = [str(w) for w in sorted(self.warnings, key=_order)]
        return config

    # -- YAML -----------------------------------------------------------------

    def _compose(self, loader: Any) -> yaml.Node | None:
        try:
            return loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = f"invalid YAML: {exc.problem or exc.context}"
            if exc.context and exc.problem and exc.context_mark is not None:
                message += f" ({exc.context} on line {self._position(exc.context_mark.index)[0]})"
            self.problems.append(self._problem(mark.index if mark else 0, "", message))
        except yaml.reader.ReaderError as exc:
            character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
            message = f"invalid YAML: character #x{character:04x}: {exc.reason}"
            self.problems.append(self._problem(exc.position, "", message))
        raise self._error()

    def _data(self, loader: Any, node: yaml.Node, path: str) -> Any:
        """Plain data for ``node``; records the marks of every key and value below ``path``."""
        self.budget -= 1
        if self.budget < 0:
            self._add_at(node.start_mark.index, path, "the document is too large (aliases expanding?)")
            raise self._error()
        if isinstance(node, yaml.ScalarNode):
            try:
                return loader.construct_object(node)
            except yaml.YAMLError as exc:
                self._add_at(node.start_mark.index, path, f"invalid YAML: {getattr(exc, 'problem', exc)}")
                return None
        if node.tag not in _PLAIN_TAGS:
            self._add_at(node.start_mark.index, path, f"unsupported YAML tag {node.tag}")
            return None
        if id(node) in self.active:
            self._add_at(node.start_mark.index, path, "an alias refers to a mapping or list that contains it")
            return None
        self.active.add(id(node))
        try:
            return self._collection(loader, node, path)
        finally:
            self.active.discard(id(node))

    def _collection(self, loader: Any, node: yaml.Node, path: str) -> Any:
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.marks[f"{path}[{i}]"] = (item.start_mark.index, item.start_mark.index)
                items.append(self._data(loader, item, f"{path}[{i}]"))
            return items
        assert isinstance(node, yaml.MappingNode)
        if id(node) not in self.flattened:  # an aliased mapping is visited again, already merged
            self.flattened.add(id(node))
            self._check_duplicate_keys(node, path)
            try:
                loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            except yaml.YAMLError as exc:
                self._add_at(node.start_mark.index, path, f"invalid YAML: {getattr(exc, 'problem', exc)}")
                return None
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._add_at(key_node.start_mark.index, path, "mapping keys must be plain scalars")
                continue
            # Keys stay as written ("on", "200"), not YAML-typed: they are names.
            child = f"{path}.{key_node.value}" if path else key_node.value
            self.marks[child] = (key_node.start_mark.index, value_node.start_mark.index)
            mapping[key_node.value] = self._data(loader, value_node, child)
        return mapping

    def _check_duplicate_keys(self, node: yaml.MappingNode, path: str) -> None:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            index = key_node.start_mark.index
            if key_node.value in first_line:
                child = f"{path}.{key_node.value}" if path else key_node.value
                self._add_at(index, child, f"duplicate key (first on line {first_line[key_node.value]})")
            else:
                first_line[key_node.value] = self._position(index)[0]

    # -- document -------------------------------------------------------------

    def _check_document(self, data: dict[str, Any]) -> LoadedConfig | None:
        for key in data:
            if key not in TOP_LEVEL_KEYS:
                self._add(key, unknown_key(key, TOP_LEVEL_KEYS), at_key=True)
        data_dir = self._data_dir(data.get("data_dir", DEFAULT_DATA_DIR))
        api, issues = decode(ApiConfig, {} if data.get("api") is None else data["api"], "api")
        self._add_issues(issues)
        sections: dict[str, dict[str, Any]] = {section: {} for section in registry.KINDS}
        owners: dict[str, str] = {}
        nodes: dict[str, GraphNode] = {}
        for section in registry.KINDS:
            raw = data.get(section)
            singular = registry.SINGULAR[section]
            if raw is None or raw == {}:
                if section != "transforms":
                    self._add(section, f"at least one {singular} is required", at_key=True)
                continue
            if not isinstance(raw, dict):
                self._add(section, f"expected a mapping of {singular} ids to {singular}s, got {_kind(raw)}")
                continue
            for cid, body in raw.items():
                path = f"{section}.{cid}"
                if cid in owners:
                    self._add(path, f'id "{cid}" is already used by {owners[cid]}.{cid}', at_key=True)
                    continue
                owners[cid] = section
                if not COMPONENT_ID.fullmatch(cid):
                    self._add(path, 'invalid component id; use letters, digits, "_" and "-"', at_key=True)
                config = self._component(section, cid, body)
                if config is not None:
                    sections[section][cid] = config
                nodes[cid] = _graph_node(section, config, body)
        for issue in check_graph(nodes):
            at_key = "[" not in issue.path and not issue.path.endswith(".inputs")
            line, column = self._position(self._index(issue.path, at_key))
            problem = ConfigProblem(self.file, line, column, issue.path, issue.message)
            (self.warnings if issue.warning else self.problems).append(problem)
        if self.problems or api is INVALID or data_dir is None:
            return None
        return LoadedConfig(self.file, data_dir, api, sections["sources"], sections["transforms"],
                            sections["outputs"])

    def _data_dir(self, value: Any) -> Path | None:
        text, issues = decode(str, value, "data_dir")
        self._add_issues(issues)
        if issues:
            return None
        if not text.strip():
            self._add("data_dir", "expected a non-empty path")
            return None
        path = Path(text)
        return path if path.is_absolute() else Path.cwd() / path

    def _component(self, section: registry.Kind, cid: str, body: Any) -> ComponentConfig | None:
        path, singular = f"{section}.{cid}", registry.SINGULAR[section]
        if not isinstance(body, dict):
            self._add(path, f"expected a mapping with a type, got {_kind(body)}")
            return None
        if "type" not in body:
            self._add(path, 'missing required field "type"', at_key=True)
            return None
        type_name = body["type"]
        if not isinstance(type_name, str):
            self._add(f"{path}.type", f"expected str, got {_kind(type_name)}")
            return None
        try:
            cls = registry.lookup(section, type_name)
        except Exception as exc:  # a module another team has not finished must not crash the check
            self._add(f"{path}.type", f'{singular} type "{type_name}" is not available: {type(exc).__name__}: {exc}')
            return None
        if cls is None:
            known = ", ".join(registry.type_names(section))
            self._add(f"{path}.type", f'unknown {singular} type "{type_name}" (known: {known})')
            return None
        if reason := unusable_type(cls):
            reason = reason.replace("`", "")
            self._add(f"{path}.type", f'{singular} type "{type_name}" has an invalid config class: {reason}')
            return None
        try:
            config, issues = decode(cls, body, path)
        except Exception as exc:  # a bug in a component's __post_init__, reported instead of crashing
            self._add(path, f"checking this {singular} failed: {type(exc).__name__}: {exc}", at_key=True)
            return None
        self._add_issues(issues)
        return None if config is INVALID else config

    # -- positions and problems ----------------------------------------------

    def _index(self, path: str, at_key: bool) -> int:
        """Index (in the expanded text) of ``path``'s key or value, else of its nearest recorded ancestor's key."""
        probe = path
        while probe not in self.marks and probe:
            probe = probe[:max(probe.rfind("."), probe.rfind("["), 0)]
            at_key = True
        if probe in self.marks:
            key_index, value_index = self.marks[probe]
            return key_index if at_key else value_index
        return 0

    def _position(self, expanded_index: int) -> tuple[int, int]:
        return self._line_column(self.expanded.original_index(expanded_index))

    def _line_column(self, index: int) -> tuple[int, int]:
        """1-based line and column of ``index`` in the original text."""
        line = bisect.bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def _problem(self, expanded_index: int, path: str, message: str) -> ConfigProblem:
        return ConfigProblem(self.file, *self._position(expanded_index), path, message)

    def _problem_at_original(self, index: int, path: str, message: str) -> ConfigProblem:
        return ConfigProblem(self.file, *self._line_column(index), path, message)

    def _add(self, path: str, message: str, at_key: bool = False) -> None:
        if path in self.unbuilt_paths:  # its YAML problem is already reported; its value is a stand-in None
            return
        self.problems.append(self._problem(self._index(path, at_key), path, message))

    def _add_at(self, expanded_index: int, path: str, message: str) -> None:
        self.unbuilt_paths.add(path)
        self.problems.append(self._problem(expanded_index, path, message))

    def _add_issues(self, issues: list[Issue]) -> None:
        for issue in issues:
            self._add(issue.path, issue.message, issue.at_key)

    def _error(self) -> ConfigError:
        interpolation = len(self.expanded.errors)
        kept = self.problems[:interpolation] + [
            p for p in self.problems[interpolation:] if p.line not in self.unreliable_lines]
        return ConfigError(sorted(kept, key=_order))


def _graph_node(section: str, config: ComponentConfig | None, body: Any) -> GraphNode:
    if section == "sources":
        return GraphNode(section, (), ())
    if config is not None:
        names = config.output_names() if isinstance(config, TransformConfig) else ()
        return GraphNode(section, tuple(config.inputs), tuple(names))  # type: ignore[attr-defined]
    # A broken component still takes part, so its inputs are checked and what it consumes is not "unused".
    raw = body.get("inputs") if isinstance(body, dict) else None
    usable = isinstance(raw, list) and raw and all(isinstance(ref, str) for ref in raw)
    return GraphNode(section, tuple(raw) if usable else None, None)


def _order(problem: ConfigProblem) -> tuple[int, int, str]:
    return problem.line, problem.column, problem.path


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "mapping"
    return "list" if isinstance(value, list) else type(value).__name__
