"""Task graphs: the one module that imports networkx, and everything that orders or walks tasks goes through it.

Validation (cycles, "is A upstream of B?"), the run semantics (order, repair selection, ``only`` expansion),
``flowdef graph`` (drawing order), deploy (which job to create first) and the fake workspace all build a
:class:`Dag` here and ask it.  networkx does the algorithms, used through its public API only; this module adds
what networkx does not offer in the shape flowdef needs:

- a deterministic order: generation by generation, each generation in declaration order;
- one cycle path per strongly connected component, starting at the task the user declared first (FD101);
- :class:`Ancestry`, "is A upstream of B?" for task-value references, as bitsets propagated once in topological
  order (linear in the job's size, where per-query ``nx.ancestors`` would be quadratic for jobs that read many
  values);
- :func:`waves`, layers that can run in parallel even when some nodes are stuck behind a cycle.

networkx is imported when something first asks for a graph (``import flowdef`` stays light).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from flowdef.model.spec import JobSpec


class Dag:
    """Nodes (declaration order) and edges upstream -> downstream, over a ``networkx.DiGraph``.

    Self-edges, repeated edges and edges to or from unknown nodes are left out: validation reports those with their
    own rules (FD102, FD103), and a run drops dependencies outside an ``only`` selection on purpose."""

    def __init__(self, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> None:
        self.nodes: list[str] = list(dict.fromkeys(nodes))
        self.position: dict[str, int] = {n: i for i, n in enumerate(self.nodes)}
        known = self.position
        edges = list(edges)
        try:
            kept = [(up, down) for up, down in edges if up != down and up in known and down in known]
        except TypeError:  # an unhashable endpoint (a mistyped depends_on): no node, so no edge
            kept = [(up, down) for up, down in edges if up != down and _hashable(up) and _hashable(down)
                    and up in known and down in known]
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from(kept)
        self.graph = g

    def __contains__(self, node: object) -> bool:
        return _hashable(node) and node in self.position

    @property
    def pred(self):
        """node -> its predecessors (networkx's read-only adjacency view)."""
        return self.graph.pred

    @property
    def succ(self):
        """node -> its successors (networkx's read-only adjacency view)."""
        return self.graph.succ

    @functools.cached_property
    def predecessor_sets(self) -> dict[str, Mapping[str, Any]]:
        """node -> its predecessors, as one dict made once (the reverse view's adjacency: no view per lookup)."""
        return dict(self.graph.reverse(copy=False).adjacency())

    @functools.cached_property
    def generations(self) -> list[list[str]]:
        """Topological generations (a node comes after all its predecessors), each in declaration order; empty on
        a cyclic graph (check ``is_acyclic``)."""
        try:
            position = self.position.__getitem__  # (a chain's generations hold one node: nothing to sort)
            return [sorted(gen, key=position) if len(gen) > 1 else gen
                    for gen in nx.topological_generations(self.graph)]
        except nx.NetworkXUnfeasible:
            return []

    @property
    def is_acyclic(self) -> bool:
        return bool(self.generations) or not self.nodes

    @functools.cached_property
    def order(self) -> list[str]:
        """Topological order, generation by generation, each in declaration order; empty on a cyclic graph."""
        return [n for gen in self.generations for n in gen]

    def roots(self) -> list[str]:
        return [n for n in self.nodes if self.graph.in_degree(n) == 0]


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def build(job: JobSpec) -> Dag:
    """The job's task graph (top-level tasks; a for-each task's nested task is part of its for-each task)."""
    tasks = job.tasks
    return Dag([t.key for t in tasks], [(d.task_key, t.key) for t in tasks for d in t.depends_on])


def of_payload(tasks: Iterable[Mapping[str, Any]]) -> Dag:
    """The graph of Jobs API task dicts (``task_key``, ``depends_on: [{task_key, outcome}]``), in the given order.
    Dependencies on keys that are not among ``tasks`` are left out (an ``only`` run drops them on purpose)."""
    tasks = list(tasks)
    return Dag([t["task_key"] for t in tasks],
               [(d["task_key"], t["task_key"]) for t in tasks for d in t.get("depends_on") or ()])


def of_dependencies(deps: Mapping[str, Iterable[str]]) -> Dag:
    """``{node: nodes it depends on}`` (in the mapping's order); dependencies outside the mapping are left out."""
    return Dag(deps, [(d, k) for k, ds in deps.items() for d in ds])


def topological_order(g: Dag) -> list[str]:
    return list(g.order)


def generations(g: Dag) -> list[list[str]]:
    return [list(gen) for gen in g.generations]


def roots(g: Dag) -> list[str]:
    return g.roots()


def cycles(g: Dag) -> list[list[str]]:
    """One cycle path per non-trivial strongly connected component, e.g. ``["a", "b", "c", "a"]``.

    The path is a shortest cycle through the component's task declared first, so the message names the task the
    user wrote first; paths are sorted by that task's position."""
    if g.is_acyclic:
        return []
    position = g.position
    found = []
    for component in nx.strongly_connected_components(g.graph):
        if len(component) < 2:
            continue
        sub = g.graph.subgraph(component)
        start = min(component, key=position.__getitem__)
        paths = nx.single_source_shortest_path(sub, start)
        best = min((paths[p] for p in sub.predecessors(start)),
                   key=lambda path: (len(path), [position[n] for n in path]))
        found.append(best + [start])
    return sorted(found, key=lambda path: position[path[0]])


def descendants(g: Dag, keys: Iterable[str]) -> set[str]:
    """Every node that depends, transitively, on one of ``keys`` (``keys`` themselves left out)."""
    keys = [k for k in keys if k in g]
    found: set[str] = set()
    for k in keys:
        found |= nx.descendants(g.graph, k)
    return found - set(keys)


def ancestors(g: Dag, keys: Iterable[str]) -> set[str]:
    """Every node that one of ``keys`` depends on, transitively (``keys`` themselves left out)."""
    keys = [k for k in keys if k in g]
    found: set[str] = set()
    for k in keys:
        found |= nx.ancestors(g.graph, k)
    return found - set(keys)


def waves(g: Dag) -> list[list[str]]:
    """Layers that can be processed in parallel, each after the layers it depends on, each sorted by name.

    Nodes on a cycle, and everything downstream of one, can never be ready: they form one final layer (deploy
    then creates them and each fails with a clear message instead of waiting forever)."""
    stuck: set[str] = set()
    for component in nx.strongly_connected_components(g.graph):
        if len(component) > 1:
            stuck |= component
    for node in list(stuck):
        stuck |= nx.descendants(g.graph, node)
    free = g if not stuck else Dag([n for n in g.nodes if n not in stuck], g.graph.subgraph(
        [n for n in g.nodes if n not in stuck]).edges)
    out = [sorted(gen) for gen in free.generations]
    if stuck:
        out.append(sorted(stuck))
    return out


class Ancestry:
    """``is_ancestor(a, b)``: does ``a`` run (transitively) before ``b``?  Only meaningful on an acyclic graph.

    Each task's ancestor set is a Python int used as a bitset, built in one pass in topological order.
    ``sources`` limits the bits to the tasks that will be asked about as ancestors (the producers of task
    values), so the sets stay as small as the question, whatever the job's size."""

    __slots__ = ("_index", "_closed")

    def __init__(self, g: Dag, sources: Iterable[str] | None = None) -> None:
        order = g.order
        wanted = set(order) if sources is None else set(sources)
        index: dict[str, int] = {}  # bit of each wanted task, in topological order
        # ancestors | self, per task, in one pass in topological order (a task's ancestors are its set without its
        # own bit, which only a wanted task has)
        closed: dict[str, int] = {}
        pred = g.predecessor_sets
        for k in order:
            acc = 0
            for p in pred[k]:
                acc |= closed[p]
            if k in wanted:
                acc |= 1 << len(index)
                index[k] = len(index)
            closed[k] = acc
        self._index = index
        self._closed = closed

    def is_ancestor(self, a: str, b: str) -> bool:
        ia = self._index.get(a)
        word = self._closed.get(b)
        return ia is not None and word is not None and a != b and (word >> ia) & 1 == 1

    def ancestors(self, b: str) -> list[str]:
        word = self._closed.get(b, 0)
        return [k for k, i in self._index.items() if word >> i & 1 and k != b]
