"""flowdef.graph loads networkx's adjacency dicts directly; prove the graph equals one built the public way."""

from __future__ import annotations

import networkx as nx
import pytest

from flowdef.graph import Dag, cycles


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
def test_direct_load_equals_public_api(nodes, edges):
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
