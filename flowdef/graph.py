"""The task graph of one job: the one module that imports networkx.

networkx does the graph algorithms (topological order, strongly connected components, shortest cycle paths);
this module adds what networkx does not offer in the shape validation needs:

- one cycle path per strongly connected component, starting at the task the user declared first (FD101);
- :class:`Ancestry`, "is A upstream of B?" for task-value references, as bitsets propagated once in topological
  order — linear in the job's size, where per-query ``nx.ancestors`` would be quadratic for jobs that read many
  values.

networkx is imported when validation first asks for the graph (``import flowdef`` stays light).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import networkx as nx

from flowdef.model.spec import JobSpec


class Dag:
    """Tasks (declaration order) and edges upstream -> downstream, over a ``networkx.DiGraph``.

    Self-edges and edges from unknown tasks are left out: their own rules report them (FD102, FD103)."""

    __slots__ = ("graph", "nodes", "_position", "_order", "_acyclic", "_succ", "_pred")

    def __init__(self, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> None:
        g = nx.DiGraph()
        self.nodes: list[str] = list(dict.fromkeys(nodes))
        position = {n: i for i, n in enumerate(self.nodes)}
        # networkx's own adjacency structure (node -> attributes, node -> neighbour -> shared edge data), made in
        # one pass and handed over whole: assigning G._node, G._adj and G._pred is how networkx lets a graph be
        # loaded (its _CachedPropertyResetter data descriptors exist to reset the cached views on exactly these
        # assignments), and it costs a third of add_nodes_from + add_edges_from, which re-check and re-create each
        # entry — the difference that keeps 10,000-task validation linear.  tests/test_graph.py proves the result
        # equal to a graph built with add_nodes_from/add_edges_from, so a networkx change cannot go unnoticed.
        if None in position:
            raise ValueError("None cannot be a node")  # what add_nodes_from says
        succ: dict = {n: {} for n in self.nodes}
        pred: dict = {n: {} for n in self.nodes}
        for up, down in edges:
            if up == down:
                continue  # FD102 reports it
            try:
                out = succ.get(up)
            except TypeError:  # an unhashable endpoint is no node
                continue
            if out is None or down in out:
                continue  # an unknown task (FD103), or the same edge again (networkx keeps one)
            into = pred.get(down)
            if into is None:
                continue
            out[down] = into[up] = {}
        g._node = {n: {} for n in self.nodes}
        g._adj = succ
        g._pred = pred
        self.graph = g
        self._succ = succ  # the graph's own adjacency dicts (G.succ / G.pred without a view per lookup)
        self._pred = pred
        self._position = position
        self._order: list[str] | None = None
        self._acyclic: bool | None = None

    @property
    def pred(self):
        return self.graph.pred

    @property
    def succ(self):
        return self.graph.succ

    @property
    def is_acyclic(self) -> bool:
        if self._acyclic is None:
            self.order  # noqa: B018 - one topological sort answers both
        return bool(self._acyclic)

    @property
    def order(self) -> list[str]:
        """Topological order (generation by generation, each in declaration order); empty on a cyclic graph
        (check ``is_acyclic``)."""
        if self._order is None:
            try:
                # nx.topological_sort is these generations flattened (one generator step less per task)
                order: list[str] = []
                for generation in nx.topological_generations(self.graph):
                    order += generation
                self._order = order
                self._acyclic = True
            except nx.NetworkXUnfeasible:
                self._order = []
                self._acyclic = False
        return self._order

    def roots(self) -> list[str]:
        return [n for n in self.nodes if not self.graph.pred[n]]


def build(job: JobSpec) -> Dag:
    """The job's task graph (top-level tasks; a for-each task's nested task is part of its for-each task)."""
    tasks = job.tasks
    return Dag([t.key for t in tasks], [(d.task_key, t.key) for t in tasks for d in t.depends_on])


def cycles(g: Dag) -> list[list[str]]:
    """One cycle path per non-trivial strongly connected component, e.g. ``["a", "b", "c", "a"]``.

    The path is a shortest cycle through the component's task declared first, so the message names the task the
    user wrote first; paths are sorted by that task's position."""
    if g.is_acyclic:
        return []
    position = g._position
    found = []
    for component in nx.strongly_connected_components(g.graph):
        if len(component) < 2:
            continue
        sub = g.graph.subgraph(component)
        start = min(component, key=position.__getitem__)
        back = [p for p in sub.pred[start]]
        paths = nx.single_source_shortest_path(sub, start)
        best = min((paths[p] for p in back), key=lambda path: (len(path), [position[n] for n in path]))
        found.append(best + [start])
    return sorted(found, key=lambda path: position[path[0]])


def topological_order(g: Dag) -> list[str]:
    return list(g.order)


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
        # ancestors | self, per task: one pass in topological order, one dict (a task's ancestors are its set
        # without its own bit, which only a wanted task has); a task with one predecessor shares its set
        closed: dict[str, int] = {}
        pred = g._pred  # the graph's own predecessor dicts (what g.graph.pred views): one lookup per task
        for k in order:
            preds = pred[k]
            if len(preds) == 1:
                for p in preds:
                    acc = closed[p]
            else:
                acc = 0
                for p in preds:
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


def roots(g: Dag) -> list[str]:
    return g.roots()


# ---- payload graphs (run semantics: flowdef.runs walks the Jobs API task dicts a run executes)


def of_payload(tasks: Iterable[Mapping[str, Any]]) -> Dag:
    """The graph of Jobs API task dicts (``task_key``, ``depends_on: [{task_key, outcome}]``), in the given order.
    Dependencies on keys that are not among ``tasks`` are left out (an ``only`` run drops them on purpose)."""
    tasks = list(tasks)
    return Dag([t["task_key"] for t in tasks],
               [(d["task_key"], t["task_key"]) for t in tasks for d in t.get("depends_on") or ()])


def descendants(g: Dag, keys: Iterable[str]) -> set[str]:
    """Every task that depends, transitively, on one of ``keys`` (``keys`` themselves left out)."""
    keys = [k for k in keys if k in g._succ]
    found: set[str] = set()
    for k in keys:
        found |= nx.descendants(g.graph, k)
    return found - set(keys)


def ancestors(g: Dag, keys: Iterable[str]) -> set[str]:
    """Every task that one of ``keys`` depends on, transitively (``keys`` themselves left out)."""
    keys = [k for k in keys if k in g._pred]
    found: set[str] = set()
    for k in keys:
        found |= nx.ancestors(g.graph, k)
    return found - set(keys)
