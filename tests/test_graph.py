"""flowdef.graph: the one graph module (networkx through its public API), used by everything that orders tasks."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from flowdef import graph
from flowdef.graph import Dag, cycles
from tests.conftest import ROOT


def _public(nodes, edges) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(dict.fromkeys(nodes))
    keep = set(dict.fromkeys(nodes))
    g.add_edges_from((u, v) for u, v in edges if u != v and u in keep and v in keep)
    return g


CASES = [
    ("abcde", [("a", "b"), ("b", "c"), ("a", "d"), ("a", "b"), ("x", "a"), ("e", "e")]),
    ("abcdef", [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d"), ("c", "f")]),
    ([f"t{i}" for i in range(300)], [(f"t{i}", f"t{i + 1}") for i in range(299)] + [("t299", "t5")]),
    ("aab", [("a", "b"), ("b", "a")]),
]


@pytest.mark.parametrize("nodes,edges", CASES)
def test_the_graph_keeps_known_distinct_edges_only(nodes, edges):
    ours, public = Dag(nodes, edges).graph, _public(nodes, edges)
    assert list(ours.nodes) == list(public.nodes)
    assert sorted(ours.edges) == sorted(public.edges)
    for n in public:
        assert list(ours.succ[n]) == list(public.succ[n]) and list(ours.pred[n]) == list(public.pred[n])
        assert ours.in_degree(n) == public.in_degree(n) and ours.out_degree(n) == public.out_degree(n)
    assert nx.is_directed_acyclic_graph(ours) == nx.is_directed_acyclic_graph(public)
    assert sorted(map(sorted, nx.strongly_connected_components(ours))) == sorted(
        map(sorted, nx.strongly_connected_components(public)))
    ours.add_edge("new_a", "new_b")  # still a working, mutable networkx graph
    assert ours.has_edge("new_a", "new_b") and "new_b" in ours.succ["new_a"]


def test_cycles_and_order_match_networkx():
    g = Dag("abcdef", [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d"), ("c", "f")])
    assert not g.is_acyclic and g.order == []
    assert cycles(g) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    dag = Dag("abcd", [("a", "b"), ("a", "c"), ("c", "d")])
    assert dag.order == [n for gen in nx.topological_generations(_public("abcd", [("a", "b"), ("a", "c"), ("c", "d")]))
                         for n in gen]


def test_generations_are_in_declaration_order():
    # c and b are both ready after a; c was declared first
    g = Dag(["a", "c", "b", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert g.generations == [["a"], ["c", "b"], ["d"]] and g.order == ["a", "c", "b", "d"]
    assert graph.generations(g) == g.generations and graph.roots(g) == ["a"]


def test_ancestors_descendants_and_ancestry():
    g = Dag("abcde", [("a", "b"), ("b", "c"), ("a", "d")])
    assert graph.descendants(g, ["a"]) == {"b", "c", "d"} and graph.descendants(g, ["b", "zz"]) == {"c"}
    assert graph.ancestors(g, ["c"]) == {"a", "b"} and graph.ancestors(g, ["e"]) == set()
    anc = graph.Ancestry(g, sources=["a", "b"])
    assert anc.is_ancestor("a", "c") and anc.is_ancestor("b", "c") and not anc.is_ancestor("d", "c")
    assert not anc.is_ancestor("a", "e") and sorted(anc.ancestors("c")) == ["a", "b"]


def test_waves_put_what_a_cycle_blocks_last():
    deps = {"a": set(), "b": {"a"}, "c": {"b", "outside"}, "d": set(), "x": {"y"}, "y": {"x"}, "z": {"x"}}
    assert graph.waves(graph.of_dependencies(deps)) == [["a", "d"], ["b"], ["c"], ["x", "y", "z"]]
    assert graph.waves(graph.of_dependencies({})) == []


def test_payload_graph_drops_dependencies_outside_the_tasks():
    tasks = [{"task_key": "b", "depends_on": [{"task_key": "a"}, {"task_key": "gone"}]}, {"task_key": "a"}]
    g = graph.of_payload(tasks)
    assert g.order == ["a", "b"] and "gone" not in g and "a" in g and [] not in g


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]


def test_networkx_only_in_the_graph_module_and_no_other_graph_library():
    package = Path(ROOT) / "flowdef"
    offenders = sorted(
        f"{p.relative_to(ROOT)}: {name}" for p in package.rglob("*.py") if "__pycache__" not in p.parts
        for name in _imports(p)
        if name == "graphlib" or name == "networkx" and p != package / "graph.py"
    )
    assert not offenders, offenders
    source = (package / "graph.py").read_text(encoding="utf-8")
    assert not any(private in source for private in ("._node", "._adj", "._pred", "._succ"))
