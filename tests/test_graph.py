"""Graph view: topological order, depth, node count and the name-invariant structural hash."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from jaxsynth.grammar import load_config
from jaxsynth.synth import (
    depth,
    hash_and_depth,
    node_count,
    render,
    sample,
    structural_hash,
    to_networkx,
    topological_order,
)
from jaxsynth.synth.program import Node, Program, Region


def _shift(program: Program, offset: int) -> Program:
    """The same program with every node id moved by ``offset`` (so every rendered name could differ)."""

    def node(n: Node) -> Node:
        return replace(n, id=n.id + offset, args=tuple(a + offset for a in n.args),
                       regions=tuple(region(r) for r in n.regions))

    def region(r: Region) -> Region:
        return Region(r.role, r.layout, r.carries, tuple(p + offset for p in r.params),
                      tuple(node(n) for n in r.nodes), tuple(o + offset for o in r.outputs))

    return Program("renamed_function", region(program.body))


def test_hash_ignores_ids_and_function_name():
    config = load_config("control-flow")
    for index in range(30):
        program = sample(config, 0, index)
        assert structural_hash(_shift(program, 1000)) == structural_hash(program)


def test_hash_separates_different_programs():
    config = load_config("default")
    programs = [sample(config, 0, i) for i in range(300)]
    sources = {render(p) for p in programs}
    hashes = {structural_hash(p) for p in programs}
    assert len(hashes) == len(sources)


def test_hash_sees_operand_order():
    config = load_config("elementwise")
    for index in range(50):
        program = sample(config, 0, index)
        subtract = [n for n in program.walk() if n.op == "subtract" and n.args[0] != n.args[1]]
        if subtract:
            target = subtract[0]
            swapped = replace(target, args=target.args[::-1])
            nodes = tuple(swapped if n.id == target.id else n for n in program.body.nodes)
            if len(nodes) == len(program.body.nodes) and swapped in nodes:
                other = Program(program.name, replace(program.body, nodes=nodes))
                assert structural_hash(other) != structural_hash(program)
                return
    raise AssertionError("no subtract found to swap")


def test_topological_order_depth_and_count():
    config = load_config("control-flow")
    for index in range(40):
        program = sample(config, 0, index)
        order = topological_order(program)
        position = {n: i for i, n in enumerate(order)}
        for n in program.walk():
            assert all(position[a] < position[n.id] for a in n.args)
        graph = to_networkx(program)
        assert nx.is_directed_acyclic_graph(graph)
        assert depth(program) == nx.dag_longest_path_length(graph.subgraph(set(graph) - {"return"}))
        assert node_count(program) == sum(1 for n in program.walk() if n.is_op)
        assert depth(program) >= 1


def test_depth_of_a_chain():
    from jaxsynth.grammar import DType, Interval, TensorType

    t = TensorType(DType.float32, (3,))
    nodes = [Node(0, "input", (), (t,), (Interval(0, 1),))]
    for i in range(1, 6):
        nodes.append(Node(i, "sin", (i - 1,), (t,), (Interval(-1, 1),)))
    program = Program("f", Region("body", "function", 0, (0,), tuple(nodes), (5,)))
    assert depth(program) == 5 and node_count(program) == 5


def test_hash_and_depth_from_one_graph_match_the_separate_functions():
    for name in ("default", "control-flow"):
        config = load_config(name)
        for index in range(40):
            program = sample(config, 11, index)
            assert hash_and_depth(program) == (structural_hash(program), depth(program))


def test_reversed_graph_is_the_reverse():
    program = sample(load_config("control-flow"), 0, 3)
    forward = to_networkx(program)
    backward = to_networkx(program, operands_first=False)
    assert set(backward.edges) == {(b, a) for a, b in forward.edges}
    assert all(backward.edges[b, a]["label"] == forward.edges[a, b]["label"] for a, b in forward.edges)
