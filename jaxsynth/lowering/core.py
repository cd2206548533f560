"""Lower a JAX function to IR texts: JAXPR, StableHLO, optimized HLO, HLO.

One entry point, :func:`lower`. Arguments are abstract
(``jax.ShapeDtypeStruct``), so no data is needed. The function is traced once
(``jax.jit(fn).trace``); the trace gives the JAXPR and is lowered once; the
lowering gives StableHLO and pre-optimization HLO and is compiled only if the
optimized HLO is requested. Every text is stripped of location metadata, file
paths and host-dependent hints (see :mod:`jaxsynth.lowering.normalize`), so
it is byte-identical across processes, call sites and source files: names in
the texts come only from ``fn.__name__`` and its parameter names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import jax

from .kinds import DEFAULT_EMIT, IR_KINDS, LOWER_KINDS, TRANSFORM_KINDS, parse_emit  # noqa: F401 (re-exported)
from .normalize import normalize_hlo, normalize_jaxpr, strip_mlir_locations

__all__ = [
    "DEFAULT_EMIT",
    "DIRECT_LOWERING",
    "FAST_COMPILE_OPTIONS",
    "IR_CONTEXT_REUSE",
    "IR_KINDS",
    "LEAN_JAX_CONFIG",
    "TEXT_JAX_CONFIG",
    "LOWER_KINDS",
    "TRANSFORM_KINDS",
    "LoweredTexts",
    "TEXT_COMPILE_OPTIONS",
    "clear_caches",
    "compile_options",
    "compile_text",
    "grad_jaxpr",
    "lower",
    "parse_emit",
    "vmap_jaxpr",
]

#: XLA compile options that make CPU compilation cheaper without changing the
#: optimized HLO text. ``xla_backend_optimization_level=0`` runs LLVM at -O0
#: instead of -O3; it acts after the HLO pass pipeline, on machine-code
#: generation only, and cuts compile time by about a quarter (see
#: bench/bench_compile_flags.py). The generated code is slower: do not run
#: executables compiled this way, lower() only prints and discards them.
#: Measured and rejected: ``xla_cpu_parallel_codegen_split_count=1``,
#: ``xla_llvm_disable_expensive_passes`` and the ``xla_llvm_enable_*_metadata``
#: switches (no gain on top of -O0); ``xla_cpu_use_fusion_emitters=false``
#: (2.5x faster, but different HLO) and
#: ``xla_cpu_opt_preset=CPU_OPT_PRESET_FAST_COMPILE`` (different HLO, no gain).
#: tests/test_lowering.py checks HLO identity against a default compile over
#: the sample set.
FAST_COMPILE_OPTIONS: dict[str, str | bool | int] = {
    "xla_backend_optimization_level": 0,
}

#: XLA compile options passed to every compile, because they change the optimized HLO text and
#: would otherwise come from the process (``XLA_FLAGS``, set or not by whoever started it).
#: ``xla_cpu_multi_thread_eigen``: with Eigen's thread pool XLA:CPU keeps some transposes as a
#: separate fusion that a one-thread compile folds into the ``dot`` (record 279 of seed 9 of the
#: default config). Generation workers set it in ``XLA_FLAGS``
#: (:func:`~jaxsynth.lowering.configure_jax_for_workers`) but an in-process run whose JAX loaded
#: first did not, so ``--workers 1`` and ``--workers 2`` wrote different corpora. Passed here,
#: the text no longer depends on how the process was configured (tests/test_determinism.py).
TEXT_COMPILE_OPTIONS: dict[str, str | bool | int] = {
    "xla_cpu_multi_thread_eigen": False,
}


def compile_options(fast_compile: bool = True) -> dict[str, str | bool | int]:
    """The options every compile of :func:`lower` passes: :data:`TEXT_COMPILE_OPTIONS`, plus
    :data:`FAST_COMPILE_OPTIONS` with ``fast_compile``."""
    return {**TEXT_COMPILE_OPTIONS, **(FAST_COMPILE_OPTIONS if fast_compile else {})}


#: Lowerings served by one shared MLIR context before it is replaced (0 disables sharing).
#: JAX builds a fresh MLIR context for every lowering (``mlir.make_ir_context``: dialect
#: registration and loading, about 4 ms on this hardware, a quarter of trace + lower). The
#: context only owns uniqued types and attributes, never state that reaches the printed IR, so
#: :func:`lower` hands JAX one context for many lowerings; replacing it every
#: ``IR_CONTEXT_REUSE`` lowerings (and on :func:`clear_caches`) bounds what it interns.
#: tests/test_scale.py checks every emitted text against unshared lowering.
IR_CONTEXT_REUSE = 256

_shared_context: dict[str, object] = {"context": None, "uses": 0}

#: Partitioner :func:`lower` lowers and compiles with: ``False`` = GSPMD, ``True`` = Shardy (JAX's
#: default), ``None`` = whatever JAX is configured with. Our programs run on one device and carry
#: no sharding, so the partitioner has nothing to do, but Shardy still runs its MLIR passes at
#: lowering and its import/export pipeline inside XLA at compile time. Without it every emitted
#: text is identical (tests/test_scale.py checks) and a record is cheaper (bench_throughput.py).
USE_SHARDY: bool | None = False

#: Lower each equation straight into its function (``True``) instead of through JAX's per-module
#: lowering cache (``False``, JAX's default). JAX >= 0.7 emits every equation's lowering as a
#: separate MLIR function, keyed by primitive, types and params, and clones that function's body
#: into the caller (``inlined_func_call``) or calls it; the point is to reuse the lowering of
#: repeated identical equations within one module. Our programs rarely repeat an equation, so
#: building and cloning a function per equation is pure overhead: about 45% of lowering time.
#: Only equations whose rules JAX inlines anyway are lowered directly; rules registered with
#: ``inline=False`` keep their out-of-line function and call, so every text is identical
#: (tests/test_scale.py checks every emitted text against JAX's own lowering). A program with a
#: transformation's name scope around a ``jit`` call nested in a higher-order equation keeps JAX's path
#: (:func:`_scoped_call`).
DIRECT_LOWERING = True


#: JAX settings that define the emitted text, applied to every lowering.
#: ``traceback_in_locations_limit=0``: no stack frames in MLIR locations. XLA names some
#: instructions after their locations, and the frames of a jitted JAX helper (``jax.random.split``,
#: the threefry kernel) are those of whichever program traced it first in the process, since JAX
#: caches the traced helper. With frames, the same program printed ``%get-tuple-element.63`` in one
#: worker and ``%f.2`` in another (seed 1000 of the default config: 8 of 600 records differed between
#: ``--workers 1`` and ``--workers 2``); without them the names come from the program alone
#: (tests/test_determinism.py). Our texts print no locations anyway, so nothing else changes.
TEXT_JAX_CONFIG: dict[str, object] = {
    "traceback_in_locations_limit": 0,
}

#: JAX settings :func:`lower` runs under to save work; none changes an emitted text
#: (tests/test_scale.py compares every text against JAX's defaults plus :data:`TEXT_JAX_CONFIG`).
#: ``mutable_array_checks=False``: no check for aliased mutable-array arguments, at every jitted
#: call while tracing; lower() takes abstract ``ShapeDtypeStruct`` arguments only, never refs. An
#: empty dict lowers under JAX's defaults.
LEAN_JAX_CONFIG: dict[str, object] = {
    "mutable_array_checks": False,
}


def _jax_settings() -> contextlib.ExitStack:
    """Enter the settings of :data:`TEXT_JAX_CONFIG` and :data:`LEAN_JAX_CONFIG` (those this JAX
    still has)."""
    stack = contextlib.ExitStack()
    try:
        from jax._src import config as jax_config
    except ImportError:  # pragma: no cover - private module moved: JAX's defaults
        return stack
    for name, value in {**TEXT_JAX_CONFIG, **LEAN_JAX_CONFIG}.items():
        state = getattr(jax_config, name, None)
        if callable(state):
            stack.enter_context(state(value))
    return stack


def _drop_shared_context() -> None:
    _shared_context["context"] = None
    _shared_context["uses"] = 0


@contextlib.contextmanager
def _swapped_mlir_attribute(name: str, replacement: Callable[[Any, Any], Any]) -> Iterator[None]:
    """While active, JAX's private ``mlir.<name>`` is ``replacement(mlir, original)``; left alone
    when that returns ``None`` or the private module or attribute has moved (JAX then lowers as
    it always does)."""
    try:
        from jax._src.interpreters import mlir
    except ImportError:  # pragma: no cover - private module moved
        yield
        return
    original = getattr(mlir, name, None)
    swapped = replacement(mlir, original) if original is not None else None
    if swapped is None:
        yield
        return
    setattr(mlir, name, swapped)
    try:
        yield
    finally:
        setattr(mlir, name, original)


def _sharing_context_factory(mlir: Any, original: Callable[[], object]) -> Callable[[], object] | None:
    """A ``make_ir_context`` that hands out one context for :data:`IR_CONTEXT_REUSE` lowerings."""
    if IR_CONTEXT_REUSE <= 0 or getattr(original, "_jaxsynth_shared", False):
        return None

    def shared() -> object:
        if _shared_context["context"] is None or int(_shared_context["uses"]) >= IR_CONTEXT_REUSE:  # type: ignore[call-overload]
            _shared_context["context"] = original()
            _shared_context["uses"] = 0
        _shared_context["uses"] = int(_shared_context["uses"]) + 1  # type: ignore[call-overload]
        return _shared_context["context"]

    shared._jaxsynth_shared = True  # type: ignore[attr-defined]
    return shared


class _InlinedRules:
    """Set-like stand-in for ``mlir._uncacheable_primitives``: every primitive whose lowering JAX
    would inline counts as uncacheable, so it is lowered in place; the rest behave as before."""

    def __init__(self, mlir: Any, original: set[object]) -> None:
        self.mlir = mlir
        self.original = original

    def __contains__(self, primitive: object) -> bool:
        if primitive in self.original:
            return True
        common = self.mlir._lowerings.get(primitive)
        if common is not None and not common.inline:
            return False
        return all(
            (rule := per_platform.get(primitive)) is None or rule.inline
            for per_platform in self.mlir._platform_specific_lowerings.values()
        )

    def add(self, primitive: object) -> None:  # JAX registers uncacheable rules lazily
        self.original.add(primitive)


def _inlined_rules(mlir: Any, original: object) -> _InlinedRules | None:
    if not DIRECT_LOWERING or not isinstance(original, set):
        return None
    if not hasattr(mlir, "_lowerings") or not hasattr(mlir, "_platform_specific_lowerings"):
        return None  # pragma: no cover - JAX's rule tables moved
    return _InlinedRules(mlir, original)


def _shared_ir_context() -> contextlib.AbstractContextManager[None]:
    """While active, JAX lowerings in this thread reuse one MLIR context (see :data:`IR_CONTEXT_REUSE`)."""
    return _swapped_mlir_attribute("make_ir_context", _sharing_context_factory)


def _direct_lowering() -> contextlib.AbstractContextManager[None]:
    """While active, equations whose lowering JAX inlines are lowered in place (see :data:`DIRECT_LOWERING`)."""
    return _swapped_mlir_attribute("_uncacheable_primitives", _inlined_rules)


def _sub_jaxprs(eqn: Any) -> list[Any]:
    found = []
    for value in eqn.params.values():
        for item in value if isinstance(value, tuple | list) else (value,):
            inner = getattr(item, "jaxpr", item)  # a ClosedJaxpr's, or a Jaxpr
            if hasattr(inner, "eqns"):
                found.append(inner)
    return found


def _calls_jit(jaxpr: Any) -> bool:
    return any(eqn.primitive.name in ("jit", "pjit") or any(map(_calls_jit, _sub_jaxprs(eqn))) for eqn in jaxpr.eqns)


def _scoped_call(jaxpr: Any, scoped: bool = False) -> bool:
    """Whether lowering ``jaxpr`` directly would name a ``jit`` call differently from JAX. JAX lowers a cacheable
    higher-order equation (``custom_jvp_call``, ``scan``) into a cached function from an empty name stack, so a
    ``jit`` call inside it is named from its own scope alone (``jit_relu_``); lowered directly it also carries
    the scope of a transformation around it (``vmap_jit_relu__`` inside a ``jax.vmap``: models seed 7, program
    39). Only call names come from the scope; such programs keep JAX's path, so their texts stay JAX's."""
    from jax._src.interpreters import mlir

    uncacheable = getattr(mlir, "_uncacheable_primitives", set())
    for eqn in jaxpr.eqns:
        inner_scoped = scoped or bool(str(eqn.source_info.name_stack))
        subs = _sub_jaxprs(eqn)
        if not subs:
            continue
        if inner_scoped and eqn.primitive not in uncacheable and any(map(_calls_jit, subs)):
            return True
        # an equation lowered in place (uncacheable) passes its scope on; a cached one starts afresh in JAX, but
        # directly lowered it passes it on too: either way the scope reaches its body here
        if any(_scoped_call(sub, inner_scoped) for sub in subs):
            return True
    return False


def _partitioner() -> contextlib.AbstractContextManager[object]:
    if USE_SHARDY is None:
        return contextlib.nullcontext()
    try:
        from jax._src import config as jax_config

        return jax_config.use_shardy_partitioner(USE_SHARDY)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):  # pragma: no cover - option gone: JAX's default
        return contextlib.nullcontext()


class StageClock:
    """Adds the seconds spent in named stages to ``timings`` (a no-op when ``timings`` is None)."""

    __slots__ = ("timings", "last")

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter() if timings is not None else 0.0

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
            self.last = now


@dataclasses.dataclass(frozen=True)
class LoweredTexts:
    """IR texts of one function; a field is ``None`` when that kind was not emitted.

    With ``lower(..., grad=True)`` every text is of ``jax.grad(fn)`` (``grad`` is then true).
    """

    jaxpr: str | None = None
    stablehlo: str | None = None
    optimized_hlo: str | None = None
    hlo: str | None = None
    grad_jaxpr: str | None = None  #: see :func:`grad_jaxpr`
    vmap_jaxpr: str | None = None  #: see :func:`vmap_jaxpr`
    grad: bool = False  #: whether the texts are of ``jax.grad(fn)``

    def present(self) -> dict[str, str]:
        """The emitted texts, keyed by kind, in :data:`LOWER_KINDS` order."""
        return {k: v for k in LOWER_KINDS if (v := getattr(self, k)) is not None}


def clear_caches() -> None:
    """Drop JAX's tracing, lowering and compilation caches (wraps ``jax.clear_caches``).

    JAX caches per function and per lowered module. Entries keyed by objects
    that die are released, but a long run lowering millions of distinct
    functions should still call this every few hundred functions to bound
    memory. It never changes any emitted text. Also replaces the MLIR context
    that :func:`lower` shares between lowerings and drops JAX's per-function
    record of traced argument types (``pjit._seen_qdds``), which
    ``jax.clear_caches`` leaves growing.
    """
    jax.clear_caches()
    _drop_shared_context()
    try:  # per-function tracing-case records that jax.clear_caches() keeps: +1 MB per 1000 records
        from jax._src import pjit as _pjit

        seen = getattr(_pjit, "_seen_qdds", None)
        if seen is not None:
            seen.clear()
    except ImportError:  # pragma: no cover - private module moved
        pass


def _as_struct(leaf: Any, where: str) -> jax.ShapeDtypeStruct:
    """A ``ShapeDtypeStruct``, or anything with a ``shape`` and a ``dtype`` that knows its numpy dtype
    (the grammar's ``TensorType``), as a ``ShapeDtypeStruct``."""
    if isinstance(leaf, jax.ShapeDtypeStruct):
        return leaf
    np_dtype = getattr(getattr(leaf, "dtype", None), "np_dtype", None)
    shape = getattr(leaf, "shape", None)
    if np_dtype is None or not isinstance(shape, tuple):
        raise TypeError(
            f"{where} must be a jax.ShapeDtypeStruct or a TensorType (or a pytree of them), got {type(leaf).__name__}"
        )
    return jax.ShapeDtypeStruct(shape, np_dtype)


def _check_arg_types(arg_types: Sequence[Any]) -> tuple[Any, ...]:
    """Arguments as a tuple of pytrees of ``ShapeDtypeStruct`` (``TensorType`` leaves converted)."""
    out = []
    for i, arg in enumerate(arg_types):
        leaves, tree = jax.tree_util.tree_flatten(arg, is_leaf=lambda x: hasattr(x, "shape"))
        structs = []
        for j, leaf in enumerate(leaves):
            where = f"arg_types[{i}]" if tree.num_leaves == 1 and not tree.children() else f"arg_types[{i}] leaf {j}"
            struct = _as_struct(leaf, where)
            extended = jax.dtypes.issubdtype(struct.dtype, jax.dtypes.extended)  # a typed PRNG key (key<fry>)
            if not extended and jax.dtypes.canonicalize_dtype(struct.dtype) != struct.dtype:
                raise ValueError(
                    f"{where} has 64-bit dtype {struct.dtype.name}; enable jax_enable_x64 to lower it "
                    "(otherwise JAX silently narrows it to 32 bits)"
                )
            structs.append(struct)
        out.append(jax.tree_util.tree_unflatten(tree, structs))
    return tuple(out)


def _is_float_tree(arg: Any) -> bool:
    leaves = jax.tree_util.tree_leaves(arg)
    return bool(leaves) and all(jax.numpy.issubdtype(leaf.dtype, jax.numpy.floating) for leaf in leaves)


def grad_jaxpr(fn: Callable, arg_types: Sequence[Any]) -> str | None:
    """JAXPR of ``jax.grad`` of ``fn``'s scalarized output w.r.t. its floating-point arguments.

    The scalarized output is the sum of the elements of every floating-point output leaf, each cast
    to float32; the gradient is taken w.r.t. every argument whose leaves are all floating point.
    ``None`` when there is no such argument or no floating-point output. Arguments are pytrees of
    ``ShapeDtypeStruct``; the text is normalized with :func:`~jaxsynth.lowering.normalize.normalize_jaxpr`.
    """
    args = _check_arg_types(arg_types)
    wrt = tuple(i for i, a in enumerate(args) if _is_float_tree(a))
    out_leaves = jax.tree_util.tree_leaves(jax.eval_shape(fn, *args))
    outs = [i for i, t in enumerate(out_leaves) if jax.numpy.issubdtype(t.dtype, jax.numpy.floating)]
    if not wrt or not outs:
        return None

    def scalarized(*a: Any) -> jax.Array:
        results = jax.tree_util.tree_leaves(fn(*a))
        parts = [jax.numpy.sum(results[i].astype(jax.numpy.float32)) for i in outs]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    return normalize_jaxpr(str(jax.make_jaxpr(jax.grad(scalarized, argnums=wrt))(*args)))


def vmap_jaxpr(fn: Callable, arg_types: Sequence[Any], batch: int = 4) -> str:
    """JAXPR of ``jax.vmap(fn)`` over a new leading axis of size ``batch`` on every argument leaf (a function
    without arguments, such as one whose inputs are all literals, is mapped over ``batch`` too)."""
    args = _check_arg_types(arg_types)
    batched = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct((batch, *a.shape), a.dtype), args)
    return normalize_jaxpr(str(jax.make_jaxpr(jax.vmap(fn, axis_size=batch))(*batched)))


