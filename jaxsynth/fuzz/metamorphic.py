"""Reference-free (metamorphic) oracles: the same program run two ways that must agree.

==========  ==========================================================================================
sharding    jit over inputs placed with sampled ``NamedSharding``s on 8 virtual CPU devices (for half of the
            programs also with named values inside and results constrained to sampled shardings), and
            ``shard_map(vmap(f))`` over a batch split across the devices (for half of the programs manual
            over the batch axis only, each example split by XLA's partitioner over the other mesh axes,
            and for half of those its results all-gathered), vs one device
export      ``jax.export``: serialize, deserialize and call, vs direct ``jax.jit``
jitvmap     ``jit(vmap(f))`` vs ``vmap(jit(f))``
unroll      ``lax.scan``/``lax.fori_loop`` with ``unroll`` and ``jax.checkpoint`` bodies vs plain (forward),
            and the gradient of a checkpointed ``f`` vs of ``f``
rewrite     an equivalent program by algebraic identities (commuted operands, ``(v + v) * 0.5`` for ``v``,
            a transpose of a transpose, a reduction or a contraction split in two along one axis) vs the
            original
==========  ==========================================================================================

Each is judged with the program's own tolerances (the reference interval analysis), so rounding
differences between two valid compilations are not findings; on special-value inputs
(:mod:`jaxsynth.fuzz.special`) with its classes and references too (``rewrite`` leaves out ``(v + v) * 0.5``
there, which overflows where ``v`` does not, and ``unroll`` checks its forward results only). A mismatch where
one-device ``jax.jit`` is the wrong side (it fails against the reference, the variant passes) is a skipped
verdict of kind ``baseline``: the ``reference`` oracle's finding, not the variant's. A construct an oracle cannot judge
(too few devices, no ``jax.export`` in this JAX, nothing to rewrite) is an explicit skip of kind
``unsupported``, counted per oracle in the summary. Every variant carries a standalone Python
snippet (``data["variant"]``) that ``repro.py`` runs against ``jax.jit(f)``.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from jaxsynth.fuzz import oracles as _oracles
from jaxsynth.fuzz.oracles import (
    ORACLES,
    Case,
    Oracle,
    Verdict,
    _compare_all,
    _np,
    build_function,
    module_text,
    vmapped_module,
    vmapped_outputs,
)
from jaxsynth.fuzz.tolerance import elementwise_error, mismatch_class
from jaxsynth.grammar.types import Interval, TensorType
from jaxsynth.synth import render
from jaxsynth.synth.program import Node, Program

__all__ = ["DEVICES", "ExportOracle", "JitVmapOracle", "RewriteOracle", "ShardingOracle", "UnrollOracle",
           "unsupported"]

DEVICES = 8  #: virtual CPU devices of a fuzz worker (``--xla_force_host_platform_device_count``)
#: The share of programs whose ``sharding`` variant also constrains values inside the program (resharding
#: between ops), and of those values, the share constrained; the other programs shard only their inputs.
CONSTRAINED_SHARE, CONSTRAINED_VALUE_SHARE = 0.5, 0.6
#: The share of programs whose ``shard_map`` variant is partial manual (manual over the batch axis only, the
#: other axes left to XLA's partitioner), where this JAX has it, and the meshes it draws (batch axis first).
PARTIAL_MANUAL_SHARE, PARTIAL_MANUAL_MESHES = 0.5, ((4, 2), (2, 4), (2, 2, 2))
#: Of those, the share whose results are all-gathered over the manual axis (a collective inside shard_map).
ALL_GATHER_SHARE = 0.5


def unsupported(why: str) -> Verdict:
    """An explicit skip: the oracle cannot judge this program here (counted, never a finding)."""
    return Verdict(True, detail=why, skipped=True, kind="unsupported")


def _ours(what: str, run: Callable[[], Any]) -> Any:
    """Run a variant that jaxsynth built (after the original compiled and ran): if it raises, the variant
    is the suspect, so the failure is an internal error, never a finding."""
    from jaxsynth.fuzz.oracles import InternalError, _first_line

    try:
        return run()
    except Exception as exc:
        raise InternalError(f"{what} failed: {_first_line(exc)}") from exc


def source_literal(source: str) -> str:
    """A Python literal of a program's source for repro.py: a triple-quoted block that reads as the program
    (``repr`` when the source holds quotes or backslashes that would need escaping)."""
    if "\\" in source or "\"\"\"" in source or source.endswith("\""):
        return repr(source)
    return '"""\\\n' + source + '"""'


def _outputs(result: Any, n: int) -> tuple[np.ndarray, ...]:
    if n == 1 and not isinstance(result, tuple | list):
        return (_np(result),)
    return tuple(_np(o) for o in result)


def _against_jit(case: Case, other: Sequence[np.ndarray], got: Sequence[np.ndarray], what: str, data: dict[str, Any],
                 factor: float = 1.0) -> Verdict:
    """``other`` (a variant's outputs) vs ``got`` (one-device ``jax.jit``), within the program's tolerances.

    A mismatch where the one-device jit is the one that is wrong (it fails against the reference, the variant
    passes) is not this oracle's finding but the ``reference`` oracle's: a skipped verdict (kind ``baseline``).
    Otherwise reduction hops from the variant's bug to a different bug of the baseline: a sharding finding
    on conv + pool programs reduced to an XLA:CPU fusion that breaks the unsharded jit."""
    analysis = case.analysis
    verdict = _compare_all(case, other, got, case.tolerances(analysis, factor=factor), [analysis], what, data)
    if not verdict.failed:
        return verdict
    baseline = case.versus_reference(got, "jit vs reference")
    if baseline.failed and not case.versus_reference(other).failed:
        return Verdict(True, verdict.error, verdict.tolerance, f"the one-device jit is wrong ({baseline.detail}); "
                       "the variant matches the reference", skipped=True, kind="baseline", ratio=verdict.ratio)
    return verdict


# ---------------------------------------------------------------- export


class ExportOracle(Oracle):
    name = "export"
    description = "jax.export serialize -> deserialize -> call vs direct jit"

    VARIANT = """\
def variant(args):
    from jax import export
    shapes = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in args]
    blob = export.export(jax.jit(f))(*shapes).serialize()
    return outputs(export.deserialize(blob).call(*args))
