"""A networkx view of a Program: topological order, depth, size and a canonical structural hash."""

from __future__ import annotations

import warnings

import networkx as nx

from jaxsynth.synth.program import Node, Program


def _label(node: Node, program: Program) -> str:
    """Everything structural about a node, nothing about its id or the name it will be rendered with."""
    params = ",".join(f"{k}={node.params[k]!r}" for k in sorted(node.params))
    types = ",".join(map(str, node.types))
    return f"{node.op}|{types}|{params}"


def to_networkx(program: Program, operands_first: bool = True) -> nx.DiGraph:
    """Nodes are value ids labelled by op, types and params; an edge ``a -> b`` labelled ``argK`` means
    ``a`` is operand K of ``b``; a body's outputs feed its control node with label ``rR.outK``.
    Body parameters are sources labelled with their position, so the graph stays acyclic.
    With ``operands_first=False`` every edge points the other way (from a node to its operands)."""
    graph = nx.DiGraph()

    def oriented(operand: object, user: object) -> tuple[object, object]:
        return (operand, user) if operands_first else (user, operand)

    for node in program.walk():
        graph.add_node(node.id, label=_label(node, program))
    for position, input_id in enumerate(program.body.params):
        graph.nodes[input_id]["label"] += f"|input{position}"
    for node in program.walk():
        for k, arg in enumerate(node.args):
            graph.add_edge(*oriented(arg, node.id), label=f"arg{k}")
        for r, region in enumerate(node.regions):
            for j, param in enumerate(region.params):
                graph.nodes[param]["label"] += f"|{node.op}.r{r}.p{j}"
            for k, out in enumerate(region.outputs):
                if not graph.has_edge(*oriented(out, node.id)):
                    graph.add_edge(*oriented(out, node.id), label=f"r{r}.out{k}")
    sink = "return"
    graph.add_node(sink, label="return")
    for k, out in enumerate(program.body.outputs):
        key = oriented(out, sink)
        if graph.has_edge(*key):
            graph.edges[key]["label"] += f",out{k}"
        else:
            graph.add_edge(*key, label=f"out{k}")
    return graph


def _wl_hash(graph: nx.DiGraph, iterations: int) -> str:
    with warnings.catch_warnings():  # networkx >= 3.5 notes that directed hashes changed in 3.5
        warnings.simplefilter("ignore", UserWarning)
        return nx.weisfeiler_lehman_graph_hash(graph, node_attr="label", edge_attr="label", iterations=iterations,
                                               digest_size=16)


def structural_hash(program: Program, iterations: int = 6) -> str:
    """Weisfeiler-Lehman hash of the graph (each node aggregates its operands): equal for programs that
    differ only in value names or node numbering."""
    return _wl_hash(to_networkx(program, operands_first=False), iterations)


def hash_and_depth(program: Program, iterations: int = 6) -> tuple[str, int]:
    """``(structural_hash(program), depth(program))`` from one graph."""
    graph = to_networkx(program, operands_first=False)
    digest = _wl_hash(graph, iterations)
    graph.remove_node("return")
    return digest, nx.dag_longest_path_length(graph)


def topological_order(program: Program) -> list[int]:
    graph = to_networkx(program)
    graph.remove_node("return")
    return list(nx.lexicographical_topological_sort(graph))


def depth(program: Program) -> int:
    """Length (in edges) of the longest operand chain, through nested bodies."""
    graph = to_networkx(program)
    graph.remove_node("return")
    return nx.dag_longest_path_length(graph)


def node_count(program: Program) -> int:
    """Number of op applications (inputs, literals, body params and tuple projections excluded)."""
    return len(program.op_nodes())