def compile_text(lowered: jax.stages.Lowered, fast_compile: bool = True) -> str:
    """Compile a ``Lowered`` and return its normalized optimized HLO text.

    Passes :func:`compile_options` (with ``fast_compile`` the :data:`FAST_COMPILE_OPTIONS`; the
    text is the same either way). Options are always passed as a dict, so the result is never
    served from the ``Lowered`` object's own executable cache.
    """
    text = lowered.compile(compile_options(fast_compile)).as_text()
    if text is None:  # pragma: no cover - backends without a text view
        raise RuntimeError("this XLA backend cannot print compiled HLO")
    return normalize_hlo(text)


def lower(
    fn: Callable,
    arg_types: Sequence[Any],
    emit: str | Iterable[str] = DEFAULT_EMIT,
    grad: bool = False,
    fast_compile: bool = True,
    timings: dict[str, float] | None = None,
    vmap_batch: int = 4,
) -> LoweredTexts:
    """Lower ``fn`` at ``arg_types`` and return the requested IR texts.

    Args:
      fn: a function of ``len(arg_types)`` positional arguments.
      arg_types: abstract argument types: each a ``jax.ShapeDtypeStruct``, a
        grammar ``TensorType`` (``program.input_types``), or a pytree (dict,
        list, tuple) of them (see ``parse_type`` / ``parse_arg``).
      emit: kinds to produce, a subset of :data:`LOWER_KINDS` (a comma
        separated string or an iterable). Work is done only for what is asked:
        no lowering for JAXPRs alone, no compilation without ``optimized_hlo``.
      grad: if true, every text is of ``jax.grad(fn)`` (w.r.t. the first
        argument; ``fn`` must return a float scalar).
      fast_compile: compile with :data:`FAST_COMPILE_OPTIONS` (cheaper LLVM
        code generation, identical optimized HLO).
      timings: if given, seconds spent per stage are added to it under the
        keys ``trace``, ``jaxpr``, ``lower``, ``stablehlo``, ``hlo``,
        ``compile`` and ``optimized_hlo`` (text extraction and normalization).
      vmap_batch: the batch size of ``vmap_jaxpr``.

    Texts: ``jaxpr`` is ``str(jax.make_jaxpr(fn)(*arg_types))`` (with ``grad``,
    of ``jax.grad(fn)`` with numpy scalar reprs normalized); ``stablehlo`` is the lowered module without debug info;
    ``hlo`` is the pre-optimization HLO and ``optimized_hlo`` the HLO after
    XLA's pass pipeline, both passed through
    :func:`~jaxsynth.lowering.normalize.normalize_hlo`; ``grad_jaxpr`` and
    ``vmap_jaxpr`` are :func:`grad_jaxpr` and :func:`vmap_jaxpr`.
    """
    kinds = parse_emit(emit, LOWER_KINDS)
    args = _check_arg_types(arg_types)
    target = jax.grad(fn) if grad else fn
    with _partitioner(), _jax_settings():
        texts = _lower(target, args, kinds, fast_compile, StageClock(timings))
    if grad and texts.jaxpr is not None:  # a gradient's JAXPR carries numpy reprs in its parameters
        texts = dataclasses.replace(texts, jaxpr=normalize_jaxpr(texts.jaxpr))
    extra = {}
    if "grad_jaxpr" in kinds:
        extra["grad_jaxpr"] = grad_jaxpr(target, args)
    if "vmap_jaxpr" in kinds:
        extra["vmap_jaxpr"] = vmap_jaxpr(target, args, vmap_batch)
    return dataclasses.replace(texts, grad=grad, **extra)