"""

    def check(self, case: Case) -> Verdict:
        import jax

        export = getattr(jax, "export", None)
        if export is None:
            try:
                from jax.experimental import export  # type: ignore[no-redef]
            except ImportError:
                return unsupported("this JAX has no jax.export")
        got = case.jit_out
        case.stage("export", {"variant": self.VARIANT})  # in the plan, so an error's repro.py has it too
        shapes = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in case.device_inputs]
        exported = export.export(jax.jit(case.fn))(*shapes)
        serialize = getattr(exported, "serialize", None) or (lambda: export.serialize(exported))  # jax < 0.4.30
        try:
            blob = serialize()
        except ImportError as exc:  # serialization needs the optional flatbuffers package
            return unsupported(f"jax.export cannot serialize here: {exc}")
        case.stage("deserialize")
        restored = export.deserialize(blob)
        call = getattr(restored, "call", None) or export.call_exported(restored)  # jax < 0.4.30
        case.stage("run")
        other = _outputs(call(*case.device_inputs), case.n_outputs)
        return _against_jit(case, other, got, "exported round trip vs jit", {"variant": self.VARIANT})


# ---------------------------------------------------------------- jit(vmap) vs vmap(jit)


class JitVmapOracle(Oracle):
    name = "jitvmap"
    description = "jit(vmap(f)) vs vmap(jit(f)) over a batch"
    BATCH = 3

    def applies(self, program: Program) -> bool:
        return len(program.body.params) > 0

    def check(self, case: Case) -> Verdict:
        import jax

        b = case.batch(self.BATCH)
        axes = tuple(b.axes)
        case.stage("jit(vmap)", {"batched": b.batched, "in_axes": b.axes})  # the baseline compiles and runs first
        args = [jax.device_put(x) for x in b.batched]
        variant = ("def variant(args):\n"
                   f"    return outputs(jax.vmap(jax.jit(f), in_axes={axes!r})(*BATCHED))\n"
                   "def baseline(args):\n"
                   f"    return outputs(jax.jit(jax.vmap(f, in_axes={axes!r}))(*BATCHED))\n")
        outer = vmapped_outputs(case, b)
        case.stage("vmap(jit)", {"variant": variant})
        inner_fn = jax.vmap(jax.jit(case.fn), in_axes=axes)
        if _oracles.SHARE and not case.options() and _one_jit_module(inner_fn, args) == vmapped_module(case, b):
            return Verdict(True, detail="vmap(jit(f)) runs the module jit(vmap(f)) compiled: the same executable, "
                           "not compiled twice", kind="known")
        inner = case.call(inner_fn, args)
        return _compare_all(case, inner, outer, b.tolerances(case), b.analyses(case), "vmap(jit(f)) vs jit(vmap(f))",
                            {"variant": variant, "batched": b.batched}, b)


def _one_jit_module(fn: Callable, args: Sequence[Any]) -> str | None:
    """When ``fn`` traces to a single ``jit`` applied to its own arguments and returning its results
    (what ``vmap(jit(f))`` is: the batching rule of ``jit`` batches the body), the module JAX compiles
    to run it, as :func:`module_text` prints it; otherwise None."""
    import jax

    try:
        from jax.extend.core import jaxpr_as_fun
    except ImportError:  # an old JAX: compile and run the variant
        return None
    closed = jax.make_jaxpr(fn)(*args)
    jaxpr = closed.jaxpr
    if len(jaxpr.eqns) != 1 or closed.consts:
        return None
    eqn = jaxpr.eqns[0]
    params = eqn.params
    if (eqn.primitive.name not in ("jit", "pjit") or list(eqn.invars) != list(jaxpr.invars)
            or list(eqn.outvars) != list(jaxpr.outvars) or any(params.get("donated_invars", ()))
            or params.get("keep_unused") or params.get("compiler_options_kvs")):
        return None
    return module_text(jax.jit(jaxpr_as_fun(params["jaxpr"])).lower(*args))


# ---------------------------------------------------------------- sharding


def _mesh_shapes(n: int) -> list[tuple[int, ...]]:
    shapes = [(n,), (2, n // 2), (n // 2, 2)] if n >= 4 else [(n,)]
    return shapes + [(2, 2, n // 4)] if n >= 8 and n % 4 == 0 else shapes


def _sample_spec(shape: Sequence[int], mesh_shape: Sequence[int], rng: np.random.Generator) -> tuple:
    """A PartitionSpec (as a tuple of entries: None, an axis name, or a tuple of axis names that split one dim
    together, as in FSDP's ``P(('data', 'fsdp'))``) sharding dims the mesh axes divide."""
    names = [f"d{k}" for k in range(len(mesh_shape))]
    free = list(range(len(mesh_shape)))
    spec: list[str | tuple[str, ...] | None] = []
    for dim in shape:
        fits = [k for k in free if dim % mesh_shape[k] == 0 and mesh_shape[k] > 1]
        pairs = [(j, k) for j in fits for k in fits if j < k and dim % (mesh_shape[j] * mesh_shape[k]) == 0]
        if pairs and rng.random() < 0.25:
            j, k = pairs[int(rng.integers(len(pairs)))]
            free.remove(j)
            free.remove(k)
            spec.append((names[j], names[k]))
        elif fits and rng.random() < 0.7:
            k = fits[int(rng.integers(len(fits)))]
            free.remove(k)
            spec.append(names[k])
        else:
            spec.append(None)
    return tuple(spec)


def constrained_source(source: str, names: Collection[str] | None) -> str:
    """``source`` (a rendered program) with each named value of its function, ``vK = expr`` (in its own body
    and in the loop bodies and branches nested in it), as ``vK = _constrain(expr, 'vK')``, and its results
    as ``_constrain(result, 'outK')``, only those in ``names`` when given; tuple targets are left as they
    are."""
    import libcst as cst

    class Constrain(cst.CSTTransformer):
        def __init__(self) -> None:
            self.depth = 0

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            self.depth += 1
            return True

        def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
            self.depth -= 1
            return updated

        def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
            target = updated.targets[0].target if len(updated.targets) == 1 else None
            if self.depth < 1 or not isinstance(target, cst.Name) or not re.fullmatch(r"v\d+", target.value):
                return updated
            return updated.with_changes(value=wrap(updated.value, target.value))

        def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
            if self.depth != 1 or updated.value is None:  # the function's results, as out_shardings would be
                return updated
            if isinstance(updated.value, cst.Tuple):
                results = updated.value.elements
                elements = [e.with_changes(value=wrap(e.value, f"out{k}")) for k, e in enumerate(results)]
                return updated.with_changes(value=updated.value.with_changes(elements=elements))
            return updated.with_changes(value=wrap(updated.value, "out0"))

    def wrap(value: cst.BaseExpression, name: str) -> cst.BaseExpression:
        if names is not None and name not in names:
            return value
        return cst.Call(cst.Name("_constrain"), [cst.Arg(value), cst.Arg(cst.SimpleString(repr(name)))])

    return cst.parse_module(source).visit(Constrain()).code


def _no_replication_check(shard_map: Callable) -> dict[str, bool]:
    """shard_map's type check of values varying over the mesh is off: a loop carry initialized from a
    replicated input and updated from a sharded one is valid in ``f`` but would be rejected as a type error
    (``check_vma``, earlier ``check_rep``); the comparison judges the values instead."""
    import inspect

    names = inspect.signature(shard_map).parameters
    return {k: False for k in ("check_vma", "check_rep") if k in names}


def _mesh(mesh_shape: tuple[int, ...], names: tuple[str, ...]) -> tuple[Any, str]:
    """A mesh of the first :data:`DEVICES` devices, and the line of repro.py's ``variant`` that makes it."""
    import jax
    from jax.sharding import Mesh

    return (Mesh(np.array(jax.devices()[:DEVICES]).reshape(mesh_shape), names),
            f"    mesh = Mesh(np.array(jax.devices()[:{DEVICES}]).reshape({mesh_shape!r}), {names!r})\n")


def _placing(arrays: str, specs: Sequence[tuple]) -> str:
    """The line of repro.py's ``variant`` that places ``arrays`` on ``mesh`` with ``specs``, as ``placed``."""
    return (f"    placed = [jax.device_put(a, NamedSharding(mesh, PartitionSpec(*s))) for a, s in "
            f"zip({arrays}, {list(specs)!r})]\n")


@functools.cache
def _partial_manual_lowers(shard_map: Callable) -> bool:
    """Whether this JAX lowers a partial-manual ``shard_map`` (``axis_names``: manual over one mesh axis, the
    others left to the partitioner) with a sharding constraint inside, as the ``sharding`` oracle builds one:
    jax 0.6.2 has the API but raises ``NotImplementedError`` lowering it; older releases lack the API. (0.6.2
    lowers a constraint naming the concrete ``Mesh``, but XLA then aborts in about half of the programs,
    ``Check failed: target.IsManualSubgroup() == sharding().IsManualSubgroup()``: one bucket that would drown
    the rest, and maybe the form's own fault, so that JAX gets the fully manual variant only.)"""
    import inspect

    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    if "axis_names" not in inspect.signature(shard_map).parameters or len(jax.devices()) < DEVICES:
        return False
    mesh, _ = _mesh(PARTIAL_MANUAL_MESHES[0], ("b", "d0"))

    def body(x: Any) -> Any:
        inside = NamedSharding(jax.sharding.get_abstract_mesh(), PartitionSpec(None, "d0"))
        return jax.lax.with_sharding_constraint(x * 2, inside)

    mapped = shard_map(jax.vmap(body), mesh=mesh, in_specs=PartitionSpec("b"), out_specs=PartitionSpec("b"),
                       axis_names={"b"}, **_no_replication_check(shard_map))
    try:
        jax.jit(mapped).lower(jax.ShapeDtypeStruct((DEVICES, 2, 2), np.float32,
                                                   sharding=NamedSharding(mesh, PartitionSpec("b"))))
    except Exception:  # noqa: BLE001 - whatever this JAX raises, it cannot build the variant
        return False
    return True


def _input_specs(case: Case, arrays: Sequence[np.ndarray], mesh_shape: Sequence[int], salt: int,
                 skip_leading: Sequence[bool] = ()) -> list[tuple]:
    """A PartitionSpec per input (:func:`_sample_spec`; with ``skip_leading[i]``, of the input's shape less its
    leading batch dim), drawn by the case's seed, the input's shape and dtype and how many inputs of that shape and
    dtype came before it, as :meth:`ShardingOracle._constraining` draws a value's constraint: not by position, so
    a reduced program keeps the placements of the inputs it keeps (drawn in sequence, dropping ``x0`` re-placed
    every later input, and a crash that needs one placement did not reduce: ``numerics`` seed 1130, program 17)."""
    seen: dict[tuple, int] = {}
    specs = []
    for i, x in enumerate(arrays):
        shape = x.shape[1:] if i < len(skip_leading) and skip_leading[i] else x.shape
        specs.append(_sample_spec(shape, mesh_shape, _value_rng(case.seed, salt, seen, shape, x.dtype)))
    return specs


def _value_rng(seed: int, salt: int, seen: dict[tuple, int], shape: Sequence[int], dtype: Any) -> np.random.Generator:
    """The generator of one value's sharding draw: keyed by ``seed``, ``salt``, the value's shape and dtype and how
    many values of that shape and dtype ``seen`` has counted before it (counted here), not by its position."""
    kind = (*shape, zlib.crc32(str(dtype).encode()))
    seen[kind] = ordinal = seen.get(kind, -1) + 1
    return np.random.default_rng([seed, salt, ordinal, len(shape), *kind])


class ShardingOracle(Oracle):
    name = "sharding"
    description = "sampled NamedShardings and shard_map over 8 virtual CPU devices vs one device"

    def check(self, case: Case) -> Verdict:
        import jax
        from jax.sharding import NamedSharding, PartitionSpec

        devices = jax.devices()
        if len(devices) < DEVICES:
            return unsupported(f"{len(devices)} devices (the fuzz worker starts {DEVICES} virtual CPU devices)")
        rng = case.rng(11)
        shapes = _mesh_shapes(DEVICES)
        mesh_shape = shapes[int(rng.integers(len(shapes)))]
        mesh, mesh_line = _mesh(mesh_shape, tuple(f"d{k}" for k in range(len(mesh_shape))))
        specs = _input_specs(case, case.inputs, mesh_shape, 0x1A5E)
        constrain = case.rng(15).random() < CONSTRAINED_SHARE
        got = case.jit_out
        placed = [jax.device_put(x, NamedSharding(mesh, PartitionSpec(*spec))) for x, spec in zip(case.inputs, specs,
                                                                                                   strict=True)]
        place_line = _placing("args", specs)
        if constrain:
            lowered, constraints, variant = self._constrained(case, mesh, mesh_shape, placed, mesh_line + place_line)
            what = f"jit with inputs sharded {specs} and values constrained {constraints} over mesh {mesh_shape}"
        else:
            lowered, constraints = None, {}
            variant = ("import os  # noqa\n"
                       "def variant(args):\n"
                       "    from jax.sharding import Mesh, NamedSharding, PartitionSpec\n"
                       f"{mesh_line}{place_line}"
                       "    return outputs(jax.jit(f)(*placed))\n")
            what = f"jit with inputs sharded {specs} over mesh {mesh_shape}"
        # the variant is in the plan before it compiles, so an error's repro.py has it too
        case.stage("plan", {"mesh": list(mesh_shape), "specs": specs, "constraints": constraints, "variant": variant,
                            "devices": DEVICES})
        executable = case.compile(case.fn, placed) if lowered is None else case.compile_lowered(lowered)
        sharded = case.call(executable, placed)
        verdict = _against_jit(case, sharded, got, f"{what} vs one device", {"variant": variant, "devices": DEVICES})
        if verdict.failed or verdict.skipped or not case.inputs:
            return verdict
        return self._shard_map(case, verdict)

    def _constrained(self, case: Case, mesh: Any, mesh_shape: tuple[int, ...], placed: Sequence[Any],
                     placing: str) -> tuple[Any, dict[str, tuple], str]:
        """The program lowered with some of its named values constrained (:meth:`_constraining`), so the
        partitioner reshards between ops; the constraints by name, and the variant for repro.py."""
        from jax.sharding import NamedSharding

        fn, chosen, source = self._constraining(case, mesh_shape, lambda spec: NamedSharding(mesh, spec))
        case.stage("lower")
        lowered = _ours("the program with sharding constraints", lambda: case.lower(fn, placed))
        call = f"    return outputs(jax.jit(namespace[{case.program.plain().name!r}])(*placed))\n"
        return lowered, chosen, _constraining_variant(source(), placing, chosen, call)

    @staticmethod
    def _constraining(case: Case, mesh_shape: tuple[int, ...], sharding: Callable[[Any], Any]
                      ) -> tuple[Callable, dict[str, tuple], Callable[[], str]]:
        """The program's flat function with some of its named values (``vK = ...``, see :func:`constrained_source`)
        constrained by ``jax.lax.with_sharding_constraint`` to ``sharding`` of PartitionSpecs sampled over
        ``mesh_shape`` (the mesh axes ``d0``, ``d1``...); the constraints it chose by name (filled as it is traced) and,
        once traced, the source that makes exactly those. A value's constraint depends on the case's seed, the value's
        shape and dtype and how many values of that shape and dtype came before it, not on names or node ids, so a
        reduced program mostly keeps those of the values it keeps."""
        import jax
        from jax.sharding import PartitionSpec

        plain = case.program.plain()
        rendered = case.source if plain is case.program else render(plain)
        decided: dict[str, tuple | None] = {}  # a body traced twice constrains its values the same way
        chosen: dict[str, tuple] = {}
        seen: dict[tuple, int] = {}  # values of each shape and dtype so far, in tracing order

        def constrain(x: Any, name: str) -> Any:
            dtype = getattr(x, "dtype", None)
            if dtype is None or not hasattr(x, "shape") or jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
                return x
            if name not in decided:
                rng = _value_rng(case.seed, 0x5A4D, seen, x.shape, dtype)
                decided[name] = _sample_spec(x.shape, mesh_shape, rng) if rng.random() < CONSTRAINED_VALUE_SHARE \
                    else None
                if decided[name] is not None:
                    chosen[name] = decided[name]
            spec = decided[name]
            if spec is None:
                return x
            return jax.lax.with_sharding_constraint(x, sharding(PartitionSpec(*spec)))

        fn = plain.flat_function(build_function(constrained_source(rendered, None), plain.name,
                                                {"_constrain": constrain}))
        return fn, chosen, lambda: constrained_source(rendered, set(chosen))

    def _shard_map(self, case: Case, first: Verdict) -> Verdict:
        """``shard_map(vmap(f))``: one example per device, against per-example jit. Where this JAX lowers a
        partial-manual shard_map (:func:`_partial_manual_lowers`), for a share of programs only the batch axis
        is manual and XLA's partitioner splits each example over the other axes (:meth:`_partial_manual`)."""
        import jax

        shard_map = getattr(jax, "shard_map", None)
        if shard_map is None:
            try:
                from jax.experimental.shard_map import shard_map  # type: ignore[no-redef]
            except ImportError:
                return first
        b = case.batch(DEVICES)
        rng = case.rng(16)
        axes = tuple(b.axes)
        # repro.py's baseline: per-example jit, stacked
        baseline = ("def baseline(args):\n"
                    "    single = jax.jit(f)\n"
                    f"    rows = [outputs(single(*[x[i] if a == 0 else x for x, a in zip(BATCHED, {axes!r})]))\n"
                    f"            for i in range({DEVICES})]\n"
                    "    return [np.stack([np.asarray(r[k]) for r in rows]) for k in range(len(rows[0]))]\n")
        if rng.random() < PARTIAL_MANUAL_SHARE and _partial_manual_lowers(shard_map):
            executable, args, variant, what = self._partial_manual(case, b, shard_map, rng, baseline)
        else:
            executable, args, variant, what = self._fully_manual(case, b, shard_map, baseline)
        got = case.call(executable, args)
        verdict = _compare_all(case, got, b.expected(case), b.tolerances(case), b.analyses(case), what,
                               {"variant": variant, "devices": DEVICES, "batched": b.batched}, b)
        if verdict.failed:
            return verdict
        return Verdict(True, ratio=max(first.ratio, verdict.ratio))

    @staticmethod
    def _fully_manual(case: Case, b: Any, shard_map: Callable, baseline: str) -> tuple[Callable, list[Any], str, str]:
        """The executable, arguments, repro variant (``baseline`` appended) and description of
        ``shard_map(vmap(f))`` over 8 devices, the batch split over the one (manual) mesh axis."""
        import jax
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        axes = tuple(b.axes)
        mesh = Mesh(np.array(jax.devices()[:DEVICES]), ("b",))
        in_specs = tuple(PartitionSpec("b") if a == 0 else PartitionSpec() for a in axes)
        mapped = shard_map(jax.vmap(case.fn, in_axes=axes), mesh=mesh, in_specs=in_specs,
                           out_specs=PartitionSpec("b"), **_no_replication_check(shard_map))
        variant = ("def variant(args):\n"
                   "    from jax.sharding import Mesh, PartitionSpec as P\n"
                   "    shard_map = getattr(jax, 'shard_map', None)\n"
                   "    if shard_map is None:\n"
                   "        from jax.experimental.shard_map import shard_map\n"
                   f"    mesh = Mesh(np.array(jax.devices()[:{DEVICES}]), ('b',))\n"
                   f"    specs = tuple(P('b') if a == 0 else P() for a in {axes!r})\n"
                   "    import inspect\n"
                   "    names = inspect.signature(shard_map).parameters\n"
                   "    check = {k: False for k in ('check_vma', 'check_rep') if k in names}\n"
                   f"    g = shard_map(jax.vmap(f, in_axes={axes!r}), mesh=mesh, in_specs=specs, out_specs=P('b'),"
                   " **check)\n"
                   f"    return outputs(jax.jit(g)(*BATCHED))\n{baseline}")
        # the variant is in the plan before it compiles, so a crash's repro.py runs shard_map too (it ran the
        # NamedSharding variant, which passed: control-flow seed 7, program 110 on jax 0.4.26, UNVERIFIED)
        case.stage("plan", {"shard_map": True, "batched": b.batched, "in_axes": b.axes, "variant": variant})
        # placed from host memory where shard_map wants them: a one-device array would be resharded by a
        # compiled slicing program per argument (JAX's _multi_slice), which cost more than the variant itself
        args = [jax.device_put(x, NamedSharding(mesh, spec)) for x, spec in zip(b.batched, in_specs, strict=True)]
        return case.compile(mapped, args), args, variant, "shard_map(vmap(f)) over 8 devices vs per-example jit"

    def _partial_manual(self, case: Case, b: Any, shard_map: Callable, rng: np.random.Generator, baseline: str
                        ) -> tuple[Callable, list[Any], str, str]:
        """The same for ``shard_map(vmap(f))`` manual over the batch axis ``b`` of a sampled mesh only: XLA's
        partitioner splits each example over the other (auto) axes, its inputs sharded over them and values
        inside constrained (:meth:`_constraining`); in a share of programs the results are all-gathered over
        ``b``, so every device returns the whole batch. Tracing it is jaxsynth's work: an error there is an
        internal error."""
        import jax
        from jax.sharding import NamedSharding, PartitionSpec

        axes = tuple(b.axes)
        mesh_shape = PARTIAL_MANUAL_MESHES[int(rng.integers(len(PARTIAL_MANUAL_MESHES)))]
        auto = mesh_shape[1:]
        names = ("b", *(f"d{k}" for k in range(len(auto))))
        mesh, mesh_line = _mesh(mesh_shape, names)
        # half the time every device gathers the whole batch (an all-gather over the manual axis)
        gather = rng.random() < ALL_GATHER_SHARE
        specs = [(("b",) if a == 0 else ()) + spec for a, spec in
                 zip(axes, _input_specs(case, b.batched, auto, 0x9A37, [a == 0 for a in axes]), strict=True)]
        # inside shard_map, a value's sharding names the mesh in context, whose batch axis is manual
        fn, chosen, source = self._constraining(
            case, auto, lambda spec: NamedSharding(jax.sharding.get_abstract_mesh(), spec))
        check = _no_replication_check(shard_map)
        in_specs = tuple(PartitionSpec("b") if a == 0 else PartitionSpec() for a in axes)
        body = _all_gathered(jax.vmap(fn, in_axes=axes), "b") if gather else jax.vmap(fn, in_axes=axes)
        mapped = shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=PartitionSpec() if gather
                           else PartitionSpec("b"), axis_names={"b"}, **check)
        args = [jax.device_put(x, NamedSharding(mesh, PartitionSpec(*s))) for x, s in zip(b.batched, specs,
                                                                                          strict=True)]
        case.stage("lower")
        lowered = _ours("shard_map with sharding constraints", lambda: case.lower(mapped, args))
        call = (f"    body = jax.vmap(namespace[{case.program.plain().name!r}], in_axes={axes!r})\n"
                + ("    gathered = lambda *xs: jax.tree_util.tree_map(lambda y: jax.lax.all_gather(y, 'b', tiled=True),"
                   " body(*xs))\n" if gather else "")
                + f"    g = jax.shard_map({'gathered' if gather else 'body'}, mesh=mesh, "
                f"out_specs=PartitionSpec({'' if gather else repr('b')}),\n"
                "                      in_specs=tuple(PartitionSpec('b') if a == 0 else PartitionSpec() "
                f"for a in {axes!r}), axis_names={{'b'}}, **{check!r})\n"
                + _placing("BATCHED", specs)
                + "    return outputs(jax.jit(g)(*placed))\n")
        variant = _constraining_variant(source(), mesh_line, chosen, call, mesh="jax.sharding.get_abstract_mesh()")
        variant += baseline
        # in the plan before it compiles, so a crash's repro.py runs it
        case.stage("plan", {"shard_map": True, "batched": b.batched, "in_axes": b.axes, "variant": variant,
                            "mesh": list(mesh_shape), "specs": specs, "constraints": chosen})
        what = (f"shard_map(vmap(f)) manual over 'b' of mesh {mesh_shape} {names}, inputs sharded {specs}, "
                f"values constrained {chosen}{', results all-gathered over b' if gather else ''}, vs per-example jit")
        return case.compile_lowered(lowered), args, variant, what


