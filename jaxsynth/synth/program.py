"""A sampled program: a typed DAG of nodes, with nested regions for control-flow bodies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jaxsynth.grammar.types import Interval, TensorType

#: Node kinds that are not ops from the table.
LEAF_KINDS = frozenset({"input", "param", "literal", "full"})
ITEM = "item"


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One value (or, for control ops, a tuple of values) in the program.

    ``op`` is an op name from the table, ``"item"`` (output ``params['index']`` of a multi-output
    control op), or a leaf kind: ``input`` (function argument), ``param`` (a body's argument),
    ``literal`` (a Python scalar), ``full`` (a constant array).
    """

    id: int
    op: str
    args: tuple[int, ...]
    types: tuple[TensorType, ...]
    intervals: tuple[Interval, ...]
    params: dict[str, Any] = field(default_factory=dict)
    regions: tuple[Region, ...] = ()

    @property
    def type(self) -> TensorType:
        return self.types[0]

    @property
    def interval(self) -> Interval:
        return self.intervals[0]

    @property
    def is_op(self) -> bool:
        return self.op not in LEAF_KINDS and self.op != ITEM


@dataclass(frozen=True, slots=True, eq=False)
class Region:
    """A straight-line scope: the function body or a control-flow body.

    ``params`` are the ids of its ``param``/``input`` nodes, ``nodes`` all its nodes in topological
    order (params first), ``outputs`` the ids it returns. Nodes may use values of enclosing regions.
    """

    role: str
    layout: str
    carries: int
    params: tuple[int, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    """A function: its name, its body, and how it reads (none of which changes what it computes).

    ``names`` maps node ids (inputs and values) to name hints the renderer uses instead of ``x0``/``v0``
    (deduplicated there); ``temporaries`` keeps ``v = ...; return v`` statements instead of inlining a
    value whose only use is a ``return``.
    """

    name: str
    body: Region
    _index: dict[int, Node] = field(default_factory=dict, repr=False)
    names: dict[int, str] = field(default_factory=dict)
    temporaries: bool = False

    def __post_init__(self) -> None:
        self._index.update({n.id: n for n in self.walk()})

    def node(self, node_id: int) -> Node:
        return self._index[node_id]

    def walk(self, region: Region | None = None) -> Iterator[Node]:
        """Every node, outer before inner, in topological order within each region."""
        for n in (region or self.body).nodes:
            yield n
            for r in n.regions:
                yield from self.walk(r)

    @property
    def inputs(self) -> tuple[Node, ...]:
        return tuple(self.node(i) for i in self.body.params)

    @property
    def input_types(self) -> tuple[TensorType, ...]:
        return tuple(n.type for n in self.inputs)

    @property
    def input_ranges(self) -> tuple[Interval, ...]:
        return tuple(n.interval for n in self.inputs)

    @property
    def output_types(self) -> tuple[TensorType, ...]:
        return tuple(self.node(i).type for i in self.body.outputs)

    def op_nodes(self) -> list[Node]:
        return [n for n in self.walk() if n.is_op]
