"""Directed-graph analytics for the service dependency graph.

Edges point from a service to what it depends on (`checkout -> payments`). "Upstream" of X
is what X depends on, transitively; "downstream" (the blast radius) is everything that depends
on X, transitively. The layout is a longest-path layering (Sugiyama's first phase) with a
barycentre pass to reduce crossings, enough for graphs of a few hundred services.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def adjacency(edges: Iterable[tuple[N, N]]) -> dict[N, list[N]]:
    graph: dict[N, list[N]] = {}
    for source, target in edges:
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    return graph


def reverse(graph: Mapping[N, Sequence[N]]) -> dict[N, list[N]]:
    reversed_graph: dict[N, list[N]] = {node: [] for node in graph}
    for source, targets in graph.items():
        for target in targets:
            reversed_graph.setdefault(target, []).append(source)
    return reversed_graph


def reachable(graph: Mapping[N, Sequence[N]], start: N) -> dict[N, int]:
    """Every node reachable from `start` (excluding it) with its hop distance."""
    distances: dict[N, int] = {start: 0}
    queue: deque[N] = deque([start])
    while queue:
        node = queue.popleft()
        for neighbour in graph.get(node, ()):
            if neighbour not in distances:
                distances[neighbour] = distances[node] + 1
                queue.append(neighbour)
    del distances[start]
    return distances


def shortest_path(graph: Mapping[N, Sequence[N]], start: N, goal: N) -> list[N] | None:
    """The shortest directed path from `start` to `goal`, both included, or None."""
    previous: dict[N, N | None] = {start: None}
    queue: deque[N] = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return _unwind(previous, goal)
        for neighbour in graph.get(node, ()):
            if neighbour not in previous:
                previous[neighbour] = node
                queue.append(neighbour)
    return None


def _unwind(previous: Mapping[N, N | None], goal: N) -> list[N]:
    path: list[N] = [goal]
    step = previous[goal]
    while step is not None:
        path.append(step)
        step = previous[step]
    path.reverse()
    return path


def cycle_if_added(graph: Mapping[N, Sequence[N]], source: N, target: N) -> list[N] | None:
    """The cycle that adding `source -> target` would close, as a node list, or None."""
    if source == target:
        return [source, source]
    back = shortest_path(graph, target, source)
    return [source, *back] if back else None


def find_cycle(graph: Mapping[N, Sequence[N]]) -> list[N] | None:
    """Some directed cycle in the graph (first node repeated at the end), or None."""
    colour: dict[N, int] = {}
    for root in graph:
        if root in colour:
            continue
        cycle = _cycle_from(graph, root, colour)
        if cycle:
            return cycle
    return None


def _cycle_from(graph: Mapping[N, Sequence[N]], root: N, colour: dict[N, int]) -> list[N] | None:
    stack: list[tuple[N, int]] = [(root, 0)]
    path: list[N] = [root]
    colour[root] = 1
    while stack:
        node, index = stack[-1]
        targets = graph.get(node, ())
        if index == len(targets):
            stack.pop()
            path.pop()
            colour[node] = 2
            continue
        stack[-1] = (node, index + 1)
        target = targets[index]
        if colour.get(target) == 1:
            return [*path[path.index(target) :], target]
        if target not in colour:
            colour[target] = 1
            stack.append((target, 0))
            path.append(target)
    return None


@dataclass(frozen=True)
class Placement:
    """Where a node goes in a layered drawing: its layer (column) and slot (row)."""

    layer: int
    slot: int


def layered_layout(graph: Mapping[N, Sequence[N]]) -> dict[N, Placement]:
    """Place an acyclic graph in layers: each node one layer right of its dependants."""
    order = _topological(graph)
    layer: dict[N, int] = dict.fromkeys(order, 0)
    for node in order:
        for target in graph.get(node, ()):
            layer[target] = max(layer[target], layer[node] + 1)
    columns: dict[int, list[N]] = {}
    for node in order:
        columns.setdefault(layer[node], []).append(node)
    slot: dict[N, float] = {}
    parents = reverse(graph)
    for index in sorted(columns):
        column = columns[index]
        for position, node in enumerate(column):
            above = [slot[p] for p in parents.get(node, ()) if p in slot]
            slot[node] = sum(above) / len(above) if above else float(position)
        column.sort(key=lambda n: (slot[n], str(n)))
        for position, node in enumerate(column):
            slot[node] = float(position)
    return {node: Placement(layer[node], int(slot[node])) for node in order}


def _topological(graph: Mapping[N, Sequence[N]]) -> list[N]:
    indegree: dict[N, int] = dict.fromkeys(graph, 0)
    for targets in graph.values():
        for target in targets:
            indegree[target] = indegree.get(target, 0) + 1
    ready = deque(sorted((n for n, d in indegree.items() if d == 0), key=str))
    order: list[N] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for target in graph.get(node, ()):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    if len(order) != len(indegree):
        raise ValueError("the graph has a cycle; layering needs an acyclic graph")
    return order