def _all_gathered(fn: Callable, axis: str) -> Callable:
    """``fn`` (inside ``shard_map``) with each result all-gathered over the manual mesh axis ``axis``, tiled:
    every device holds the results of the whole batch."""
    import jax

    def gathered(*xs: Any) -> Any:
        return jax.tree_util.tree_map(lambda y: jax.lax.all_gather(y, axis, tiled=True), fn(*xs))

    return gathered


def _constraining_variant(source: str, setup: str, constraints: dict[str, tuple], call: str,
                          mesh: str = "mesh") -> str:
    """repro.py's ``variant`` for a program with values constrained: ``source`` (see
    :func:`constrained_source`) run with ``constraints`` over the mesh ``setup`` makes (``mesh``: the
    expression of the mesh a constraint names), then ``call``, which finds the program's function in
    ``namespace``."""
    return (f"CONSTRAINED = {source_literal(source)}\n"
            "def variant(args):\n"
            "    from jax.sharding import Mesh, NamedSharding, PartitionSpec\n"
            f"{setup}"
            f"    constraints = {constraints!r}\n"
            "    def _constrain(x, name):  # the sharding of a value inside the program\n"
            f"        return jax.lax.with_sharding_constraint(x, NamedSharding({mesh}, "
            "PartitionSpec(*constraints[name])))\n"
            "    namespace = {'_constrain': _constrain}\n"
            "    exec(CONSTRAINED, namespace)\n"
            f"{call}")


