"""The task graph of one job: topological order, cycles, ancestry — in plain Python, linear in the job's size.

Validation runs on every save and in CI, on jobs of up to 1,000 tasks (and must stay linear well beyond), so this
module does not use networkx: building a ``networkx.DiGraph`` alone cost more than every validation rule together
on a 10,000-task job, and importing networkx costs ~100 ms of CLI start-up.  The algorithms needed are small:

- topological order: Kahn's algorithm, in declaration order (deterministic);
- cycles: only when Kahn's algorithm leaves nodes over — Tarjan's strongly connected components (iterative, so
  a 10,000-task chain does not hit the recursion limit), then one shortest cycle per component, printed as a path;
- ancestry: bitsets propagated in topological order; ``is_ancestor`` is one big-integer bit test.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable

from flowdef.model import JobSpec


class Dag:
    """Tasks (in declaration order) and edges upstream -> downstream.  Self-edges, duplicate edges and edges from
    unknown tasks are left out: they are reported by their own rules (FD102, FD108, FD103)."""

    __slots__ = ("nodes", "succ", "pred", "_order")

    def __init__(self, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> None:
        self.nodes: list[str] = list(dict.fromkeys(nodes))
        succ: dict[str, list[str]] = {n: [] for n in self.nodes}
        pred: dict[str, list[str]] = {n: [] for n in self.nodes}
        seen: set[tuple[str, str]] = set()
        for edge in edges:
            up, down = edge
            if up == down or up not in succ or down not in pred or edge in seen:
                continue
            seen.add(edge)
            succ[up].append(down)
            pred[down].append(up)
        self.succ = succ
        self.pred = pred
        self._order: list[str] | None = None

    @property
    def order(self) -> list[str]:
        """Nodes in topological order (Kahn, ties in declaration order); nodes on or behind a cycle are left out
        (``is_acyclic`` tells)."""
        if self._order is None:
            pred, succ = self.pred, self.succ
            indegree = {n: len(p) for n, p in pred.items()}
            order = [n for n in self.nodes if not indegree[n]]
            i = 0
            while i < len(order):
                for s in succ[order[i]]:
                    left = indegree[s] - 1
                    indegree[s] = left
                    if not left:
                        order.append(s)
                i += 1
            self._order = order
        return self._order

    @property
    def is_acyclic(self) -> bool:
        return len(self.order) == len(self.nodes)

    def roots(self) -> list[str]:
        return [n for n in self.nodes if not self.pred[n]]


def build(job: JobSpec) -> Dag:
    """The job's task graph (top-level tasks; a for-each task's nested task is part of its for-each task)."""
    tasks = job.tasks
    return Dag([t.key for t in tasks], [(d.task_key, t.key) for t in tasks for d in t.depends_on])


def _components(g: Dag, candidates: list[str]) -> list[list[str]]:
    """Tarjan's strongly connected components among ``candidates`` (iterative)."""
    allowed = set(candidates)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in candidates:
        if root in index:
            continue
        work = [(root, iter(g.succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in allowed:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(g.succ[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                found.append(component)
    return found


def _shortest_cycle(g: Dag, start: str, members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component (BFS)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        n = queue.popleft()
        for s in g.succ[n]:
            if s not in members:
                continue
            if s == start:
                path = [n]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1] + [start]
            if s not in seen:
                seen.add(s)
                parent[s] = n
                queue.append(s)
    return [start, start]  # pragma: no cover - a component of >= 2 nodes always has a cycle through start


def cycles(g: Dag) -> list[list[str]]:
    """One cycle path per non-trivial strongly connected component, e.g. ``["a", "b", "c", "a"]``, sorted.

    The path starts at the component's task declared first, so the message names the task the user wrote first.
    """
    if g.is_acyclic:
        return []
    placed = set(g.order)
    rest = [n for n in g.nodes if n not in placed]
    position = {n: i for i, n in enumerate(g.nodes)}
    found = []
    for component in _components(g, rest):
        if len(component) < 2:
            continue
        start = min(component, key=position.__getitem__)
        found.append(_shortest_cycle(g, start, set(component)))
    return sorted(found, key=lambda path: position[path[0]])


def topological_order(g: Dag) -> list[str]:
    return list(g.order)


class Ancestry:
    """``is_ancestor(a, b)``: does ``a`` run (transitively) before ``b``?  Nodes on a cycle have no ancestors.

    Each node's ancestor set is a Python int used as a bitset, built in one pass in topological order: linear in
    nodes + edges, times a word-parallel OR.  ``sources`` limits the bits to the nodes that will be asked about as
    ancestors (the producers of task values): the sets stay as small as the question, whatever the job's size.
    """

    __slots__ = ("_index", "_bits")

    def __init__(self, g: Dag, sources: Iterable[str] | None = None) -> None:
        order = g.order
        wanted = set(order) if sources is None else set(sources)
        index: dict[str, int] = {}
        for k in order:
            if k in wanted:
                index[k] = len(index)
        bits: dict[str, int] = {}
        closed: dict[str, int] = {}  # ancestors | self: what a successor inherits (only nodes that have one)
        pred, succ = g.pred, g.succ
        for k in order:
            preds = pred[k]
            if not preds:
                acc = 0
            elif len(preds) == 1:
                acc = closed[preds[0]]
            else:
                acc = 0
                for p in preds:
                    acc |= closed[p]
            bits[k] = acc
            if succ[k]:
                i = index.get(k)
                closed[k] = acc if i is None else acc | (1 << i)
        self._index = index
        self._bits = bits

    def is_ancestor(self, a: str, b: str) -> bool:
        ia = self._index.get(a)
        word = self._bits.get(b)
        return ia is not None and word is not None and (word >> ia) & 1 == 1

    def ancestors(self, b: str) -> list[str]:
        word = self._bits.get(b, 0)
        return [k for k, i in self._index.items() if word >> i & 1]


def roots(g: Dag) -> list[str]:
    return g.roots()