def _lower(
    fn: Callable, args: tuple[Any, ...], kinds: tuple[str, ...], fast_compile: bool, clock: StageClock,
) -> LoweredTexts:
    needs_lowering = any(k in kinds for k in ("stablehlo", "hlo", "optimized_hlo"))
    if not needs_lowering and "jaxpr" not in kinds:
        return LoweredTexts()
    traced = jax.jit(fn).trace(*args)
    clock.lap("trace")

    jaxpr = None
    if "jaxpr" in kinds:
        jaxpr = str(traced.jaxpr)
        clock.lap("jaxpr")

    stablehlo = hlo = optimized = None
    if needs_lowering:
        direct = _direct_lowering() if not _scoped_call(traced.jaxpr.jaxpr) else contextlib.nullcontext()
        with _shared_ir_context(), direct:
            lowered = traced.lower()
        clock.lap("lower")
        if "stablehlo" in kinds:
            stablehlo = strip_mlir_locations(lowered.as_text(debug_info=False))
            clock.lap("stablehlo")
        if "hlo" in kinds:
            hlo = normalize_hlo(lowered.as_text(dialect="hlo", debug_info=False))
            clock.lap("hlo")
        if "optimized_hlo" in kinds:
            compiled = lowered.compile(compile_options(fast_compile))
            clock.lap("compile")
            text = compiled.as_text()
            if text is None:  # pragma: no cover - backends without a text view
                raise RuntimeError("this XLA backend cannot print compiled HLO")
            optimized = normalize_hlo(text)
            clock.lap("optimized_hlo")
    return LoweredTexts(jaxpr=jaxpr, stablehlo=stablehlo, optimized_hlo=optimized, hlo=hlo)