# ---------------------------------------------------------------- unroll and remat


class _LaxVariant:
    """``jax.lax`` seen by the program with ``scan``/``fori_loop`` unrolled and their bodies checkpointed."""

    def __init__(self, unroll: int | bool, remat: bool) -> None:
        import jax.lax

        self._lax = jax.lax
        self._unroll = unroll
        self._remat = remat

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lax, name)

    def _body(self, fn: Callable) -> Callable:
        import jax

        return jax.checkpoint(fn) if self._remat else fn

    def scan(self, f: Callable, init: Any, xs: Any = None, length: Any = None, **kwargs: Any) -> Any:
        return self._lax.scan(self._body(f), init, xs, length=length, unroll=self._unroll, **kwargs)

    def fori_loop(self, lower: Any, upper: Any, body: Callable, init: Any, **kwargs: Any) -> Any:
        return self._lax.fori_loop(lower, upper, self._body(body), init, unroll=self._unroll, **kwargs)


_LOOPS = frozenset({"scan", "fori_loop"})


class UnrollOracle(Oracle):
    name = "unroll"
    description = "scan/fori_loop with unroll and checkpointed bodies vs plain; grad of checkpoint(f) vs grad of f"

    def applies(self, program: Program) -> bool:
        return any(n.op in _LOOPS for n in program.walk())

    def check(self, case: Case) -> Verdict:

        rng = case.rng(12)
        unroll = int(rng.choice([2, 3, 4]))
        remat = bool(rng.random() < 0.5)
        namespace: dict[str, Any] = {"__name__": "jaxsynth_fuzz_variant"}
        exec(compile(case.source, "<jaxsynth-fuzz-unroll>", "exec"), namespace)  # noqa: S102 - source we rendered
        namespace["lax"] = _LaxVariant(unroll, remat)
        fn = case.program.flat_function(namespace[case.program.name])  # flat inputs, as case.fn takes them
        case.stage("plan", {"unroll": unroll, "remat": remat})
        got = case.jit_out
        args = case.device_inputs
        other = _ours("the unrolled variant", lambda: case.call(case.compile(fn, args), args))
        variant = ("def variant(args):\n"
                   "    real = lax\n"
                   "    class Lax:\n"
                   "        def __getattr__(self, name):\n"
                   "            return getattr(real, name)\n"
                   "        def body(self, fn):\n"
                   f"            return jax.checkpoint(fn) if {remat!r} else fn\n"
                   "        def scan(self, f, init, xs=None, length=None, **kw):\n"
                   f"            return real.scan(self.body(f), init, xs, length=length, unroll={unroll}, **kw)\n"
                   "        def fori_loop(self, lo, hi, body, init, **kw):\n"
                   f"            return real.fori_loop(lo, hi, self.body(body), init, unroll={unroll}, **kw)\n"
                   "    g = type(f)(f.__code__, dict(f.__globals__, lax=Lax()), f.__name__)\n"
                   "    return outputs(jax.jit(g)(*args))\n")
        verdict = _against_jit(case, other, got,
                               f"loops with unroll={unroll}{' and checkpointed bodies' if remat else ''} vs plain",
                               {"variant": variant})
        if verdict.failed or verdict.skipped or not remat or case.special:
            return verdict  # (special values: a gradient through an Inf is a NaN by the order of its products)
        return self._grad(case, verdict)

    @staticmethod
    def _grad(case: Case, forward: Verdict) -> Verdict:
        """The gradient of ``jax.checkpoint(f)`` vs of ``f`` (float32, or float64 under x64), where the grad oracle
        applies."""
        import jax
        import jax.numpy as jnp

        from jaxsynth.fuzz.oracles import ORACLES, GradOracle

        if not ORACLES["grad"].applies(case.program):
            return forward
        program = case.program
        own = GradOracle.float_dtype(program)  # float32, or float64 in a program sampled under x64
        float_in = [i for i, t in enumerate(program.input_types) if t.dtype is own]
        float_out = [k for k, t in enumerate(program.output_types) if t.dtype is own]
        rng = case.rng(13)
        weights = [jnp.asarray(rng.uniform(-1, 1, program.output_types[k].shape), dtype=own.name)
                   for k in float_out]

        def loss_of(fn: Callable) -> Callable:
            def loss(*xs: Any) -> Any:
                outs = fn(*xs)
                outs = (outs,) if case.n_outputs == 1 and not isinstance(outs, tuple | list) else tuple(outs)
                return sum(jnp.sum(outs[k] * w) for k, w in zip(float_out, weights, strict=True))

            return loss

        args = case.device_inputs
        case.stage("grad")
        plain = case.compile(jax.grad(loss_of(case.fn), argnums=tuple(float_in)), args)(*args)
        case.stage("grad-remat")
        remat = case.compile(jax.grad(loss_of(jax.checkpoint(case.fn)), argnums=tuple(float_in)), args)(*args)
        worst = 0.0
        for i, g, r in zip(float_in, plain, remat, strict=True):
            g, r = np.asarray(g, dtype=np.float64), np.asarray(r, dtype=np.float64)
            tol = 1e-4 * (np.abs(g) + 1.0)
            err = elementwise_error(r, g)  # NaN in both (a derivative undefined in both) agrees: seed 51 #894
            bad = (err > 0) & ~(err <= tol)  # (the tolerance of a NaN gradient is NaN)
            if np.any(bad):
                at = tuple(int(v) for v in np.argwhere(bad)[0])
                return Verdict(False, float(err[at]) if math.isfinite(err[at]) else math.inf, float(tol[at]),
                               f"grad of jax.checkpoint(f) vs grad of f: input {i} at {list(at)}: "
                               f"got {r[at]!r}, expected {g[at]!r}", ratio=float(err[at] / tol[at]),
                               output=0, data={"variant": _GRAD_REMAT.format(weights=_arrays(weights),
                                                                           float_in=tuple(float_in),
                                                                           float_out=tuple(float_out)),
                                               "mismatch": mismatch_class(float(r[at]), float(g[at]))})
            worst = max(worst, float(np.max(err / tol, initial=0.0)))
        return Verdict(True, ratio=max(forward.ratio, worst))


