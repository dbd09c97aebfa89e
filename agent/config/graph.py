"""The pipeline graph: who feeds whom, and what is wrong with it.

Pure functions over component ids; the loader turns the ``GraphIssue`` paths
into file positions. Data flows from a component to the components that list
it in ``inputs``. An input is a component id (``app``) or a named output of a
transform (``router.errors``).
"""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from logferry.agent.registry import SINGULAR


def split_input(ref: str) -> tuple[str, str | None]:
    """``"router.errors"`` -> ``("router", "errors")``; ``"app"`` -> ``("app", None)``."""
    component, dot, name = ref.partition(".")
    return (component, name) if dot else (component, None)


@dataclass(frozen=True)
class GraphNode:
    kind: str  # "sources" | "transforms" | "outputs"
    inputs: tuple[str, ...] | None  # None: unknown, because the component's config is broken
    output_names: tuple[str, ...] | None = ()  # None: unknown, as above


@dataclass(frozen=True)
class GraphIssue:
    path: str  # "transforms.t.inputs[0]" or "transforms.t"
    message: str
    warning: bool = False


def check_graph(nodes: Mapping[str, GraphNode]) -> list[GraphIssue]:
    """Every problem of the graph; ``nodes`` in file order (it decides where a cycle is reported)."""
    issues: list[GraphIssue] = []
    consumed: set[str] = set()
    feeds: dict[str, list[str]] = {cid: [] for cid in nodes}  # component -> its consumers, for cycles
    for cid, node in nodes.items():
        if node.kind == "sources" or node.inputs is None:
            continue
        if not node.inputs:
            issues.append(GraphIssue(f"{node.kind}.{cid}.inputs", "expected at least one input"))
        seen: set[str] = set()
        for i, ref in enumerate(node.inputs):
            where = f"{node.kind}.{cid}.inputs[{i}]"
            target = ref if ref in nodes else split_input(ref)[0]
            consumed.add(target)
            problem = "input is listed twice" if ref in seen else _input_problem(cid, ref, nodes)
            seen.add(ref)
            if problem:
                issues.append(GraphIssue(where, problem))
            elif target != cid and target in feeds and cid not in feeds[target]:
                feeds[target].append(cid)
    issues += _cycle_issues(nodes, feeds)
    for cid, node in nodes.items():
        if node.kind != "outputs" and cid not in consumed:
            issues.append(GraphIssue(f"{node.kind}.{cid}", "no component consumes it", warning=True))
    return issues


def _input_problem(cid: str, ref: str, nodes: Mapping[str, GraphNode]) -> str | None:
    target, name = split_input(ref)
    if target == cid:
        return "a component cannot consume itself"
    if "." in ref and ref in nodes:  # an id with a dot: already an error of its own, not an unknown input
        return None
    node = nodes.get(target)
    if node is None:
        close = difflib.get_close_matches(ref, list(_addressable(nodes)), n=1, cutoff=0.6)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f'unknown input "{ref}"{hint}'
    if node.kind == "outputs":
        return f'"{target}" is an output; only sources and transforms can be inputs'
    if name is None or node.output_names is None:
        return None
    if node.kind == "sources" or not node.output_names:
        return f'{SINGULAR[node.kind]} "{target}" has no named outputs'
    if name not in node.output_names:
        return f'transform "{target}" has no output named "{name}" (its outputs: {", ".join(node.output_names)})'
    return None


def _addressable(nodes: Mapping[str, GraphNode]) -> list[str]:
    names = []
    for cid, node in nodes.items():
        if node.kind != "outputs":
            names.append(cid)
            names += [f"{cid}.{name}" for name in node.output_names or ()]
    return names


def _cycle_issues(nodes: Mapping[str, GraphNode], feeds: Mapping[str, list[str]]) -> list[GraphIssue]:
    """One issue per cycle group, at its first component in file order, naming one full loop."""
    issues = []
    for group in _strongly_connected(feeds):
        if len(group) < 2:
            continue
        position = {cid: i for i, cid in enumerate(nodes)}
        start = min(group, key=position.__getitem__)
        loop = _loop_through(start, group, feeds)
        issues.append(GraphIssue(f"{nodes[start].kind}.{start}", f"inputs form a cycle: {' -> '.join(loop)}"))
    return issues


def _loop_through(start: str, group: set[str], feeds: Mapping[str, list[str]]) -> list[str]:
    """A path start -> ... -> start inside ``group`` (found breadth first, so it is a shortest one)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for cid in frontier:
            for consumer in feeds[cid]:
                if consumer == start:
                    path = [cid]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if consumer in group and consumer not in previous:
                    previous[consumer] = cid
                    following.append(consumer)
        frontier = following
    return [start]  # unreachable for a real group


def _strongly_connected(feeds: Mapping[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so a long chain of transforms cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in feeds:
        if root in index:
            continue
        work = [(root, iter(feeds[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            cid, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(feeds[child])))
                elif child in on_stack:
                    low[cid] = min(low[cid], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[cid])
            if low[cid] == index[cid]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == cid:
                        break
                groups.append(group)
    return groups


def topo_sort(inputs: Mapping[str, Sequence[str]]) -> list[str]:
    """Component ids with every component after the ids in its ``inputs`` (component ids, not refs).

    Ties keep the mapping's order, so sources (listed first) come first.
    Raises ValueError on a cycle.
    """
    position = {cid: i for i, cid in enumerate(inputs)}
    waiting = {cid: len(set(deps)) for cid, deps in inputs.items()}
    consumers: dict[str, list[str]] = {cid: [] for cid in inputs}
    for cid, deps in inputs.items():
        for dep in set(deps):
            consumers[dep].append(cid)
    ready = [position[cid] for cid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ids = list(inputs)
    order: list[str] = []
    while ready:
        cid = ids[heapq.heappop(ready)]
        order.append(cid)
        for consumer in consumers[cid]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                heapq.heappush(ready, position[consumer])
    if len(order) != len(ids):
        raise ValueError(f"cycle among: {', '.join(cid for cid in ids if waiting[cid])}")
    return order
