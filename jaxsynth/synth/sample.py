"""Type-directed sampling of well-typed, finite-by-construction program DAGs.

``sample(config, seed, index)`` is pure: every decision comes from one ``Draw`` seeded by
``SeedSequence([seed, index])``, so program ``i`` depends only on (config, seed, i).

The sampler picks a result type, then an op whose inverse type rule (``propose``) can produce it,
then builds the operands recursively. An op is placed only if its range rule accepts the operands'
intervals (its domain holds) and its result stays inside the dtype's bounds; otherwise a sibling op
of the same family is tried on the same operands, then another op, and finally a leaf.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import random
import zlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from jaxsynth.grammar.config import DIM_CLASSES, SPELLINGS, ConfigError, GrammarConfig
from jaxsynth.grammar.ops import CONTROL, OPS, REGISTRY, Spec
from jaxsynth.grammar.ops_control import ControlSpec, RegionSig
from jaxsynth.grammar.ops_transform import SMOOTH_OPS
from jaxsynth.grammar.opspec import Operand, OpSpec
from jaxsynth.grammar.types import DType, Interval, Shape, TensorType
from jaxsynth.synth.program import ITEM, Node, Program, Region, Tree

FLOAT_LITERALS = (0.5, 2.0, 3.0, 0.1, 1.5, 0.25, 10.0, -1.0, -0.5, 4.0, -2.0, 0.75)
INT_LITERALS = (1, 2, 3, 4, 5, -1, -2, 10, 7, -3)
FLOAT_RANGES = ((-1.0, 1.0), (0.0, 1.0), (-4.0, 4.0), (0.5, 2.0), (1.0, 10.0), (-10.0, 10.0), (0.1, 1.0), (-2.0, 0.0))
INT_RANGES = ((-10, 10), (0, 100), (1, 20), (-100, 100), (0, 5), (-3, 3))
ATTEMPTS = 4
#: ``gen`` calls that building one function result may make before the sampler stops trying ops and
#: composites and takes leaves (a result whose composites all failed gets a fresh allowance for plain ops).
#: A search that fails deep retries ATTEMPTS times at every level: a sub-grammar that cannot build what a
#: composite asks for (swarm testing drops whole categories from ``models``) made hundreds of thousands of
#: calls and up to a minute per program. Full configs stay far below (``models`` at most about 8,000 in
#: 300 programs, the others under 7,000), so their programs do not change.
WORK_LIMIT = 20_000
#: Composites built inside one another's inputs (stacked layers) at most this deep. Unbounded, the nesting went as
#: deep as the budget allowed (15 attention blocks, one in the next's input, in ``models`` with only ``attention``
#: weighted), and every rejected block retried its input's whole stack: the search ran into ``WORK_LIMIT``.
MAX_COMPOSITE_NESTING = 4
#: Under x64 (``types.x64 = true``) JAX's default integer and float widen to 64 bits. These ops (on
#: these operands) would then change their result dtype, so x64 configs do not sample them.
X64_NEVER = frozenset({"argmax", "argmin", "count_nonzero", "bincount", "fori_loop", "categorical", "argwhere",
                       "flatnonzero", "nanargmax", "nanargmin"})
X64_FLOAT_OPERANDS_ONLY = frozenset({"sum", "prod", "mean", "cumsum", "cumprod", "trace", "masked_sum"})


class Draw:
    """The one source of randomness for one program, seeded from ``(seed, index)`` only.

    A Mersenne Twister keyed by BLAKE2b of ``(seed, index)``: cheap to create per program and
    independent of every other program, so records can be built in any order on any worker."""

    __slots__ = ("_rng",)

    def __init__(self, seed: int, index: int) -> None:
        if seed < 0 or index < 0:
            raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
        digest = hashlib.blake2b(f"jaxsynth:{seed}:{index}".encode(), digest_size=16).digest()
        self._rng = random.Random(int.from_bytes(digest, "little"))

    def random(self) -> float:
        return self._rng.random()

    def randint(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi] (inclusive)."""
        return lo + int(self._rng.random() * (hi - lo + 1))

    def choice(self, items: Sequence[Any]) -> Any:
        return items[int(self._rng.random() * len(items))]

    def bernoulli(self, p: float) -> bool:
        return self._rng.random() < p

    def weighted(self, items: Sequence[Any], cumulative: Sequence[float]) -> Any:
        x = self._rng.random() * cumulative[-1]
        lo, hi = 0, len(cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumulative[mid] > x:
                hi = mid
            else:
                lo = mid + 1
        return items[lo]


class _Scope:
    __slots__ = ("parent", "nodes", "params", "pool", "nesting", "smooth", "closed", "sealed")

    def __init__(self, parent: _Scope | None, smooth: bool = False, closed: bool = False) -> None:
        self.parent = parent
        self.nodes: list[Node] = []
        self.params: list[int] = []
        self.pool: dict[TensorType, list[int]] = defaultdict(list)
        self.nesting = 0 if parent is None else parent.nesting + 1
        #: A differentiated body (or a body nested in one): only smooth ops (``SMOOTH_OPS``) are sampled.
        self.smooth = smooth or (parent is not None and parent.smooth)
        #: A body that must not read values of enclosing scopes (``custom_vjp``: a closed-over value cannot
        #: be differentiated); ``sealed`` when it or an enclosing body is closed (no new program inputs).
        self.closed = closed
        self.sealed = closed or (parent is not None and parent.sealed)

    def chain(self):
        scope: _Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def visible(self):
        """The scopes whose values this one may read: up to and including the nearest closed one."""
        scope: _Scope | None = self
        while scope is not None:
            yield scope
            scope = None if scope.closed else scope.parent


Table = dict[tuple[DType, int, bool], tuple[tuple[Spec, ...], tuple[float, ...]]]


class _ConfigTables:
    """Everything the sampler derives from a config alone, computed once per config."""

    def __init__(self, config: GrammarConfig) -> None:
        self.dtype_weights = config.dtype_weights()
        self.ops = _probe_tables(config)
        self.smooth_ops = {key: _smooth_table(config, specs) for key, (specs, _) in self.ops.items()}
        self.siblings = {
            spec.name: tuple(s for s in _families()[spec.family] if s is not spec and config.op_weight(s.name) > 0)
            for spec in OPS
        }
        types = config.types
        #: (dtype, rank) pairs some op with weight > 0 can produce: the only result types a program picks.
        self.producible = tuple(
            (dtype, rank) for dtype in self.dtype_weights for rank in range(types.min_rank, types.max_rank + 1)
            if self.ops.get((dtype, rank, False), ((),))[0]
        )
        from jaxsynth.synth.composite import COMPOSITES

        chosen = [(COMPOSITES[name], w) for name, w in sorted(config.composites.items())
                  if w > 0 and name in COMPOSITES]
        self.composites = (tuple(c for c, _ in chosen), tuple(itertools.accumulate(w for _, w in chosen)))
        self.classes = tuple((name, DIM_CLASSES[name]) for name, w in sorted(types.dim_classes.items()) if w > 0)
        self.class_cum = tuple(itertools.accumulate(w for _, w in sorted(types.dim_classes.items()) if w > 0))


_TABLES: dict[tuple[str, tuple[int, ...]], _ConfigTables] = {}


def _tables(config: GrammarConfig) -> _ConfigTables:
    """The derived tables of ``config``, cached by its content (``digest``) and the installed JAX's version (which
    ops it has): ``sample(load_config(name), seed, i)`` in a loop probes the op table once, not per call (0.3 s)."""
    from jaxsynth import compat

    key = (config.digest, compat.jax_version())
    entry = _TABLES.get(key)
    if entry is None:
        if len(_TABLES) > 64:
            _TABLES.clear()
        entry = _TABLES[key] = _ConfigTables(config)
    return entry


def _probe_tables(config: GrammarConfig) -> Table:
    """For each (dtype, rank, control allowed): the ops that can produce it, with cumulative weights.

    Which ops can produce a type is probed with their ``propose`` (:func:`_producers`), and depends on the
    config's dtypes and x64 only, never on its op weights nor on which programs were sampled before.
    """
    key = (tuple(config.dtype_weights().items()), config.types.x64)
    tables = {}
    for dtype in dict(key[0]):
        for rank in range(4):
            producers = _producers(config, key, dtype, rank)
            for control in (False, True):
                specs, cum, total = [], [], 0.0
                for spec in OPS + (CONTROL if control else ()):
                    weight = config.op_weight(spec.name)
                    if weight <= 0 or (config.types.x64 and spec.name in X64_NEVER):
                        continue
                    if spec.name in producers:
                        total += weight
                        specs.append(spec)
                        cum.append(total)
                tables[(dtype, rank, control)] = (tuple(specs), tuple(cum))
    return tables


#: The names of the ops that can produce a (dtype, rank), by (the config's dtype weights, x64): what ``propose``
#: consults in a probe. A swarm program's sub-grammar (other op weights, often the same dtypes) probed the whole
#: op table again; now each dtype set is probed once.
_PRODUCERS: dict[tuple, frozenset[str]] = {}


def _producers(config: GrammarConfig, key: tuple, dtype: DType, rank: int) -> frozenset[str]:
    """The ops (control ops too) whose ``propose`` gives some ``dtype`` tensor of ``rank``: six tries on each of
    five probe shapes, each op with a draw of its own (so the answer does not depend on which ops were probed
    before it). A fresh probe builder per call: a campaign's tester threads sample at once."""
    memo = (key, dtype, rank)
    names = _PRODUCERS.get(memo)
    if names is None:
        if len(_PRODUCERS) > 4096:
            _PRODUCERS.clear()
        probe = _Builder(config, Draw(0, 0), probing=True)
        shapes = [TensorType(dtype, s[:rank]) for s in ((2, 3, 4), (1, 3, 4), (3, 1, 2), (3, 3, 3), (4, 2, 1))]
        found = []
        for spec in OPS + CONTROL:
            if isinstance(spec, ControlSpec) and dtype not in spec.dtypes:
                continue  # e.g. complex values are not carried through control flow
            probe.draw = Draw(zlib.crc32(f"{spec.name}:{dtype.name}".encode()), rank)
            if any(spec.propose(t, probe) is not None for t in shapes for _ in range(6)):
                found.append(spec.name)
        names = _PRODUCERS[memo] = frozenset(found)
    return names


def _smooth_table(config: GrammarConfig, specs: tuple[Spec, ...]) -> tuple[tuple[Spec, ...], tuple[float, ...]]:
    """The ops of one table that a smooth (differentiated) body may use, with their cumulative weights."""
    kept = tuple(s for s in specs if _smooth(s))
    cum, total = [], 0.0
    for spec in kept:
        total += config.op_weight(spec.name)
        cum.append(total)
    return kept, tuple(cum)


def _smooth(spec: Spec) -> bool:
    return spec.smooth_safe if isinstance(spec, ControlSpec) else spec.name in SMOOTH_OPS


@functools.lru_cache(maxsize=1)
def _families() -> dict[str, tuple[OpSpec, ...]]:
    families: dict[str, list[OpSpec]] = defaultdict(list)
    for spec in OPS:
        families[spec.family].append(spec)
    return {k: tuple(v) for k, v in families.items()}


class _Builder:
    """Builds one program; also the ``Context`` that op proposals consult."""

    def __init__(self, config: GrammarConfig, draw: Draw, probing: bool = False) -> None:
        self.config = config
        self.draw = draw
        self.derived = None if probing else _tables(config)
        weights = config.dtype_weights() if probing else self.derived.dtype_weights
        self.dtype_list = tuple(weights)
        self.dtype_weights = weights
        self.next_id = 0
        self.work = 0  #: gen calls so far (see WORK_LIMIT)
        self.work_limit = WORK_LIMIT  #: past this many, gen takes leaves (raised per function result)
        self.exhausted = False  #: some search reached its limit
        self.index: dict[int, Node] = {}
        self.top = _Scope(None)
        self.scope = self.top
        types = config.types
        lo, hi = types.min_dim, types.max_dim
        step = 1
        if not probing and self.derived.classes:
            lo, hi = draw.weighted(self.derived.classes, self.derived.class_cum)[1]
            step = 8 if hi <= 256 and lo > 8 else (128 if lo > 256 else 1)  # real widths are multiples of 8
        pool = sorted({_round_dim(draw.randint(lo, hi), step, lo) for _ in range(draw.randint(2, 3))})
        if lo <= 3 <= hi and draw.bernoulli(0.3):
            pool = sorted(set(pool) | {3})
        self.dims = tuple(pool) if not probing else (2, 3, 4)
        self.dead = config.dead_code
        self.max_elements = types.max_elements
        self.hints: dict[int, str] = {}  #: node id -> name hint (``style.names = "idiomatic"`` only)
        self.idiomatic = config.style.names == "idiomatic"
        self.made_by: dict[int, str] = {}  #: node id -> composite that returned it
        self.instances = 0  #: composites started (for unique parameter paths; never rolled back)
        self.extras: list[int] = []  #: further outputs composites asked for (new optimizer state, ...)
        self.composites = ((), ()) if probing else self.derived.composites
        self.nesting = 0  #: composites being built around the value in progress (MAX_COMPOSITE_NESTING)
        self.palette = frozenset(self.dtype_list)
        if not probing:  # one or two dtypes per program keeps inputs few and programs coherent
            self.palette = frozenset(self.pick_dtype(self.palette) for _ in range(draw.randint(1, 2)))
        self.tables = None if probing else self.derived.ops
        self.max_rank = types.max_rank
        self.x64 = types.x64
        self.max_extent = 4 * max(hi, types.max_dim) + 8  # slicing, padding and concatenation grow dims

    # ------------------------------------------------------------ Context protocol

    def pick_dim(self) -> int:
        return self.draw.choice(self.dims)

    def pick_dtype(self, allowed: frozenset[DType]) -> DType | None:
        """A dtype from ``allowed``: from this program's palette if possible, else any configured one."""
        options = [d for d in self.dtype_list if d in allowed and d in self.palette]
        options = options or [d for d in self.dtype_list if d in allowed]
        if not options:
            return None
        total, cum = 0.0, []
        for d in options:
            total += self.dtype_weights[d]
            cum.append(total)
        return self.draw.weighted(options, cum)

    def partner_shape(self, shape: Shape) -> Shape:
        """A shape that broadcasts to ``shape``: itself, a scalar, a suffix, or with unit dims."""
        if not shape:
            return ()
        x = self.draw.random()
        if x < 0.55:
            return shape
        if x < 0.7:
            return ()
        if x < 0.85:
            return shape[self.draw.randint(1, len(shape)) :]
        axis = self.draw.randint(0, len(shape) - 1)
        return shape[:axis] + (1,) + shape[axis + 1 :]

    # ------------------------------------------------------------ node creation

    def _add(self, op: str, args, types, intervals, params=None, regions=()) -> int:
        node = Node(self.next_id, op, tuple(args), tuple(types), tuple(intervals), params or {}, tuple(regions))
        self.next_id += 1
        self.index[node.id] = node
        self.scope.nodes.append(node)
        if op not in ("literal",) and len(types) == 1:
            self.scope.pool[types[0]].append(node.id)
        return node.id

    def _add_input(self, t: TensorType, need: Interval | None, interval: Interval | None = None) -> int:
        interval = interval if interval is not None else self._input_range(t.dtype, need)
        saved, self.scope = self.scope, self.top
        node_id = self._add("input", (), (t,), (interval,))
        self.top.params.append(node_id)
        self.scope = saved
        return node_id

    def _input_range(self, dtype: DType, need: Interval | None) -> Interval:
        if dtype.is_bool or dtype.is_key:
            return dtype.bounds
        bounds = dtype.bounds if need is None else _intersect(dtype.bounds, need)
        menu = FLOAT_RANGES if dtype.is_inexact else INT_RANGES
        lo, hi = self.draw.choice(menu)
        lo, hi = max(lo, bounds.lo), min(hi, bounds.hi)
        if lo > hi:
            lo = bounds.lo if math.isfinite(bounds.lo) else bounds.hi - 1
            hi = min(lo + (1 if dtype.is_int else 2.0), bounds.hi)
        if dtype.is_int:
            lo, hi = math.ceil(lo), math.floor(hi)
        return Interval(lo, hi)

    def literal(self, dtype: DType, need: Interval | None) -> int | None:
        if dtype.is_bool or dtype.is_complex:  # (a complex operand is an array, never a Python literal)
            return None
        menu = FLOAT_LITERALS if dtype.is_inexact else INT_LITERALS
        allowed = dtype.bounds if need is None else _intersect(dtype.bounds, need)
        options = [v for v in menu if allowed is not None and allowed.lo <= v <= allowed.hi]
        if not options:
            return None
        value = self.draw.choice(options)
        return self._add("literal", (), (TensorType(dtype, ()),), (Interval(value, value),), {"value": value})

    # ------------------------------------------------------------ generation

    def gen(
        self,
        t: TensorType,
        budget: int,
        depth: int,
        need: Interval | None = None,
        kind: str = "array",
        siblings: tuple[int, ...] = (),
        fresh: bool = False,
    ) -> int | None:
        """A node of type ``t`` whose interval lies within ``need``, using about ``budget`` op nodes.

        ``siblings`` are the operands already chosen for the same op: shared values and leaves avoid
        them where there is an alternative, so ``f(x, x)`` stays rare. ``fresh`` skips sharing, so a
        body's output computes something rather than returning a value it was given."""
        if t.rank > self.max_rank or (t.shape and (max(t.shape) > self.max_extent or t.size > self.max_elements)):
            return None
        self.work += 1
        if t.dtype.is_key:
            return self._key(budget, depth)
        if kind == "literal" or (kind == "either" and self.draw.bernoulli(self.config.program.literal_prob)):
            node = self.literal(t.dtype, need)
            if node is not None or kind == "literal":
                return node
        bounds = t.dtype.bounds if need is None else _intersect(t.dtype.bounds, need)
        if bounds is None:
            return None
        if budget > 0 and depth > 0 and self.work >= self.work_limit:
            self.exhausted = True
        elif budget > 0 and depth > 0:
            if not fresh and self.draw.bernoulli(self.config.program.share_prob):
                shared = self._shared(t, bounds, siblings)
                if shared is not None:
                    return shared
            comps, comp_cum = self.composites
            if (comps and self.scope is self.top and self.nesting < MAX_COMPOSITE_NESTING
                    and self.draw.bernoulli(self.config.program.composite_prob)):
                node = self._try_composite(self.draw.weighted(comps, comp_cum), t, budget, depth, bounds)
                if node is not None:
                    return node
            control = self.scope.nesting < self.config.program.max_nesting
            tables = self.derived.smooth_ops if self.scope.smooth else self.tables
            specs, cum = tables.get((t.dtype, t.rank, control), ((), ()))
            for _ in range(ATTEMPTS if specs else 0):
                spec = self.draw.weighted(specs, cum)
                mark = self.next_id
                if isinstance(spec, ControlSpec):
                    node = self._try_control(spec, t, budget, depth, bounds)
                else:
                    node = self._try_op(spec, t, budget, depth, bounds)
                if node is not None:
                    return node
                self._rollback(mark)
        return self._leaf(t, bounds, siblings)

    def _try_composite(self, comp, t: TensorType, budget: int, depth: int, bounds: Interval) -> int | None:
        """A value of type ``t`` built by composite ``comp`` (``synth.composite``), or ``None`` leaving no trace."""
        from jaxsynth.synth.composite import Fail

        if budget < comp.cost:
            return None
        mark = self.next_id
        self.nesting += 1
        try:
            node = comp.build(self, t, budget, depth)
        except Fail:
            node = None
        finally:
            self.nesting -= 1
        if node is None or self.index[node].type != t or not self.index[node].interval.within(bounds):
            self._rollback(mark)
            return None
        self.made_by[node] = comp.function
        return node

    # ------------------------------------------------------------ what composites use (synth.composite.Builder)

    def type_of(self, node: int) -> TensorType:
        return self.index[node].type

    def interval_of(self, node: int) -> Interval:
        return self.index[node].interval

    def param(self, t: TensorType, interval: Interval, hint: str) -> int:
        """A new function input of type ``t`` ranging over ``interval`` (a weight, a mask, optimizer state)."""
        if t.size > self.max_elements:
            from jaxsynth.synth.composite import Fail

            raise Fail
        node = self._add_input(t, None, interval)
        self._hint(node, hint)
        return node

    def op(self, name: str, args: list[int], params: dict[str, Any] | None = None, hint: str | None = None,
           refine: Interval | None = None) -> int | None:
        node = self._apply(name, args, dict(params or {}), refine)
        if node is not None and self.index[node].type.size > self.max_elements:
            return None  # left for the composite's rollback
        if node is not None and hint:
            self._hint(node, hint)
        return node

    def const(self, dtype: DType, value: float) -> int:
        value = int(value) if dtype.is_int else float(value)
        return self._add("literal", (), (TensorType(dtype, ()),), (Interval(value, value),), {"value": value})

    def spelling(self, key: str) -> str:
        pinned = self.config.style.spellings.get(key)
        return pinned if pinned is not None else self.draw.choice(SPELLINGS[key])

    def counter(self, prefix: str) -> str:
        """A token unique in this program for one ``prefix`` composite (``dense#3``); ``_params_tree`` renumbers
        the surviving ones ``dense_0, dense_1, ...`` in input order."""
        self.instances += 1
        return f"{prefix}#{self.instances}"

    def extra_output(self, node: int) -> None:
        self.extras.append(node)

    def scan(self, carries: list[int], xs: int, body, hint: str) -> list[int] | None:
        """``lax.scan`` of ``body(carry_params, x_param) -> (new_carries, y)`` over ``xs``; the new carries must
        stay within the carries' loop invariants. Returns the scan's outputs (final carries, then stacked ys)."""
        from jaxsynth.grammar.ops_control import SCAN, invariant

        types = [self.index[c].type for c in carries] + [self.index[xs].type]
        ins = [self.index[c].interval for c in carries] + [self.index[xs].interval]
        inv = [invariant(x, ty.dtype) for ty, x in zip(types, ins, strict=False)]
        saved, self.scope = self.scope, _Scope(self.scope)
        try:
            params = [self._add("param", (), (ty,), (x,)) for ty, x in zip(types[:-1], inv, strict=False)]
            params.append(self._add("param", (), (types[-1].with_shape(types[-1].shape[1:]),), (ins[-1],)))
            self.scope.params.extend(params)
            new_carries, y = body(params[:-1], params[-1])
            outputs = [*new_carries, y]
            if any(not self.index[o].interval.within(i) for o, i in zip(new_carries, inv[:-1], strict=True)):
                return None
            region = Region("body", "carry_x", len(carries), tuple(params), tuple(self.scope.nodes), tuple(outputs))
        finally:
            self.scope = saved
        scan_params = {"carries": len(carries), "y": self.index[y].type, "length": types[-1].shape[0]}
        outs = SCAN.outputs(types, scan_params)
        raw = SCAN.ranges(ins, types, scan_params, [[self.index[o].interval for o in outputs]])
        ranges = tuple(r.widen(o.dtype) for r, o in zip(raw, outs, strict=True))
        node = self._add("scan", [*carries, xs], outs, ranges, scan_params, (region,))
        items = [self._add(ITEM, (node,), (o,), (r,), {"index": i}) for i, (o, r) in enumerate(zip(outs, ranges,
                                                                                                      strict=True))]
        self._hint(items[-1], hint)
        return items

    def transform(self, name: str, args: list[int], body, params: dict[str, Any], hint: str) -> list[int] | None:
        """Control op ``name`` (a transformation of ``ops_transform``, flat layout) of ``body(param_ids) ->
        outputs`` applied to ``args``; a smooth body (differentiated) may use ``SMOOTH_OPS`` only. Returns the
        op's outputs (``None`` where an op or a range rule refuses); ``hint`` names them, comma-separated."""
        from jaxsynth.grammar.ops_transform import SMOOTH_OPS

        spec = REGISTRY[name]
        if not isinstance(spec, ControlSpec) or not self.config.allows(name):
            return None
        types = [self.index[a].type for a in args]
        ins = [self.index[a].interval for a in args]
        (sig,) = spec.regions(types, ins, params)
        saved, self.scope = self.scope, _Scope(self.scope)
        try:
            self.scope.smooth = sig.smooth
            ids = [self._add("param", (), (ty,), (x,)) for ty, x in sig.params]
            self.scope.params.extend(ids)
            outputs = body(ids)
            nodes = tuple(self.scope.nodes)
            if sig.smooth and any(n.is_op and n.op not in SMOOTH_OPS for n in nodes):
                return None
            region = Region(sig.role, sig.layout, 0, tuple(ids), nodes, tuple(outputs))
        finally:
            self.scope = saved
        outs = spec.outputs(types, params)
        raw = spec.ranges(ins, types, params, [[self.index[o].interval for o in outputs]])
        ranges = tuple(r.widen(o.dtype) for r, o in zip(raw, outs, strict=True))
        node = self._add(name, args, outs, ranges, params, (region,))
        hints = hint.split(",")  # one name per output: "loss,grads"
        if len(outs) == 1:
            self._hint(node, hints[0])
            return [node]
        items = [self._add(ITEM, (node,), (o,), (r,), {"index": i}) for i, (o, r) in enumerate(zip(outs, ranges,
                                                                                                    strict=True))]
        for item, name in zip(items, hints, strict=False):
            self._hint(item, name)
        return items

    def _hint(self, node: int, hint: str) -> None:
        if self.idiomatic:
            self.hints[node] = hint

    def _rollback(self, mark: int) -> None:
        """Forget every node created since id ``mark`` (a failed attempt leaves no trace but its draws)."""
        if self.next_id == mark:
            return
        while self.extras and self.extras[-1] >= mark:
            self.extras.pop()
        for node_id in [n for n in self.hints if n >= mark]:
            del self.hints[node_id]
        for node_id in [n for n in self.made_by if n >= mark]:
            del self.made_by[node_id]
        for scope in self.scope.chain():
            while scope.nodes and scope.nodes[-1].id >= mark:
                scope.nodes.pop()
            while scope.params and scope.params[-1] >= mark:
                scope.params.pop()
            for ids in scope.pool.values():
                while ids and ids[-1] >= mark:
                    ids.pop()
        for node_id in range(mark, self.next_id):
            del self.index[node_id]
        self.next_id = mark

    def _split(self, budget: int, parts: int) -> list[int]:
        if parts == 0:
            return []
        budget = max(budget, 0)
        cuts = sorted(self.draw.randint(0, budget) for _ in range(parts - 1))
        edges = [0, *cuts, budget]
        return [edges[i + 1] - edges[i] for i in range(parts)]

    def _operands(self, operands: Sequence[Operand], budget: int, depth: int) -> list[int] | None:
        args = []
        for operand, share in zip(operands, self._split(budget, len(operands)), strict=True):
            node = self.gen(operand.type, share, depth - 1, operand.need, operand.kind, tuple(args))
            if node is None:
                return None
            args.append(node)
        return args

    def _try_op(self, spec: OpSpec, t: TensorType, budget: int, depth: int, bounds: Interval) -> int | None:
        proposal = spec.propose(t, self)
        if proposal is None:
            return None
        args = self._operands(proposal.operands, budget - 1, depth)
        if args is None:
            return None
        if spec.name == "where" and not self.dead.identical_select and _same_value(args[1], args[2], self.index):
            return None
        if spec.name == "broadcast_to" and not self.dead.reduce_broadcast and _full_reduction(self.index[args[0]]):
            return None
        types = [self.index[a].type for a in args]
        ins = [self.index[a].interval for a in args]
        for candidate in self._candidates(spec):
            if any(ty.dtype not in candidate.dtypes for ty in types):
                continue
            if self.scope.smooth and candidate.name not in SMOOTH_OPS:
                continue
            if self.x64 and candidate.name in X64_FLOAT_OPERANDS_ONLY and not types[0].dtype.is_float:
                continue
            try:
                out = candidate.type_rule(types, proposal.params)
            except (TypeError, ValueError, IndexError, KeyError):
                continue
            if out != t:
                continue
            result = candidate.range_rule(ins, types, out, proposal.params)
            if result is None:
                continue
            result = result.widen(t.dtype)
            if result.within(bounds):
                return self._add(candidate.name, args, (t,), (result,), dict(proposal.params))
        return None

    def _candidates(self, spec: OpSpec):
        """``spec``, then its family siblings in random order (drawn only if they are needed)."""
        yield spec
        siblings = list(self.derived.siblings[spec.name])
        while siblings:
            yield siblings.pop(self.draw.randint(0, len(siblings) - 1))

    def _try_control(self, spec: ControlSpec, t: TensorType, budget: int, depth: int, bounds: Interval) -> int | None:
        if t.dtype not in spec.dtypes:
            return None
        proposal = spec.propose(t, self)
        if proposal is None or (proposal.params.get("trips") == 0 and not self.dead.zero_trip_loops):
            return None
        operand_budget, region_budget = self._split(max(budget - 1, 0), 2)
        args = self._operands(proposal.operands, operand_budget, depth)
        if args is None:
            return None
        types = [self.index[a].type for a in args]
        ins = [self.index[a].interval for a in args]
        params = dict(proposal.params)
        sigs = spec.regions(types, ins, params)
        regions = []
        for sig, share in zip(sigs, self._split(region_budget, len(sigs)), strict=True):
            region = self._region(sig, max(share, 2), depth - 1)
            if region is None:
                return None
            regions.append(region)
        if spec.name in ("cond", "switch") and not self.dead.unused_params:
            args, regions = _drop_unused_operands(args, regions, len(args) - len(sigs[0].params), self.index)
            types, ins = [self.index[a].type for a in args], [self.index[a].interval for a in args]
        elif sigs and sigs[0].layout == "flat" and not self.dead.unused_params:  # transformations: every argument
            if any(p not in _reachable(r.outputs, self.index) for r in regions for p in r.params):
                return None
        outs = spec.outputs(types, params)
        if outs[proposal.answer] != t:
            return None
        region_outs = [[self.index[o].interval for o in r.outputs] for r in regions]
        raw = spec.ranges(ins, types, params, region_outs)
        ranges = tuple(r.widen(o.dtype) for r, o in zip(raw, outs, strict=True))
        if not all(r.within(o.dtype.bounds) for r, o in zip(ranges, outs, strict=True)):
            return None
        if not ranges[proposal.answer].within(bounds):
            return None
        node = self._add(spec.name, args, outs, ranges, params, regions)
        if len(outs) == 1:
            return node
        items = [self._add(ITEM, (node,), (o,), (r,), {"index": i})
                 for i, (o, r) in enumerate(zip(outs, ranges, strict=True))]
        return items[proposal.answer]

    def _region(self, sig: RegionSig, budget: int, depth: int) -> Region | None:
        saved, self.scope = self.scope, _Scope(self.scope, sig.smooth, sig.closed)
        try:
            for ty, interval in sig.params:
                node = self._add("param", (), (ty,), (interval,))
                self.scope.params.append(node)
            outputs = []
            shares = self._split(budget, len(sig.outputs))
            for ty, share in zip(sig.outputs, shares, strict=True):
                mark = self.next_id
                node = self.gen(ty, max(share, 1), max(depth, 1), None, fresh=True)
                for _ in range(ATTEMPTS if sig.smooth else 0):  # a derivative of a constant says little
                    if node is None or self._depends(node, self.scope.params):
                        break
                    self._rollback(mark)
                    node = self.gen(ty, max(share, 1), max(depth, 1), None, fresh=True)
                if node is None or (sig.smooth and not self._depends(node, self.scope.params)):
                    return None
                outputs.append(node)
            if sig.layout != "flat" and not self.dead.unused_params:
                if not self._use_every_carry(sig, outputs):
                    return None
            for k, inv in enumerate(sig.invariants):
                if inv is not None and not self.index[outputs[k]].interval.within(inv):
                    clipped = self._clip(outputs[k], inv)
                    if clipped is None:
                        return None
                    outputs[k] = clipped
            scope = self.scope
            return Region(sig.role, sig.layout, sig.carries, tuple(scope.params), tuple(scope.nodes), tuple(outputs))
        finally:
            self.scope = saved

    def _key(self, budget: int, depth: int) -> int | None:
        """A PRNG key: shared from an enclosing scope, a key-typed program input, ``fold_in``/``split`` of
        another key, or ``jax.random.key(seed)``. Keys are never a program's results."""
        key = TensorType(DType.key, ())
        if self.draw.bernoulli(self.config.program.share_prob):
            shared = self._shared(key, key.dtype.bounds)
            if shared is not None:
                return shared
        prob = self.config.program.key_input_prob
        if (prob > 0 and not self.scope.sealed and len(self.top.params) < self.config.program.max_inputs
                and self.draw.bernoulli(prob)):
            return self._add_input(key, None)
        names = ("random_key", "fold_in", "split") if depth > 1 else ("random_key",)
        cum, total = [], 0.0
        for name in names:  # by the config's op weights, like any op
            total += self.config.op_weight(name)
            cum.append(total)
        if total > 0 and (choice := self.draw.weighted(names, cum)) != "random_key":
            mark = self.next_id
            node = self._try_op(REGISTRY[choice], key, budget, depth, key.dtype.bounds)
            if node is not None:
                return node
            self._rollback(mark)
        if self.config.op_weight("random_key") <= 0:
            return None
        return self._try_op(REGISTRY["random_key"], key, budget, depth, key.dtype.bounds)

    def _depends(self, node: int, params: Sequence[int]) -> bool:
        """Whether ``node`` reads any of ``params`` (through operands and nested bodies)."""
        targets, seen, stack = set(params), set(), [node]
        while stack:
            n = stack.pop()
            if n in targets:
                return True
            if n in seen:
                continue
            seen.add(n)
            stack.extend(self.index[n].args)
            for region in self.index[n].regions:
                stack.extend(region.outputs)
        return False

    def _clip(self, node: int, inv: Interval) -> int | None:
        """``node`` clipped into a loop invariant (``None`` when the config excludes ``clip``)."""
        if not self.config.allows("clip"):
            return None
        t = self.index[node].type
        lo, hi = (int(inv.lo), int(inv.hi)) if t.dtype.is_int else (float(inv.lo), float(inv.hi))
        x = self.index[node].interval
        result = Interval(min(max(x.lo, lo), hi), max(min(x.hi, hi), lo))
        return self._add("clip", (node,), (t,), (result,), {"lo": lo, "hi": hi})

    def _use_every_carry(self, sig: RegionSig, outputs: list[int]) -> bool:
        """Make a loop body read every carry (and a scan body its ``x``): an unread one is mixed into the
        output it feeds (carry ``k`` into output ``k``, ``x`` into the stacked output) by an elementwise op.
        A fori loop's index is exempt (the API passes it; the renderer names an unread one ``_``)."""
        params = list(self.scope.params)
        if sig.layout == "index_carry":
            params = params[1:]
        used = _reachable(outputs, self.index)
        for k, p in enumerate(params):
            if p in used:
                continue
            mixed = self._mix(outputs[k], p)
            if mixed is None:
                return False
            outputs[k] = mixed
            used.add(p)
        return True

    def _mix(self, node: int, param: int) -> int | None:
        """``op(node, param)`` of ``node``'s type, with ``param`` cast and broadcast as needed."""
        t, p = self.index[node].type, self.index[param].type
        if not _broadcasts(p.shape, t.shape):
            return None
        if p.dtype is not t.dtype:
            param = self._convert(param, t.dtype)
            if param is None:
                return None
        ops = _MIXERS[t.dtype.is_bool, t.dtype.is_float]
        for name in sorted(ops, key=lambda _: self.draw.random()):
            pair = [param, node] if self.draw.bernoulli(0.5) else [node, param]
            mixed = self._apply(name, pair, {})
            if mixed is not None and self.index[mixed].type == t:
                return mixed
        return None

    def _shared(self, t: TensorType, bounds: Interval, siblings: tuple[int, ...] = ()) -> int | None:
        options = [n for s in self.scope.visible() for n in s.pool.get(t, ())
                   if n not in siblings and self.index[n].interval.within(bounds)]
        return self.draw.choice(options) if options else None

    def _leaf(self, t: TensorType, bounds: Interval, siblings: tuple[int, ...] = ()) -> int | None:
        program = self.config.program
        params = [n for s in self.scope.visible() for n in s.params
                  if self.index[n].type == t and self.index[n].interval.within(bounds)]
        fresh = [n for n in params if n not in siblings]
        if fresh or self.draw.bernoulli(0.5):
            params = fresh
        inner = [n for n in params if n in self.scope.params]
        if inner and self.scope is not self.top and self.draw.bernoulli(0.7):
            return self.draw.choice(inner)
        n_inputs = len(self.top.params)
        if params and (n_inputs >= program.min_inputs or self.scope is not self.top) and (
            n_inputs >= program.max_inputs or self.draw.bernoulli(0.75)
        ):
            return self.draw.choice(params)
        if n_inputs < program.max_inputs and t.rank >= self.config.types.min_rank and not self.scope.sealed:
            return self._add_input(t, bounds)
        if params:
            return self.draw.choice(params)
        adapted = None if self.scope.smooth else self._adapt(t, bounds)  # adapters clip, reduce by max, cast
        return adapted if adapted is not None else self._full(t, bounds)

    def _adapt(self, t: TensorType, bounds: Interval) -> int | None:
        """With no input left to create, derive a value of type ``t`` from an existing one:
        cast its dtype, then reshape, broadcast, or reduce-and-broadcast it to ``t``'s shape."""
        values = [n for s in self.scope.visible() for n in s.params]
        if not self.dead.reduce_broadcast:
            values = [n for n in values if self.index[n].type.size == t.size
                      or _broadcasts(self.index[n].type.shape, t.shape)]
        if not values:
            return None
        same = [n for n in values if self.index[n].type.dtype is t.dtype]
        node: int | None = self.draw.choice(same or values)
        mark = self.next_id
        if self.index[node].type.dtype is not t.dtype:
            node = self._convert(node, t.dtype)
        x = self.index[node].type if node is not None else None
        if x is not None and x.shape != t.shape:
            if x.size == t.size:
                node = self._apply("reshape", [node], {"shape": t.shape, "style": "method"})
            else:
                if not _broadcasts(x.shape, t.shape):
                    reducer = self.draw.choice(_SCALAR_REDUCERS[t.dtype.is_bool, t.dtype.is_float])
                    node = self._apply(reducer, [node], {"axis": None, "keepdims": False})
                if node is not None and t.shape:
                    node = self._apply("broadcast_to", [node], {"shape": t.shape})
        if node is not None and not self.index[node].interval.within(bounds):
            node = self._fit_range(node, bounds)
        if node is None or not self.index[node].interval.within(bounds):
            self._rollback(mark)
            return None
        return node

    def _fit_range(self, node: int, bounds: Interval) -> int | None:
        """``node`` moved into ``bounds``: clipped when both ends are finite, else ``|x| + c`` or ``c - |x|``."""
        dtype = self.index[node].type.dtype
        if dtype.is_bool:
            return None
        has_lo, has_hi = bounds.lo > dtype.bounds.lo, bounds.hi < dtype.bounds.hi  # a need, not the dtype cap
        if has_lo and has_hi:
            lo, hi = (math.ceil(bounds.lo), math.floor(bounds.hi)) if dtype.is_int else (bounds.lo, bounds.hi)
            return self._apply("clip", [node], {"lo": lo, "hi": hi}) if lo <= hi else None
        if self.index[node].interval.lo < 0:
            node = self._apply("abs", [node], {})
            if node is None:
                return None
        if has_lo:
            shift = self.literal(dtype, Interval(max(bounds.lo, 0), max(bounds.lo, 0) + 10))
            return None if shift is None else self._apply("offset", [node, shift], {"literal_args": (1,)})
        shift = self.literal(dtype, Interval(bounds.hi - 10, bounds.hi))
        return None if shift is None else self._apply("rsub", [shift, node], {"literal_args": (0,)})

    def _convert(self, node: int, dtype: DType) -> int | None:
        """``node`` as ``dtype``: a comparison with a literal for bool, else a cast."""
        source = self.index[node].type.dtype
        if dtype.is_bool and not source.is_bool:
            threshold = self.literal(source, self.index[node].interval)
            op = self.draw.choice(("greater", "less", "greater_equal", "less_equal"))
            return None if threshold is None else self._apply(op, [node, threshold], {"literal_args": (1,)})
        return self._apply("astype", [node], {"dtype": dtype})

    def _apply(self, name: str, args: list[int], params: dict[str, Any], refine: Interval | None = None) -> int | None:
        """Add op ``name`` on ``args`` if its type and range rules accept them. ``refine`` is a sound bound the
        caller knows (a composite's identity, see ``synth.composite``): the result interval is intersected with it."""
        spec = REGISTRY[name]
        assert isinstance(spec, OpSpec)
        if not self.config.allows(name):
            return None
        types = [self.index[a].type for a in args]
        if any(ty.dtype not in spec.dtypes for ty in types):
            return None
        out = spec.type_rule(types, params)
        result = spec.range_rule([self.index[a].interval for a in args], types, out, params)
        if result is not None:
            result = result.widen(out.dtype)
            if refine is not None:  # a bound of the computed (rounded) value: applied after widening
                result = _intersect(result, refine)
        if result is None or not result.within(out.dtype.bounds):
            return None
        return self._add(name, args, (out,), (result,), params)

    def _full(self, t: TensorType, bounds: Interval) -> int | None:
        if t.dtype.is_bool:
            value: Any = self.draw.bernoulli(0.5)
        else:
            menu = FLOAT_LITERALS if t.dtype.is_inexact else INT_LITERALS
            options = [v for v in menu if bounds.lo <= v <= bounds.hi]
            if not options:
                return None
            value = self.draw.choice(options)
        interval = Interval.of(float(value), 0.0) if t.dtype.is_complex else Interval(float(value), float(value))
        if not interval.within(bounds):  # a complex fill's imaginary part is 0
            return None
        return self._add("full", (), (t,), (interval,), {"value": value})

    def composite_output(self, budget: int, depth: int) -> int | None:
        """With composites configured, a function result built by one: the composite is drawn first, then a
        result type it can build (a float dtype of the palette, one of its ranks). ``None``: no composites,
        or none of a few tries succeeded."""
        from jaxsynth.synth.composite import Fail

        comps, cum = self.composites
        floats = frozenset(d for d in self.dtype_list if d.is_float)
        for _ in range(ATTEMPTS if comps and floats else 0):
            comp = self.draw.weighted(comps, cum)
            dtype = self.pick_dtype(floats)
            if comp.shape is not None:  # a shape the production can hold (a decoder's image, attention's scores)
                try:
                    shape = comp.shape(self)
                except Fail:
                    continue
            else:
                rank = self.draw.choice([r for r in comp.ranks if self.config.types.min_rank <= r <= self.max_rank]
                                        or [comp.ranks[0]])
                shape = tuple(self.pick_dim() for _ in range(rank))
            if math.prod(shape) > self.max_elements or (shape and max(shape) > self.max_extent):
                continue
            node = self._try_composite(comp, TensorType(dtype, shape), budget, depth, dtype.bounds)
            if node is not None:
                return node
        return None

    def random_type(self) -> TensorType:
        """A result type some allowed op can produce (from this program's palette where possible)."""
        producible = self.derived.producible
        palette = frozenset(d for d, _ in producible) & self.palette or frozenset(d for d, _ in producible)
        dtype = self.pick_dtype(palette)
        rank = self.draw.choice([r for d, r in producible if d is dtype])
        shape = tuple(self.pick_dim() for _ in range(rank))
        while shape and math.prod(shape) > self.max_elements:  # large dims: fewer of them
            shape = shape[1:]
        return TensorType(dtype, shape)


#: Elementwise ops that fold an unread loop carry into a body output, keyed by (is_bool, is_float).
_MIXERS = {
    (True, False): ("logical_and", "logical_or", "logical_xor"),
    (False, True): ("add", "subtract", "multiply", "maximum", "minimum"),
    (False, False): ("add", "subtract", "maximum", "minimum"),
}


def _full_reduction(node: Node) -> bool:
    return node.op in ("sum", "mean", "max", "min", "prod", "any", "all") and node.params.get("axis") is None


def _same_value(a: int, b: int, index: dict[int, Node], depth: int = 8) -> bool:
    """Whether nodes ``a`` and ``b`` compute the same value: one node, or the same op and params on the same
    values (literals by value). Looks ``depth`` levels deep; deeper differences count as different."""
    if a == b:
        return True
    x, y = index[a], index[b]
    if depth == 0 or x.op != y.op or x.types != y.types or x.regions or y.regions or x.op in ("input", "param"):
        return False
    if x.op == "literal" or x.op == "full":
        return x.params == y.params
    return x.params == y.params and len(x.args) == len(y.args) and all(
        _same_value(p, q, index, depth - 1) for p, q in zip(x.args, y.args, strict=True))


def _round_dim(d: int, step: int, lo: int) -> int:
    return max(lo, d - d % step)


def _reachable(outputs: Sequence[int], index: dict[int, Node]) -> set[int]:
    """Ids the given outputs depend on, through operands and nested bodies' outputs and captures."""
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        node = index[n]
        stack.extend(node.args)
        for region in node.regions:
            stack.extend(region.outputs)
            stack.extend(a for inner in region.nodes for a in inner.args)
    return seen


def _drop_unused_operands(
    args: list[int], regions: list[Region], first: int, index: dict[int, Node]
) -> tuple[list[int], list[Region]]:
    """Branch operands (from ``args[first]`` on) that no branch reads, removed from the call and every branch."""
    used = _reachable([o for r in regions for o in r.outputs], index)
    keep = [j for j in range(len(args) - first) if any(r.params[j] in used for r in regions)]
    if len(keep) == len(args) - first:
        return args, regions
    new_args = args[:first] + [args[first + j] for j in keep]
    new_regions = []
    for r in regions:
        dropped = {r.params[j] for j in range(len(r.params)) if j not in keep}
        new_regions.append(Region(r.role, r.layout, r.carries, tuple(r.params[j] for j in keep),
                                  tuple(n for n in r.nodes if n.id not in dropped), r.outputs))
    return new_args, new_regions


#: Reductions that turn a value into a scalar of the same dtype, keyed by (is_bool, is_float).
_SCALAR_REDUCERS = {
    (True, False): ("any", "all"),
    (False, True): ("max", "min", "mean"),
    (False, False): ("max", "min"),
}


def _broadcasts(source: Shape, target: Shape) -> bool:
    return len(source) <= len(target) and all(
        s in (1, d) for s, d in zip(source[::-1], target[::-1], strict=False)
    )


def _intersect(a: Interval, b: Interval) -> Interval | None:
    lo, hi = max(a.lo, b.lo), min(a.hi, b.hi)
    return Interval(lo, hi) if lo <= hi else None


MAX_TRIES = 8
#: Function names for idiomatic programs whose first output no composite made.
GENERIC_FUNCTIONS = ("forward", "compute", "apply_fn", "transform", "step_fn", "kernel")


def check_config(config: GrammarConfig) -> GrammarConfig:
    """Raise ``ConfigError`` (one line, naming the keys) when ``config`` cannot yield programs within its bounds:
    no op with weight > 0 produces any configured dtype at any configured rank, or no sample reaches
    ``program.min_nodes`` op nodes. Cheap (cached tables and a few samples); run before work starts."""
    check_producible(config)
    from jaxsynth.synth.composite import check_composites

    check_composites(config)
    sizes = [len(sample(config, 0, i).op_nodes()) for i in range(4)]
    if max(sizes) < config.program.min_nodes:
        raise ConfigError(
            f"config key `program.min_nodes` = {config.program.min_nodes}: the allowed ops yield programs of at most "
            f"{max(sizes)} op nodes; lower it or allow more ops"
        )
    return config


def check_producible(config: GrammarConfig) -> GrammarConfig:
    """Raise ``ConfigError`` when no op with weight > 0 produces any configured dtype at any configured rank
    (the first check of :func:`check_config`; cheap: the config's cached tables, no sample)."""
    tables = _tables(config)
    if not tables.producible:
        dtypes = ", ".join(sorted(d.name for d in tables.dtype_weights))
        raise ConfigError(
            f"config keys `weights` and `types`: no op with weight > 0 applies to dtypes {dtypes} at ranks "
            f"{config.types.min_rank}..{config.types.max_rank}; raise the weight of an op that does"
        )
    return config


def proposal_context(config: GrammarConfig, seed: int = 0, index: int = 0):
    """A ``Context`` for calling op proposals directly (tests, tools), drawing from (seed, index)."""
    return _Builder(config, Draw(seed, index))


def sample(config: GrammarConfig, seed: int, index: int) -> Program:
    """Program ``index`` of the corpus ``(config, seed)``; pure and deterministic.

    Draws up to ``MAX_TRIES`` candidates from the same stream and returns the first whose op count
    lies in ``[min_nodes, max_nodes]`` (else the closest one). A candidate that used up ``WORK_LIMIT``
    ends the tries: its grammar cannot build what it was asked for, and the next tries would not either.
    """
    draw = Draw(seed, index)
    bounds = config.program
    best, best_miss = None, math.inf
    for _ in range(MAX_TRIES):
        program, exhausted = _sample_once(config, draw)
        size = len(program.op_nodes())
        miss = max(bounds.min_nodes - size, size - bounds.max_nodes, 0)
        if miss < best_miss:
            best, best_miss = program, miss
        if miss == 0 or exhausted:
            break
    assert best is not None
    return best


def _sample_once(config: GrammarConfig, draw: Draw) -> tuple[Program, bool]:
    """One candidate program, and whether its draw reached ``WORK_LIMIT``."""
    builder = _Builder(config, draw)
    bounds = config.program
    n_outputs = draw.randint(bounds.min_outputs, bounds.max_outputs)
    target = draw.randint(bounds.min_nodes, bounds.max_nodes)
    outputs: list[int] = []
    for share in builder._split(target, n_outputs):
        builder.work_limit = builder.work + WORK_LIMIT
        node = builder.composite_output(max(share, 1), bounds.max_depth)
        while node is None:  # a fresh allowance: after failed composites, plain ops can still build a result
            builder.work_limit = builder.work + WORK_LIMIT
            node = builder.gen(builder.random_type(), max(share, 1), bounds.max_depth)
        outputs.append(node)
    outputs += [n for n in builder.extras if n not in outputs]
    builder.top.params.sort()
    body = Region("body", "function", 0, tuple(builder.top.params), tuple(builder.top.nodes), tuple(outputs))
    body = prune(body, builder.index)
    in_trees = out_trees = ()
    if bounds.pytree_prob > 0:  # no draw otherwise: configs without pytrees keep their programs
        classes = [0]  # NamedTuple classes made so far (State0, State1, ...)
        in_trees = _group(draw, len(body.params), bounds.pytree_prob, PARAM_KEYS, classes)
        out_trees = _group(draw, len(body.outputs), bounds.pytree_prob, RESULT_KEYS, classes)
    name = config.function_name
    if builder.idiomatic:
        name = builder.made_by.get(outputs[0]) or draw.choice(GENERIC_FUNCTIONS)
        if not in_trees:
            body, in_trees = _params_tree(body, builder.hints)
    program = Program(name, body, names=dict(sorted(builder.hints.items())),
                      temporaries=config.dead_code.single_use_temporaries, in_trees=in_trees, out_trees=out_trees)
    return program, builder.exhausted


def _params_tree(body: Region, hints: dict[int, str]) -> tuple[Region, tuple[Tree, ...]]:
    """Inputs whose hint is a path (``dense_0/kernel``) grouped into one nested dict argument, first; the other
    inputs follow as plain arguments. The inputs are reordered to JAX's flattening order (sorted keys)."""
    root: dict[str, Any] = {}
    numbers: dict[str, str] = {}  # "dense#7" -> "dense_0", in input order
    for p in body.params:
        hint = hints.get(p, "")
        if "/" in hint:
            *path, leaf = hint.split("/")
            kind, _, _ = path[0].partition("#")
            if path[0] not in numbers:
                numbers[path[0]] = f"{kind}_{sum(1 for k in numbers if k.partition('#')[0] == kind)}"
            path[0] = numbers[path[0]]
            node = root
            for key in path:
                node = node.setdefault(key, {})
            node[leaf] = p
    if not root:
        return body, ()
    order: list[int] = []

    def build(d: dict[str, Any]) -> Tree:
        children = []
        for key in sorted(d):
            if isinstance(d[key], dict):
                children.append(build(d[key]))
            else:
                children.append(Tree("leaf", len(order)))
                order.append(d[key])
        return Tree("dict", keys=tuple(sorted(d)), children=tuple(children))

    tree = build(root)
    others = [p for p in body.params if p not in order]
    params = tuple(order + others)
    trees = (tree,) + tuple(Tree("leaf", len(order) + i) for i in range(len(others)))
    return Region(body.role, body.layout, body.carries, params, body.nodes, body.outputs), trees


#: Dict keys of sampled pytrees (a params dict, returned metrics).
PARAM_KEYS = ("w", "b", "kernel", "bias", "scale", "embedding", "mu", "nu", "count", "weight")
RESULT_KEYS = ("loss", "grads", "logits", "aux", "state", "out", "metrics", "updates")
STATE_FIELDS = ("count", "mu", "nu", "step", "params", "momentum", "scale")


def _group(draw: Draw, count: int, prob: float, names: tuple[str, ...], classes: list[int]) -> tuple[Tree, ...]:
    """Leaves ``0..count-1`` with a prefix of two or more grouped into one dict (sometimes nested), tuple or
    NamedTuple; ``()`` (flat) when not drawn or when there are fewer than two values."""
    if count < 2 or not draw.bernoulli(prob):
        return ()
    size = draw.randint(2, count)

    def build(first: int, n: int, nest: bool) -> Tree:
        if draw.bernoulli(0.3):
            leaves = tuple(Tree("leaf", first + i) for i in range(n))
            if draw.bernoulli(0.5):  # an optimizer-state-like NamedTuple, fields in drawn (declared) order
                classes[0] += 1
                return Tree("namedtuple", keys=tuple(_keys(draw, STATE_FIELDS, n)), children=leaves,
                            name=f"State{classes[0] - 1}")
            return Tree("tuple", children=leaves)
        if nest and n >= 3 and draw.bernoulli(0.4):  # {"layer0": {...}, "out": leaf, ...}
            inner = draw.randint(2, n - 1)
            keys = sorted(_keys(draw, names, n - inner + 1))
            slot = draw.randint(0, len(keys) - 1)
            children, at = [], first
            for k, _ in enumerate(keys):
                if k == slot:
                    children.append(build(at, inner, False))
                    at += inner
                else:
                    children.append(Tree("leaf", at))
                    at += 1
            return Tree("dict", keys=tuple(keys), children=tuple(children))
        return Tree("dict", keys=tuple(sorted(_keys(draw, names, n))),
                    children=tuple(Tree("leaf", first + i) for i in range(n)))

    return (build(0, size, True),) + tuple(Tree("leaf", i) for i in range(size, count))


def _keys(draw: Draw, names: tuple[str, ...], n: int) -> list[str]:
    pool = list(names)
    out = []
    for i in range(n):
        out.append(pool.pop(draw.randint(0, len(pool) - 1)) if pool else f"k{i}")
    return out



def prune(body: Region, index: dict[int, Node]) -> Region:
    """Drop nodes no output depends on (keeping every body's params)."""
    live: set[int] = set()

    def mark(node_id: int) -> None:
        stack = [node_id]
        while stack:
            n = stack.pop()
            if n in live:
                continue
            live.add(n)
            node = index[n]
            stack.extend(node.args)
            for region in node.regions:
                stack.extend(region.outputs)

    def rebuild(region: Region) -> Region:
        kept = []
        for node in region.nodes:
            if node.id in live or node.id in region.params:
                if node.regions:
                    node = Node(node.id, node.op, node.args, node.types, node.intervals, node.params,
                                tuple(rebuild(r) for r in node.regions))
                kept.append(node)
        return Region(region.role, region.layout, region.carries, region.params, tuple(kept), region.outputs)

    for out in body.outputs:
        mark(out)
    params = tuple(p for p in body.params if p in live)
    body = Region(body.role, body.layout, body.carries, params, body.nodes, body.outputs)
    return rebuild(body)


__all__ = ["Draw", "sample", "prune", "check_config", "REGISTRY"]