def _arrays(arrays: Sequence[Any]) -> str:
    from jaxsynth.fuzz.findings import array_literal

    return "[" + ", ".join(array_literal(np.asarray(a)) for a in arrays) + "]"


_GRAD_REMAT = """\
WEIGHTS = {weights}
def _grads(fn, args):
    def loss(*xs):
        outs = outputs(fn(*xs))
        return sum(jnp.sum(outs[k] * jnp.asarray(w)) for k, w in zip({float_out!r}, WEIGHTS))
    return [np.asarray(g) for g in jax.jit(jax.grad(loss, argnums={float_in!r}))(*args)]
def variant(args):
    return _grads(jax.checkpoint(f), args)
def baseline(args):
    return _grads(f, args)
"""


# ---------------------------------------------------------------- rewrite

_COMMUTATIVE = frozenset({"add", "multiply", "maximum", "minimum", "equal", "not_equal", "logical_and", "logical_or",
                          "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"})


def _commute(node: Node) -> Node:
    lits = node.params.get("literal_args", ())
    params = dict(node.params)
    if lits:
        params["literal_args"] = tuple(sorted(1 - i for i in lits))
    return Node(node.id, node.op, tuple(reversed(node.args)), node.types, node.intervals, params, node.regions)


#: Reductions that a split along one axis leaves equal but for the order of their terms: each part reduced
#: alone, the two results combined by the reduction's own binary op. Exact for the integers (sums and products
#: wrap around alike in any order), the booleans and the order statistics; a float sum's two partial sums round
#: within the allowance of a sum-like op (relative to the sum of its terms' magnitudes, :mod:`.reference`). Not a
#: float product (:func:`_cuts`): a part's product of its tiny factors may underflow (XLA:CPU flushes it to zero)
#: where the whole, with the other part's large factors, does not.
_SPLIT_REDUCTIONS = {"sum": "add", "prod": "multiply", "max": "maximum", "min": "minimum", "any": "logical_or",
                     "all": "logical_and", "count_nonzero": "add",
                     # a part of NaNs only: nansum 0, nanmax and nanmin NaN, which fmax and fmin pass over
                     "nansum": "add", "nanmax": "fmax", "nanmin": "fmin"}
