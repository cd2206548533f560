"""A sampled program: a typed DAG of nodes, with nested regions for control-flow bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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


@dataclass(frozen=True, slots=True)
class Tree:
    """How flat values are grouped into one Python argument or return value (a pytree).

    ``leaf``: the flat value at position ``index``; ``dict``: ``{keys[i]: children[i]}`` with the keys
    sorted, so that the leaves, in order, are JAX's flattening order; ``tuple``: ``(children...)``;
    ``namedtuple``: ``name(keys[0]=children[0], ...)``, a ``typing.NamedTuple`` class the rendered
    module defines (its fields in declared order, which is JAX's flattening order).
    """

    kind: Literal["leaf", "dict", "tuple", "namedtuple"]
    index: int = -1
    keys: tuple[str, ...] = ()
    children: tuple[Tree, ...] = ()
    name: str = ""

    def leaves(self) -> list[int]:
        """Flat positions, in JAX's flattening order."""
        if self.kind == "leaf":
            return [self.index]
        return [i for c in self.children for i in c.leaves()]

    def pack(self, values: Sequence[Any], classes: Mapping[str, Any] | None = None) -> Any:
        """The Python structure holding ``values[leaf]`` at each leaf; a NamedTuple is built with its
        class from ``classes`` (the rendered module's namespace)."""
        if self.kind == "leaf":
            return values[self.index]
        items = [c.pack(values, classes) for c in self.children]
        if self.kind == "namedtuple":
            if classes is None or self.name not in classes:
                raise ValueError(f"packing a {self.name} needs the namespace of the module that defines it")
            return classes[self.name](*items)
        return dict(zip(self.keys, items, strict=True)) if self.kind == "dict" else tuple(items)

    def classes(self) -> list[Tree]:
        """The NamedTuple nodes of this tree, outer first."""
        own = [self] if self.kind == "namedtuple" else []
        return own + [t for c in self.children for t in c.classes()]

    def flatten(self, value: Any) -> list[Any]:
        """Inverse of ``pack``: the leaves of ``value`` in order (a ValueError names a mismatch)."""
        if self.kind == "leaf":
            return [value]
        if self.kind == "dict":
            if not isinstance(value, dict) or tuple(sorted(value)) != self.keys:
                raise ValueError(f"expected a dict with keys {list(self.keys)}, got {type(value).__name__}")
            parts = [value[k] for k in self.keys]
        else:
            if not isinstance(value, tuple | list) or len(value) != len(self.children):
                raise ValueError(f"expected a tuple of {len(self.children)}, got {type(value).__name__}")
            if self.kind == "namedtuple" and getattr(value, "_fields", None) != self.keys:
                raise ValueError(f"expected a {self.name} with fields {list(self.keys)}")
            parts = list(value)
        return [x for c, v in zip(self.children, parts, strict=True) for x in c.flatten(v)]

    def describe(self, names: Sequence[str]) -> Any:
        """``pack`` of ``names`` (e.g. type strings): a JSON-able picture of the structure (a NamedTuple
        as ``{"ClassName": {field: ...}}``)."""
        if self.kind == "tuple":
            return [c.describe(names) for c in self.children]
        if self.kind == "namedtuple":
            return {self.name: {k: c.describe(names) for k, c in zip(self.keys, self.children, strict=True)}}
        return self.pack(names) if self.kind == "leaf" else {k: c.describe(names)
                                                              for k, c in zip(self.keys, self.children, strict=True)}


def flat_trees(count: int) -> tuple[Tree, ...]:
    return tuple(Tree("leaf", i) for i in range(count))


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    """A function: its name, its body, and how it reads (none of which changes what it computes).

    ``names`` maps node ids (inputs and values) to name hints the renderer uses instead of ``x0``/``v0``
    (deduplicated there); ``temporaries`` keeps ``v = ...; return v`` statements instead of inlining a
    value whose only use is a ``return``. ``in_trees``/``out_trees`` group the flat inputs/outputs into the
    function's arguments and returned values (dicts and tuples: pytrees); empty means one plain array per
    argument and per returned value.
    """

    name: str
    body: Region
    _index: dict[int, Node] = field(default_factory=dict, repr=False)
    names: dict[int, str] = field(default_factory=dict)
    temporaries: bool = False
    in_trees: tuple[Tree, ...] = ()
    out_trees: tuple[Tree, ...] = ()

    def __post_init__(self) -> None:
        self._index.update({n.id: n for n in self.walk()})
        for trees, count, what in ((self.in_trees, len(self.body.params), "inputs"),
                                   (self.out_trees, len(self.body.outputs), "outputs")):
            if trees and sorted(i for t in trees for i in t.leaves()) != list(range(count)):
                raise ValueError(f"program {self.name}: the {what} trees do not cover each of {count} values once")
            if trees and [i for t in trees for i in t.leaves()] != list(range(count)):
                raise ValueError(f"program {self.name}: the {what} trees must hold the values in order")

    @property
    def arguments(self) -> tuple[Tree, ...]:
        return self.in_trees or flat_trees(len(self.body.params))

    @property
    def results(self) -> tuple[Tree, ...]:
        return self.out_trees or flat_trees(len(self.body.outputs))

    @property
    def structured(self) -> bool:
        return bool(self.in_trees or self.out_trees)

    def pack_inputs(self, values: Sequence[Any], classes: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        """Flat input values -> the function's positional arguments (``classes``: the namespace of the
        rendered module, for NamedTuple arguments; ``fn.__globals__`` of the rendered function)."""
        return tuple(t.pack(values, classes) for t in self.arguments)

    @property
    def named_tuples(self) -> list[Tree]:
        """Every NamedTuple in the arguments and results, each class once, in order of appearance."""
        seen: dict[str, Tree] = {}
        for tree in self.in_trees + self.out_trees:
            for t in tree.classes():
                seen.setdefault(t.name, t)
        return list(seen.values())

    def flatten_outputs(self, result: Any) -> tuple[Any, ...]:
        """What the function returned -> the flat output values."""
        results = self.results
        parts = (result,) if len(results) == 1 else tuple(result)
        return tuple(x for t, v in zip(results, parts, strict=True) for x in t.flatten(v))

    def plain(self) -> Program:
        """The same program with plain array arguments and results (no pytrees)."""
        return Program(self.name, self.body) if self.structured else self

    def flat_function(self, fn: Callable) -> Callable:
        """``fn`` (the rendered function) as a function of the flat inputs returning the flat outputs
        (a bare value for a single output, as an unstructured program's function returns); a PRNG key
        input is passed as its key data and wrapped into a key here."""
        keys = [i for i, t in enumerate(self.input_types) if t.dtype.is_key]
        if not self.structured and not keys:
            return fn
        single = len(self.body.outputs) == 1

        def flat(*values: Any) -> Any:
            if keys:  # key inputs arrive as their key data (uint32[..., 2]), as the interpreter holds them
                import jax

                values = tuple(jax.random.wrap_key_data(v) if i in keys else v for i, v in enumerate(values))
            outs = self.flatten_outputs(fn(*self.pack_inputs(values, getattr(fn, "__globals__", None))))
            return outs[0] if single else outs

        flat.__name__ = getattr(fn, "__name__", self.name)
        return flat

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