#: Contractions that a split of their contracted axis leaves equal but for the order of their terms (the two
#: partial contractions added): per op, the contracted axis of each operand, from their ranks.
_SPLIT_CONTRACTIONS: dict[str, Callable[[int, int], tuple[int, int]]] = {
    "matmul": lambda a, b: (a - 1, max(b - 2, 0)),
    "dot": lambda a, b: (a - 1, max(b - 2, 0)),
    "inner": lambda a, b: (a - 1, b - 1),
    "vecdot": lambda a, b: (a - 1, b - 1),
    "vdot": lambda a, b: (0, 0),  # flattened: both operands cut along their first axis, of one length
}


def _cuts(program: Program, node: Node) -> list[tuple[int, ...]]:
    """The ways a split of ``node`` (a reduction or a contraction) may cut it in two: per way, the axis of each
    operand that it cuts, all of one length of 2 or more (the operands are cut at the same place); none for
    another op."""
    if node.op not in _SPLIT_REDUCTIONS and node.op not in _SPLIT_CONTRACTIONS or (
            node.op == "prod" and node.type.dtype.is_float):
        return []
    shapes = [program.node(a).type.shape for a in node.args]
    if node.op in _SPLIT_REDUCTIONS and len(shapes) == 1 and "keepdims" in node.params:
        axis = node.params.get("axis")
        if axis is None:
            return [(i,) for i, d in enumerate(shapes[0]) if d >= 2]
        if isinstance(axis, int) and -len(shapes[0]) <= axis < len(shapes[0]) and shapes[0][axis] >= 2:
            return [(axis % len(shapes[0]),)]
        return []
    if node.op in _SPLIT_CONTRACTIONS and len(shapes) == 2 and "k" in node.params and all(shapes):
        axes = _SPLIT_CONTRACTIONS[node.op](*map(len, shapes))
        lengths = {shape[axis] for shape, axis in zip(shapes, axes, strict=True)}
        return [axes] if len(lengths) == 1 and lengths.pop() >= 2 else []
    return []


def _split(program: Program, node: Node, next_id: int, rng: np.random.Generator) -> list[Node]:
    """The nodes that compute ``node`` in two parts: its operands sliced in two at one place along one of its
    cuts (:func:`_cuts`), each part computed as ``node`` is (a contraction's ``k`` that of its part), the two
    combined; ids from ``next_id`` on, the last node taking ``node``'s id."""
    ways = _cuts(program, node)
    axes = ways[int(rng.integers(len(ways)))]
    operands = [program.node(a) for a in node.args]
    n = operands[0].type.shape[axes[0]]
    cut = int(rng.integers(1, n))
    nodes: list[Node] = []
    parts: list[int] = []
    for start, stop in ((0, cut), (cut, n)):
        sliced = []
        for x, axis in zip(operands, axes, strict=True):
            shape = x.type.shape[:axis] + (stop - start,) + x.type.shape[axis + 1:]
            nodes.append(Node(next_id + len(nodes), "slice", (x.id,), (x.type.with_shape(shape),), (x.interval,),
                              {"axis": axis, "start": start, "stop": stop, "step": 1}))
            sliced.append(nodes[-1])
        params = dict(node.params)
        if "k" in params:
            params["k"] = math.prod(sliced[0].type.shape) if node.op == "vdot" else stop - start
        nodes.append(Node(next_id + len(nodes), node.op, tuple(x.id for x in sliced), node.types, node.intervals,
                          params))
        parts.append(nodes[-1].id)
    combine = _SPLIT_REDUCTIONS.get(node.op, "add")
    return [*nodes, Node(node.id, combine, tuple(parts), node.types, node.intervals)]


def rewrites(program: Program, rng: np.random.Generator, max_edits: int = 4, special: bool = False
             ) -> tuple[Program, list[str]]:
    """An equivalent program: a few identities applied at random nodes (each candidate rechecked): commuted
    operands, ``(v + v) * 0.5`` for ``v`` (not for ``special`` inputs: ``v + v`` overflows where ``v`` does not),
    a transpose of a transpose, a reduction or contraction split in two (:func:`_split`). Each edit draws its
    identity first, among those with a node left to apply to, then the node: a program's many float values do
    not crowd out its few reductions."""
    from jaxsynth.fuzz.reduce import Invalid, recheck, rewrite

    next_id = max(n.id for n in program.walk()) + 1
    candidates: dict[str, list[Node]] = {"commute": [], "double-halve": [], "transpose-twice": [], "split": []}
    for node in program.walk():
        if not node.is_op or node.regions or len(node.types) != 1:
            continue
        if node.op in _COMMUTATIVE and len(node.args) == 2:
            candidates["commute"].append(node)
        if node.type.dtype.is_float and not special:
            candidates["double-halve"].append(node)
        if node.type.rank >= 2:
            candidates["transpose-twice"].append(node)
        if _cuts(program, node):
            candidates["split"].append(node)
    done: list[str] = []
    current = program
    while len(done) < max_edits:
        kinds = [k for k, nodes in candidates.items() if nodes]
        if not kinds:
            break
        what = kinds[int(rng.integers(len(kinds)))]
        node = candidates[what].pop(int(rng.integers(len(candidates[what]))))
        if current._index.get(node.id) is None:
            continue
        node = current.node(node.id)
        try:
            if what == "commute":
                candidate = rewrite(current, replace={node.id: _commute(node)})
            elif what == "split":
                if not _cuts(current, node):  # an earlier edit moved it: its id now names the edit's last node
                    continue
                spliced = _split(current, node, next_id, rng)
                candidate = rewrite(current, inline={node.id: spliced})
                next_id += len(spliced) - 1
            else:
                moved = Node(next_id, node.op, node.args, node.types, node.intervals, node.params, node.regions)
                t = node.type
                if what == "double-halve":
                    half = Node(next_id + 1, "literal", (), (TensorType(t.dtype, ()),), (Interval(0.5, 0.5),),
                                {"value": 0.5})
                    twice = Node(next_id + 2, "add", (next_id, next_id), (t,), (node.interval,))
                    last = Node(node.id, "scale", (next_id + 1, next_id + 2), (t,), (node.interval,),
                                {"literal_args": (0,)})
                    spliced = [moved, half, twice, last]
                else:
                    perm = tuple(int(v) for v in rng.permutation(t.rank))
                    inverse = tuple(int(v) for v in np.argsort(perm))
                    once = Node(next_id + 1, "transpose", (next_id,), (t.with_shape(tuple(t.shape[i] for i in perm)),),
                                (node.interval,), {"perm": perm})
                    last = Node(node.id, "transpose", (next_id + 1,), (t,), (node.interval,), {"perm": inverse})
                    spliced = [moved, once, last]
                candidate = rewrite(current, inline={node.id: spliced})
                next_id += 3
            current = _like(program, recheck(candidate))
            done.append(f"{what} at v{node.id} ({node.op})")
        except Invalid:
            continue
    return current, done


def _like(original: Program, rewritten: Program) -> Program:
    """``rewritten`` (a rebuilt body: no pytrees, no names) with ``original``'s argument and result pytrees and
    its name hints, so it is called exactly as the original (an identity keeps every input, in order, and the
    ids and order of the outputs)."""
    from jaxsynth.fuzz.reduce import Invalid

    body = rewritten.body
    if body.params != original.body.params or body.outputs != original.body.outputs:
        raise Invalid("the rewrite changed the inputs or outputs")
    return Program(original.name, body, names=original.names, temporaries=original.temporaries,
                   in_trees=original.in_trees, out_trees=original.out_trees)


class RewriteOracle(Oracle):
    name = "rewrite"
    description = "an equivalent program by algebraic identities vs the original"

    def check(self, case: Case) -> Verdict:
        rewritten, edits = rewrites(case.program, case.rng(14), special=case.special)
        if not edits:
            from jaxsynth.fuzz.reduce import Invalid, recheck

            try:  # every edited program is rechecked; the interval recheck may reject the original itself
                recheck(case.program)
            except Invalid as exc:
                return unsupported(f"the interval recheck rejects the original program ({exc})")
            return unsupported("no identity applies to this program")
        # judged as the original is (case.fn): the rendered function with its pytree arguments, called on the flat
        # inputs; the repro's f is the original with plain arguments, so its variant is the plain rewrite
        source = render(rewritten)
        plain = render(rewritten.plain())
        case.stage("plan", {"edits": edits, "source": plain})
        got = case.jit_out
        args = case.device_inputs

        def run() -> tuple[np.ndarray, ...]:
            fn = rewritten.flat_function(build_function(source, rewritten.name))
            return case.call(case.compile(fn, args), args)

        other = _ours("the rewritten program", run)
        variant = (f"REWRITTEN = {source_literal(plain)}\n"
                   "def variant(args):\n"
                   "    namespace = {}\n"
                   "    exec(REWRITTEN, namespace)\n"
                   f"    return outputs(jax.jit(namespace[{rewritten.name!r}])(*args))\n")
        return _against_jit(case, other, got, f"rewritten program ({'; '.join(edits)}) vs original",
                            {"variant": variant, "edits": edits}, factor=2.0)


METAMORPHIC: tuple[Oracle, ...] = (ShardingOracle(), ExportOracle(), JitVmapOracle(), UnrollOracle(), RewriteOracle())
ORACLES.update((o.name, o) for o in METAMORPHIC)
