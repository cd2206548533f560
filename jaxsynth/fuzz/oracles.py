"""Oracles: named, selectable checks of one program on one set of inputs.

Each oracle has ``applies(program)`` and ``check(case) -> Verdict``. ``check`` runs inside a worker
process (it compiles and runs the program with JAX); everything JAX-related is imported lazily, so
this module can be imported by the campaign without loading JAX.

==========  ==========================================================================================
reference   jitted XLA vs the numpy float64 reference interpreter of the typed IR
eager       ``jax.jit`` vs op-by-op eager execution (``jax.disable_jit``)
passes      XLA with default passes vs with a set of HLO optimization passes disabled
grad        ``jax.grad`` vs finite differences of the float64 reference (float32 programs; float64 under x64)
vmap        ``jax.vmap(f)`` over a batch vs ``f`` applied to each example
lowprec     float16/bfloat16/int8/uint8 programs vs the reference rounded to each node's dtype
==========  ==========================================================================================

The reference-free oracles ``sharding``, ``export``, ``jitvmap``, ``unroll`` and ``rewrite`` are in
:mod:`jaxsynth.fuzz.metamorphic`; an oracle that cannot judge a program returns a skipped verdict of
kind ``unsupported`` (counted, never a finding).

Tolerances and the discontinuity rules are in :mod:`jaxsynth.fuzz.tolerance`. A mismatch that the
discontinuity rules explain is a *skipped* verdict (``skipped_discontinuous`` in the summary), not a
finding. An exception raised by JAX on a well-typed, in-domain program is a finding of kind ``error``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jaxsynth.fuzz import reference, tolerance
from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.types import DType
from jaxsynth.synth import depth as program_depth
from jaxsynth.synth import random_inputs, render
from jaxsynth.synth.program import Node, Program

__all__ = [
    "DEFAULT_PASSES",
    "KNOWN_LIMITATIONS",
    "ORACLES",
    "OWN_STEP",
    "Case",
    "InternalError",
    "Limitation",
    "Oracle",
    "Verdict",
    "parse_oracles",
    "run_oracles",
]

#: HLO optimization passes the ``passes`` oracle disables (XLA:CPU pass names). Each is a pure
#: optimization: disabling it must never change a result beyond rounding. Triage bisects this list.
DEFAULT_PASSES: tuple[str, ...] = (
    "algsimp",
    "fusion",
    "cse",
    "simplify-fp-conversions",
    "transpose-folding",
    "while-loop-simplifier",
    "while-loop-invariant-code-motion",
    "conditional-simplifier",
    "reshape-mover",
    "constant_folding",
    "batch-dot-simplification",
    "tuple-simplifier",
    "zero_sized_hlo_elimination",
    "small-while-loop-hoisting",
)

LOW_PRECISION = frozenset({DType.float16, DType.bfloat16, DType.int8, DType.uint8})

#: Oracles of one case share what they can: batches with their per-example outputs and reference
#: analyses (vmap, jitvmap, shard_map) and compiled variants (vmap's executable is jitvmap's jit(vmap(f))).
#: False recomputes everything per oracle (``bench/bench_fuzz.py --before``); results are the same.
SHARE = True

#: The step a case reports while jaxsynth's own numpy reference runs (``Case.own_step``): a crash or a hang
#: there is the harness's (a reference too slow for a program of 10^6 elements, say), never XLA's. Models seed
#: 63 program 171: a ``lax.scan`` of 96 steps over f32[96, 96, 40] took longer than the timeout in the
#: reference's scalar ``gammaln``, and was reported as a hang of the ``sharding`` oracle's run.
OWN_STEP = "reference analysis"


#: The share of a program's timeout its reference work may take (:func:`reference_budget`).
REFERENCE_SHARE = 0.5


class InternalError(Exception):
    """A failure of jaxsynth itself (reference interpreter, rendering): never a finding."""


def reference_budget(timeout: float) -> float:
    """The reference work (:func:`jaxsynth.fuzz.reference.work`) a program may take when all its oracles have
    ``timeout`` seconds: ``REFERENCE_SHARE`` of it at the reference's nominal speed. A program past it is
    not judged against the reference by the oracles that would need more (``unsupported``), instead of losing
    every verdict to the timeout; a count, not a clock, so the verdicts do not depend on the machine."""
    return REFERENCE_SHARE * timeout * reference.WORK_PER_SECOND


@dataclass
class Verdict:
    ok: bool
    error: float = 0.0
    tolerance: float = 0.0
    detail: str = ""
    skipped: bool = False  #: the check could not decide (e.g. a discontinuity within rounding error)
    kind: str = "wrong"  #: "wrong" (a value differs) or "error" (JAX raised)
    ratio: float = 0.0  #: error / tolerance at the worst element (how close a pass came to failing)
    output: int | None = None  #: failing output position
    index: tuple[int, ...] = ()  #: worst element of that output
    data: dict[str, Any] = field(default_factory=dict)  #: what a repro needs (only on failure)

    @property
    def failed(self) -> bool:
        return not self.ok and not self.skipped


OK = Verdict(True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:500]


def _as_tuple(result: Any, n: int) -> tuple[Any, ...]:
    if n == 1 and not isinstance(result, tuple | list):
        return (result,)
    return tuple(result)


def _np(x: Any) -> np.ndarray:
    return np.asarray(x)


def build_function(source: str, name: str, namespace: dict[str, Any] | None = None) -> Callable:
    """The function ``name`` that ``source`` defines, executed in ``namespace`` (names it may use) or a fresh one."""
    namespace = {**(namespace or {}), "__name__": "jaxsynth_fuzz_program"}
    exec(compile(source, "<jaxsynth-fuzz>", "exec"), namespace)  # noqa: S102 - source we rendered
    return namespace[name]


class Case:
    """One program and its inputs inside a worker: compiled once, reference analysed once.

    ``disabled`` passes are disabled in every compile of the case (triage); ``passes_off`` is the set
    the ``passes`` oracle disables (default: a random half of :data:`DEFAULT_PASSES`, drawn from the
    case's seed, so campaigns explore pass combinations). ``stage(step)`` reports progress to the
    parent, so a crash or a hang can be attributed to the oracle and step that was running."""

    def __init__(
        self,
        program: Program,
        inputs: Sequence[np.ndarray],
        *,
        seed: int = 0,
        disabled: Sequence[str] = (),
        passes_off: Sequence[str] | None = None,
        stage: Callable[[str, str, dict[str, Any] | None], None] | None = None,
        special: bool = False,
        reference_budget: float | None = None,
        x64: bool = False,
    ) -> None:
        self.program = program
        self.x64 = x64  #: sampled under ``types.x64`` (the worker runs the case with ``jax_enable_x64``)
        #: the reference work left to this case's analyses (None: unlimited); see :func:`reference_budget`
        self.budget = None if reference_budget is None else reference.Budget(reference_budget)
        self.special = special  #: inputs hold special values (jaxsynth.fuzz.special): IEEE-class comparisons
        self.flushed: tuple[np.ndarray, ...] = ()  #: special mode: the reference with subnormals flushed
        self.inputs = [np.asarray(x) for x in inputs]
        self.seed = seed
        self.disabled = tuple(disabled)
        self.passes_off = None if passes_off is None else tuple(passes_off)
        self._stage = stage or (lambda oracle, step, plan: None)
        self.oracle = ""
        self.step = ""  #: the step in progress (``stage``)
        self.plan: dict[str, Any] = {}  #: what the running oracle generated (for a crash's repro)
        self.n_outputs = len(program.body.outputs)
        self._batches: dict[int, Batch] = {}
        self._shared: dict[Any, Any] = {}
        self.shared_seconds = 0.0  #: time in the program's own jit and reference, which every oracle compares to
        self.seconds: dict[str, float] = {}  #: per oracle run (run_oracles), its own time: shared work left out
        self._in_shared = False
        try:
            self.source = render(program)
            self.depth = program_depth(program)
        except Exception as exc:  # pragma: no cover - a renderer bug
            raise InternalError(f"render: {_first_line(exc)}") from exc

    def stage(self, step: str, plan: dict[str, Any] | None = None) -> None:
        if plan:
            self.plan.update(plan)
        self.step = step
        self._stage(self.oracle, step, plan)

    @contextlib.contextmanager
    def shared_work(self) -> Iterator[None]:
        """Count the time inside as :attr:`shared_seconds` (the program's jit, its run and its reference,
        which the oracles share), not the running oracle's; nested shared work is counted once."""
        if self._in_shared:
            yield
            return
        self._in_shared = True
        start = time.monotonic()
        try:
            yield
        finally:
            self._in_shared = False
            self.shared_seconds += time.monotonic() - start

    @contextlib.contextmanager
    def own_step(self, what: str) -> Iterator[None]:
        """Report jaxsynth's own reference work as the step in progress (:data:`OWN_STEP`), then the step
        that was in progress before: a crash or hang in it is an internal error, never a finding, and so is
        an exception it raises (an :class:`InternalError` saying ``what`` failed). A program past its reference
        budget raises :class:`~jaxsynth.fuzz.reference.OverBudget` as it is (``unsupported``)."""
        before = self.step
        self.stage(OWN_STEP)
        try:
            yield
        except (reference.OverBudget, InternalError):
            raise
        except Exception as exc:
            raise InternalError(f"{what}: {_first_line(exc)}") from exc
        finally:
            self.stage(before)

    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, 0x0F022, salt])

    def options(self, extra: Sequence[str] = ()) -> dict[str, Any]:
        names = list(dict.fromkeys(self.disabled + tuple(extra)))
        return {"xla_disable_hlo_passes": ",".join(names)} if names else {}

    @property
    def pass_options(self) -> bool:
        from jaxsynth import compat

        return compat.per_compile_pass_options()

    @functools.cached_property
    def fn(self) -> Callable:
        """The program as a function of the flat inputs returning the flat outputs (pytrees packed and
        unpacked around the rendered function)."""
        return self.program.flat_function(build_function(self.source, self.program.name))

    @functools.cached_property
    def device_inputs(self) -> list[Any]:
        import jax

        return [jax.device_put(x) for x in self.inputs]

    def lower(self, fn: Callable, args: Sequence[Any]) -> Any:
        """``jax.jit(fn)`` lowered at ``args``; the program at its own inputs is lowered once per case
        (reference and passes compile that one module with different options)."""
        import jax

        def lower() -> Any:
            self.stage("lower")
            return jax.jit(fn).lower(*args)

        return self.shared("program lowered", lower) if fn is self.fn and args is self.device_inputs else lower()

    def compile(self, fn: Callable, args: Sequence[Any], extra: Sequence[str] = ()) -> Callable:
        """``fn`` jitted, lowered at ``args`` and compiled with the case's XLA options plus ``extra``
        disabled passes. Options go as a dict, possibly empty: JAX never hands out a cached executable
        for a compile with options, so two compiles with different options never share one."""
        return self.compile_lowered(self.lower(fn, args), extra)

    def compile_lowered(self, lowered: Any, extra: Sequence[str] = ()) -> Callable:
        self.stage("compile")
        return lowered.compile(dict(self.options(extra)))

    @functools.cached_property
    def compiled(self) -> Callable:
        with self.shared_work():
            return self.compile(self.fn, self.device_inputs)

    def call(self, executable: Callable, args: Sequence[Any]) -> tuple[np.ndarray, ...]:
        self.stage("run")
        return tuple(_np(o) for o in _as_tuple(executable(*args), self.n_outputs))

    @functools.cached_property
    def jit_out(self) -> tuple[np.ndarray, ...]:
        with self.shared_work():
            return self.call(self.compiled, self.device_inputs)

    def batch(self, size: int) -> Batch:
        """The shared batch of ``size`` examples (see :class:`Batch`)."""
        if size not in self._batches or not SHARE:
            self._batches[size] = Batch(self, size)
        return self._batches[size]

    def shared(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per case and ``key`` (a compiled variant and its outputs, say) when sharing is on."""
        if key not in self._shared or not SHARE:
            self._shared[key] = make()
        return self._shared[key]

    def analyse(self, inputs: Sequence[np.ndarray] | None = None, program: Program | None = None, **kwargs: Any
                ) -> tolerance.Analysis:
        with self.own_step("reference"):
            return tolerance.analyse(self.program if program is None else program,
                                     self.inputs if inputs is None else inputs, budget=self.budget, **kwargs)

    def analyse_special(self, inputs: Sequence[np.ndarray]) -> tuple[tolerance.Analysis, tuple[np.ndarray, ...]]:
        """Special mode: the reference at ``inputs`` op by op in each node's dtype, with the float64 reference's
        rounding spread, and the reference with subnormals flushed (:func:`jaxsynth.fuzz.special.analyse`)."""
        from jaxsynth.fuzz import special

        with self.own_step("special-values reference"):
            return special.analyse(self.program, inputs, self.budget)

    @functools.cached_property
    def analysis(self) -> tolerance.Analysis:
        with self.shared_work():
            if not self.special:
                return self.analyse()
            analysis, self.flushed = self.analyse_special(self.inputs)
            return analysis

    @functools.cached_property
    def excess_twin(self) -> Program | None:
        """The program without its float casts to a narrower type and back (:func:`excess_precision_twin`)."""
        return excess_precision_twin(self.program)

    @functools.cached_property
    def own_alternatives(self) -> list[tolerance.Analysis]:
        """:meth:`alternatives` at the case's own inputs; only a failed comparison needs them."""
        return self.alternatives(self.inputs)

    def alternatives(self, inputs: Sequence[np.ndarray], salt: int = 0) -> list[tolerance.Analysis]:
        """Reference analyses, at ``inputs``, of what XLA's licensed excess precision may compute instead of
        the reference (:func:`_excess_precision`): the program without its narrow-and-back casts
        (:attr:`excess_twin`), and, when it has bfloat16 or float16 values, the reference with every result
        rounded to its dtype, as op-by-op execution rounds it where jit may keep a narrow result in float32."""
        found = []
        if self.excess_twin is not None:
            found.append(self.analyse(inputs, program=self.excess_twin, salt=salt))
        if any(t.dtype.is_float and t.dtype.eps > DType.float32.eps for n in self.program.walk() for t in n.types):
            found.append(self.analyse(inputs, round_to_dtype=True, salt=salt))
        return found

    @functools.cached_property
    def regroupable(self) -> tuple[np.ndarray, ...]:
        """Special mode: per output, the elements XLA may regroup (``special.regroupable``); only a failed
        comparison needs them."""
        return self.regroupable_at(self.inputs)

    def regroupable_at(self, inputs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
        """:attr:`regroupable` at other ``inputs`` (a batch's example)."""
        from jaxsynth.fuzz import special

        with self.own_step("special-values reference"):
            return special.regroupable(self.program, inputs)

    def versus_reference(self, got: Sequence[np.ndarray], what: str = "", data: dict[str, Any] | None = None
                         ) -> Verdict:
        """``got`` against the reference's outputs, within the program's own tolerances."""
        analysis = self.analysis
        return _compare_all(self, got, analysis.outputs, self.tolerances(analysis), [analysis], what, data or {})

    def tolerances(self, analysis: tolerance.Analysis, factor: float = 1.0, safety: float = tolerance.SAFETY,
                   flushed: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        """Per output, the allowed error around ``analysis``'s outputs; in special mode, ``flushed`` is the
        reference with subnormals flushed at the same inputs (the case's own, where ``analysis`` is its own)."""
        if self.special:
            from jaxsynth.fuzz.special import tolerance_for

            # where the IEEE reference is NaN or Inf but the flushed one is finite (sqrt of a negative subnormal
            # is NaN, of the flushed -0.0 it is -0.0), a finite result is judged against the flushed value, and
            # needs its tolerance: 0 made expm1(cos(0)) one ulp off a finding (fuzz-special seed 91, program 2672)
            if flushed is None:
                flushed = self.flushed if analysis is self.analysis else analysis.outputs
            return [factor * tolerance_for(t.dtype, self.depth, np.where(np.isfinite(e), e, f), s, safety)
                    for t, e, f, s in zip(self.program.output_types, analysis.outputs, flushed, analysis.spread,
                                          strict=True)]
        return [
            tolerance.tolerance(t, self.depth, e, s * factor, safety)
            for t, e, s in zip(self.program.output_types, analysis.outputs, analysis.spread, strict=True)
        ]


def _compare_all(
    case: Case,
    got: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    tols: Sequence[np.ndarray],
    analyses: Sequence[tolerance.Analysis],
    what: str,
    data: dict[str, Any],
    batch: Batch | None = None,
) -> Verdict:
    """Compare every output (of each example of ``batch``, when it is a batch's); a failure fed by a
    discontinuity within rounding error is skipped."""
    worst: tuple[int, tolerance.Comparison] | None = None
    failing = []
    closest = 0.0
    if case.special:
        from jaxsynth.fuzz.special import class_mismatch, compare_special

        # against the reference: IEEE or flushed subnormals. Between two XLA runs: each other, unless both
        # match one of those (fused code flushes a subnormal input that a lone op keeps: log of -1e-45 is
        # -inf in one and NaN in the other, each documented behaviour; fuzz-special seed 91, program 4783);
        # a batch's two runs, each other unless both match one of the references of their own example
        versus_reference = expected is case.analysis.outputs
        references = (case.analysis.outputs, case.flushed) if batch is None else batch.references(case)
    regrouped = []  # special mode: failing outputs that pass without the elements XLA may regroup
    exempts: dict[int, np.ndarray] = {}  # special mode: per failing output, the elements XLA may regroup
    classes_differ = False  # special mode: a failing output has a NaN or an Inf where no expected value has one
    for k, (g, e, t) in enumerate(zip(got, expected, tols, strict=True)):
        if not case.special:
            c = tolerance.compare(g, e, t)
        else:
            refs = [e, case.flushed[k]] if versus_reference else [e]
            accepted = () if versus_reference else [r[k] for r in references]
            c = compare_special(g, refs, t, accepted)
            if not c.ok:
                exempts[k] = (case.regroupable if batch is None else batch.regroupable(case))[k]
                judged = compare_special(g, refs, t, accepted, exempt=exempts[k])
                if judged.ok:
                    regrouped.append(k)
                else:
                    c = judged  # the worst element the oracle does not exempt: the one a finding names
            classes_differ = classes_differ or (not c.ok and class_mismatch(g, refs))
        closest = max(closest, c.ratio)
        if not c.ok:
            failing.append(k)
            # a finding names an output the oracle judged wrong, one not explained by regrouping alone
            rank = (k not in regrouped, c.ratio)
            if worst is None or rank > (worst[0] not in regrouped, worst[1].ratio):
                worst = (k, c)
    if worst is None:
        return Verdict(True, ratio=closest)
    k, c = worst
    if failing == regrouped:
        return Verdict(False, c.error, c.tolerance, "discontinuity: an intermediate of a product chain over- or "
                       "underflowed, and XLA may regroup the chain (licensed reassociation)", skipped=True, output=k,
                       index=c.index, ratio=c.ratio)
    # special mode skips only a mismatch of finite values at a comparison near its threshold
    for analysis in () if classes_differ else analyses:
        culprits = analysis.discontinuous(case.program, failing)
        if culprits:
            ops = sorted({case.program.node(n).op for n in culprits})
            return Verdict(False, c.error, c.tolerance, f"discontinuity within rounding error at {', '.join(ops)}",
                           skipped=True, output=k, index=c.index, ratio=c.ratio)
    if _excess_precision(case, got, expected, batch):
        return Verdict(True, detail="excess precision: XLA may skip rounding a value to a narrower float type "
                       "(XLA's default xla_allow_excess_precision)", ratio=c.ratio)
    detail = (f"{what}: output {k} at {list(c.index)}: got {c.got!r}, expected {c.expected!r} "
              f"(error {c.error:.3g} > tolerance {c.tolerance:.3g})")
    if case.special:  # repro.py judges as the oracle did: the outputs it found wrong, with what it accepted
        failing = [j for j in failing if j not in regrouped]
    data = dict(data, tolerance=[np.asarray(t) for t in tols], failing=failing,
                mismatch=tolerance.mismatch_class(c.got, c.expected))
    if case.special and not versus_reference:
        data["references"] = [[r[j] for r in references] for j in range(len(got))]
    if case.special and any(exempts[j].any() for j in failing):
        data["regroupable"] = [exempts.get(j, np.zeros(np.shape(g), bool)) for j, g in enumerate(got)]
    return Verdict(False, c.error, c.tolerance, detail, output=k, index=c.index, ratio=c.ratio, data=data)


def excess_precision_twin(program: Program) -> Program | None:
    """``program`` with each float ``astype`` of a value just cast from its own dtype to a narrower float
    reading that value itself (``x.astype(float16).astype(float32)`` is ``x``), or None if it has no such pair.

    XLA may drop such a rounding: its default ``xla_allow_excess_precision`` lets ``simplify-fp-conversions``
    remove the pair (XLA:CPU in jaxlib 0.4.26 does; structured seed 8, program 110). The pass runs on every
    computation of the module, so pairs inside control-flow bodies and branches are bypassed too."""
    from jaxsynth.fuzz.reduce import Invalid, rewrite

    replace = {}
    for node in program.walk():
        if node.op != "astype" or not node.args or not node.type.dtype.is_float:
            continue
        inner = program.node(node.args[0])
        if inner.op != "astype" or not inner.args or not inner.type.dtype.is_float:
            continue
        source, dtype = program.node(inner.args[0]), node.type.dtype
        if len(source.types) == 1 and source.type.dtype is dtype and inner.type.dtype.eps > dtype.eps:
            replace[node.id] = Node(node.id, "astype", (source.id,), node.types, node.intervals, node.params)
    if not replace:
        return None
    try:
        return rewrite(program, replace=replace)
    except Invalid:
        return None


def _excess_precision(case: Case, got: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                      batch: Batch | None = None) -> bool:
    """Whether a failed comparison is XLA's licensed excess precision: in every example (the case's own
    outputs, or each of a ``batch``'s), each side is within tolerance of the reference or of an alternative
    (:meth:`Case.alternatives`), and in some example one side only of an alternative. Op-by-op execution
    rounds a bfloat16 result that jit may compute in float32 and keep (models seed 104, program 9: a bfloat16
    subtraction cast to float32, then ``standardize`` and two contractions; jit fits the float64 reference,
    which does not round it either, and eager the rounded one)."""
    if case.special:
        return False
    shapes = [tuple(t.shape) for t in case.program.output_types]
    size = () if batch is None else (batch.size,)
    if [np.shape(v) for v in (*got, *expected)] != [(*size, *shape) for shape in shapes] * 2:
        return False  # not the case's own outputs (or its batch's): the alternatives are for those
    if not case.own_alternatives:
        return False
    if batch is None:
        examples = [(got, expected, case.analysis, case.own_alternatives)]
    else:
        examples = [([g[b] for g in got], [e[b] for e in expected], analysis,
                     case.alternatives(batch.examples[b], salt=b) if b else case.own_alternatives)
                    for b, analysis in enumerate(batch.analyses(case))]

    def fits(outputs: Sequence[np.ndarray], wanted: Sequence[np.ndarray], tols: Sequence[np.ndarray]) -> bool:
        return all(tolerance.compare(o, w, t).ok for o, w, t in zip(outputs, wanted, tols, strict=True))

    explained = False
    for sides_got, sides_expected, analysis, alternatives in examples:
        references = [(a.outputs, case.tolerances(a, factor=2.0)) for a in (analysis, *alternatives)]
        sides = [[fits(side, *reference) for reference in references] for side in (sides_got, sides_expected)]
        if not all(any(fit) for fit in sides):
            return False
        explained = explained or any(not fit[0] and any(fit[1:]) for fit in sides)
    return explained


# ---------------------------------------------------------------- oracles


class Oracle:
    name = ""
    description = ""

    def applies(self, program: Program) -> bool:
        return True

    def skip_reason(self, program: Program) -> str | None:
        """Why this oracle must skip a program it otherwise applies to (a construct it cannot check);
        the skip is a counted verdict (``skipped_unsupported``), never silent."""
        return None

    def check(self, case: Case) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<oracle {self.name}>"


class ReferenceOracle(Oracle):
    name = "reference"
    description = "jitted XLA vs the numpy float64 reference interpreter"

    def check(self, case: Case) -> Verdict:
        got = case.jit_out  # first, as before: the reference's own step is reported inside the "run" step
        data: dict[str, Any] = {"expected": list(case.analysis.outputs)}
        if case.special:  # either reference is right, element by element: repro.py accepts the flushed one too
            data["flushed"] = list(case.flushed)
        return case.versus_reference(got, "jit vs reference", data)


class EagerOracle(Oracle):
    name = "eager"
    description = "jax.jit vs op-by-op eager execution (jax.disable_jit)"

    def check(self, case: Case) -> Verdict:
        import jax

        got = case.jit_out
        case.stage("eager")
        with jax.disable_jit():
            eager = tuple(_np(o) for o in _as_tuple(case.fn(*case.device_inputs), case.n_outputs))
        analysis = case.analysis
        return _compare_all(case, got, eager, case.tolerances(analysis, factor=2.0), [analysis], "jit vs eager", {})


class PassesOracle(Oracle):
    name = "passes"
    description = "XLA with default passes vs with HLO optimization passes disabled"

    def check(self, case: Case) -> Verdict:
        passes = case.passes_off
        if passes is None and not case.pass_options:
            passes = DEFAULT_PASSES  # one helper process, one XLA_FLAGS setting
        if passes is None:
            rng = case.rng(3)
            passes = tuple(p for p in DEFAULT_PASSES if rng.random() < 0.5) or (DEFAULT_PASSES[0],)
        got = case.jit_out
        case.stage("plan", {"passes_off": list(passes)})
        if case.pass_options:
            executable = case.compile(case.fn, case.device_inputs, extra=passes)
            other = case.call(executable, case.device_inputs)
        else:
            case.stage("helper")
            other = _helper_outputs(case, tuple(passes))
        analysis = case.analysis
        return _compare_all(case, got, other, case.tolerances(analysis, factor=2.0), [analysis],
                            f"default passes vs {','.join(passes)} disabled", {"passes_off": list(passes)})


class LowPrecisionOracle(Oracle):
    name = "lowprec"
    description = "float16/bfloat16/int8/uint8 programs vs the reference rounded to each node's dtype"

    #: The expected values are the reference with every result rounded to its node's dtype (storage
    #: semantics of float16/bfloat16, exact int8/uint8). The tolerance is the reference oracle's: the
    #: spread of the float64 reference under continuous simulated rounding. (A spread measured on the
    #: rounded reference itself is quantized: a perturbation smaller than half an ulp rounds away, so
    #: some elements get a zero spread by chance and XLA's legitimate excess precision -- one rounding
    #: more or less per op -- looked like a bug. Campaign programs 3217 and 3388 of seed 0 showed it.)

    def applies(self, program: Program) -> bool:
        return any(t.dtype in LOW_PRECISION for n in program.walk() for t in n.types)

    def check(self, case: Case) -> Verdict:
        got = case.jit_out
        rounded = case.analyse(round_to_dtype=True, ulps=1.0, salt=6)  # rounded outputs, their discontinuities
        tols = case.tolerances(case.analysis)
        verdict = _compare_all(case, got, rounded.outputs, tols, [rounded, case.analysis], "jit vs rounded reference",
                               {"expected": list(rounded.outputs)})
        if not verdict.failed:
            return verdict
        # XLA may keep excess precision (fused ops in float32) instead of rounding every op: a result within
        # tolerance of the unrounded reference is valid too (models seed 45, program 589: 0, as exactly,
        # where the rounded reference said 1.2e-4)
        exact = case.versus_reference(got)
        if not exact.failed:
            return Verdict(True, detail="within tolerance of the unrounded reference (excess precision)",
                           ratio=exact.ratio)
        return verdict


class VmapOracle(Oracle):
    name = "vmap"
    description = "jax.vmap(f) over a batch vs f applied to each example"
    BATCH = 3

    def applies(self, program: Program) -> bool:
        return len(program.body.params) > 0

    def check(self, case: Case) -> Verdict:

        b = case.batch(self.BATCH)
        case.stage("plan", {"batched": b.batched, "in_axes": b.axes})
        got = vmapped_outputs(case, b)
        return _compare_all(case, got, b.expected(case), b.tolerances(case), b.analyses(case),
                            "vmap vs per-example jit", {"batched": b.batched, "in_axes": b.axes}, b)


def vmapped_outputs(case: Case, b: Batch) -> tuple[np.ndarray, ...]:
    """Outputs of ``jit(vmap(f))`` on the batch ``b`` (compiled once per case: vmap and jitvmap share it)."""

    def run() -> tuple[np.ndarray, ...]:
        lowered, args = _vmapped(case, b)
        return case.call(case.compile_lowered(lowered), args)

    return case.shared(("jit(vmap)", b.size, id(b)), run)


def vmapped_module(case: Case, b: Batch) -> str:
    """The StableHLO module that :func:`vmapped_outputs` compiles, as :func:`module_text` prints it."""
    return case.shared(("jit(vmap) module", b.size, id(b)), lambda: module_text(_vmapped(case, b)[0]))


def _vmapped(case: Case, b: Batch) -> tuple[Any, list[Any]]:
    """``jit(vmap(f))`` lowered on the batch ``b``, and the batch on the device (once per case and batch)."""
    import jax

    def lower() -> tuple[Any, list[Any]]:
        args = [jax.device_put(x) for x in b.batched]
        return case.lower(jax.vmap(case.fn, in_axes=tuple(b.axes)), args), args

    return case.shared(("jit(vmap) lowered", b.size, id(b)), lower)


def module_text(lowered: Any) -> str:
    """A lowered module's StableHLO text without what never reaches the executable: the module's name
    (``jit_`` + the function's) and the ``jax.result_info`` names of the results."""
    import re

    text = re.sub(r"^module @\S+", "module", lowered.as_text(), count=1)
    return re.sub(r' \{jax\.result_info = "[^"]*"\}', "", text)


class Batch:
    """A batch of examples around the case's inputs (example 0), drawn once per (case, size) and shared
    by the oracles that batch (vmap, jitvmap, sharding): per-example jit outputs, reference analyses and
    tolerances are computed once. ``axes[i]`` is 0 where input ``i`` is batched, None where shared. In
    special mode every example holds special values, and each has its own references (IEEE and flushed)."""

    def __init__(self, case: Case, size: int) -> None:
        from jaxsynth.fuzz.special import special_inputs

        program = case.program
        rng = case.rng(5)
        n = len(case.inputs)
        axes = [0 if rng.random() < 0.7 else None for _ in range(n)]
        if n and all(a is None for a in axes):
            axes[int(rng.integers(n))] = 0
        examples = [case.inputs]
        for _ in range(size - 1):
            example = random_inputs(program, rng)
            examples.append(special_inputs(program, example, rng) if case.special else example)
        self.size = size
        self.axes = axes
        self.examples = [[ex[i] if axes[i] == 0 else case.inputs[i] for i in range(n)] for ex in examples]
        self.batched = [np.stack([ex[i] for ex in self.examples]) if axes[i] == 0 else case.inputs[i]
                        for i in range(n)]
        self._expected: tuple[np.ndarray, ...] | None = None
        self._analyses: list[tolerance.Analysis] | None = None
        self._flushed: list[tuple[np.ndarray, ...]] = []  #: special mode: each example's flushed reference
        self._references: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None = None
        self._regroupable: tuple[np.ndarray, ...] | None = None

    def expected(self, case: Case) -> tuple[np.ndarray, ...]:
        """Per-example jit outputs (one compile, ``size`` runs), stacked."""
        import jax

        if self._expected is None:
            singles = [case.jit_out] + [case.call(case.compiled, [jax.device_put(x) for x in ex])
                                        for ex in self.examples[1:]]
            self._expected = _stacked(singles)
        return self._expected

    def analyses(self, case: Case) -> list[tolerance.Analysis]:
        if self._analyses is None:
            if case.special:
                pairs = [(case.analysis, case.flushed)] + [case.analyse_special(ex) for ex in self.examples[1:]]
                self._analyses, self._flushed = [a for a, _ in pairs], [f for _, f in pairs]
            else:
                self._analyses = [case.analysis] + [case.analyse(ex, salt=b + 1)
                                                    for b, ex in enumerate(self.examples[1:])]
        return self._analyses

    def tolerances(self, case: Case, factor: float = 2.0) -> list[np.ndarray]:
        analyses = self.analyses(case)
        per = [case.tolerances(a, factor=factor, flushed=self._flushed[b] if case.special else None)
               for b, a in enumerate(analyses)]
        return list(_stacked(per))

    def references(self, case: Case) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Special mode: per output, the IEEE reference and the flushed one of every example, stacked."""
        if self._references is None:
            self._references = _stacked([a.outputs for a in self.analyses(case)]), _stacked(self._flushed)
        return self._references

    def regroupable(self, case: Case) -> tuple[np.ndarray, ...]:
        """Special mode: per output, the elements of every example that XLA may regroup, stacked (only a
        failed comparison needs them)."""
        if self._regroupable is None:
            self._regroupable = _stacked([case.regroupable] + [case.regroupable_at(ex) for ex in self.examples[1:]])
        return self._regroupable


def _stacked(per_example: Sequence[Sequence[np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Per output, its arrays of every example (``per_example[b][k]``) stacked along a new leading batch axis."""
    return tuple(np.stack(arrays) for arrays in zip(*per_example, strict=True))


_HELPERS: dict[tuple[str, ...], Any] = {}


def _helper_outputs(case: Case, passes: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Jit outputs computed by a helper worker whose XLA_FLAGS disable ``passes`` (old jaxlibs)."""
    import atexit
    import os

    from jaxsynth import compat
    from jaxsynth.fuzz.isolate import Worker
    from jaxsynth.fuzz.worker import Task

    helper = _HELPERS.get(passes)
    if helper is None:
        for other in _HELPERS.values():
            other.close()
        _HELPERS.clear()
        env = dict(os.environ, XLA_FLAGS=compat.xla_flags_disabling(passes))
        helper = _HELPERS[passes] = Worker(env=env)
        atexit.register(helper.close)
    outcome = helper.run(Task(case.program, case.inputs, ("outputs",), seed=case.seed, x64=case.x64), timeout=600)
    if outcome.kind != "ok" or outcome.result is None:
        raise RuntimeError(f"passes-disabled helper process: {outcome.describe} {outcome.message}".strip())
    if "error" in outcome.result.notes:  # JAX raised with the passes disabled: that error, under its own name
        name, message = outcome.result.notes["error"]
        raise type(name, (RuntimeError,), {})(message)
    return outcome.result.notes["outputs"]


# ---------------------------------------------------------------- grad

_KINK = frozenset({"maximum", "minimum", "fmax", "fmin", "max", "min", "nanmax", "nanmin", "abs", "clip", "norm",
                   "sqrt", "relu", "relu6", "leaky_relu", "selu", "hard_tanh", "hard_sigmoid", "hard_silu", "i0e",
                   "interp", "sparse_sigmoid", "i0", "i1", "laplace_logpdf"})
#: The clamping bounds of the clip-like kinks, on their operand.
_CLAMPS = {"relu6": (0.0, 6.0), "hard_tanh": (-1.0, 1.0), "hard_sigmoid": (-3.0, 3.0), "hard_silu": (-3.0, 3.0),
           "sparse_sigmoid": (-1.0, 1.0)}


def _kink_key(op: str, params: dict[str, Any], args: Sequence[np.ndarray]) -> tuple[np.ndarray, bool]:
    """The 'which branch' pattern of a piecewise op, and whether the inputs sit exactly on a kink."""
    x = np.asarray(args[0], dtype=np.float64)
    if op in ("maximum", "minimum", "fmax", "fmin"):
        d = x - np.asarray(args[1], dtype=np.float64)
        return np.sign(d), bool(np.any(d == 0))
    if op in ("abs", "sqrt", "relu", "leaky_relu", "selu", "i0e", "i0", "i1"):  # i0e: exp(-|x|) I0(x); i0: exp(|x|) i0e
        return np.sign(x), bool(np.any(x == 0))
    if op == "laplace_logpdf":  # -|x - loc| / scale - log(2 scale)
        d = x - params["loc"]
        return np.sign(d), bool(np.any(d == 0))
    if op == "clip" or op in _CLAMPS:
        lo, hi = _CLAMPS.get(op) or (params["lo"], params["hi"])
        key = np.sign(x - lo) + 3 * np.sign(x - hi)
        return key, bool(np.any((x == lo) | (x == hi)))
    if op == "norm":
        return np.asarray(np.sum(x * x) > 0), bool(np.sum(x * x) == 0)
    if op == "interp":  # the segment of each element; a kink at each point
        points = np.asarray(params["xp"], dtype=np.float64)
        return np.searchsorted(points, x, side="right"), bool(np.any(np.isin(x, points)))
    if op in ("max", "min", "nanmax", "nanmin"):
        axis = params.get("axis")
        v = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
        v = -v if op.endswith("min") else v
        top = np.sort(v, axis=-1)
        tie = v.shape[-1] >= 2 and bool(np.any(top[..., -1] == top[..., -2]))
        return np.argmax(v, axis=-1), tie
    # discontinuous ops: the output pattern itself
    from jaxsynth.grammar.ops import REGISTRY as _R

    spec = _R[op]
    return np.asarray(spec.reference(list(args), params)), False


class GradOracle(Oracle):
    name = "grad"
    description = "jax.grad vs finite differences of the float64 reference (float32 programs; float64 under x64)"

    H = 1e-6  #: finite-difference step, relative to each input's half range
    H_WIDE = 1e-4  #: the step of the second look, where the float64 reference's rounding dominates at ``H``
    RTOL64 = 1e-6  #: float64 jax.grad vs Richardson-extrapolated central differences
    #: float32 jax.grad vs float64 jax.grad: only gross differences. A float32 gradient can be far more
    #: ill-conditioned than the function (tanh' is computed as 1 - tanh(x)**2, which is 0 in float32
    #: for x > 9), and its rounding cannot be simulated from outside JAX's backward pass; derivative-rule
    #: bugs are caught precisely by the float64 check, this one catches float32-only breakage.
    RTOL32 = 0.05
    ABS32 = 64 * DType.float32.eps
    #: float64 floor, per unit of output weight and direction: a derivative that is 0 in exact arithmetic
    #: comes out as rounding residue (2.6e-33 where every output was exactly 0: models seed 45, program 518).
    ABS64 = 64 * DType.float64.eps

    @staticmethod
    def float_dtype(program: Program) -> DType | None:
        """The one float dtype the oracle differentiates in: float32, or float64 in a program sampled under
        ``types.x64`` (whose float64 twin is itself); None for a program with another or a second float dtype."""
        floats = {t.dtype for n in program.walk() for t in n.types if t.dtype.is_float}
        return next(iter(floats)) if floats in ({DType.float32}, {DType.float64}) else None

    def applies(self, program: Program) -> bool:
        from jaxsynth.grammar.ops_control import ControlSpec

        own = self.float_dtype(program)
        if own is None:
            return False
        if not any(t.dtype is own for t in program.input_types):
            return False
        if not any(t.dtype is own for t in program.output_types):
            return False
        for node in program.walk():
            if not node.is_op:
                continue
            spec = REGISTRY[node.op]
            if node.op == "while_loop":
                return False  # reverse-mode differentiation of while_loop is unsupported by design
            if isinstance(spec, ControlSpec):
                continue
            if not spec.differentiable and node.type.dtype.is_float and node.op != "astype":
                return False
        from jaxsynth.fuzz.reduce import Invalid, retype

        try:  # the float64 twin must exist (e.g. int mean is float32 by the type rule, whatever x64 says)
            retype(program, {DType.float32: DType.float64})
        except Invalid:
            return False
        return True

    def skip_reason(self, program: Program) -> str | None:
        from jaxsynth.grammar.ops_control import ControlSpec

        inner = sorted({n.op for n in program.walk() if isinstance(REGISTRY.get(n.op), ControlSpec)
                        and REGISTRY[n.op].approximate})
        if inner:  # the reference of these is itself a finite difference; a second one would be noise
            return f"derivative regions ({', '.join(inner)}) have finite-difference references"
        if any(REGISTRY[n.op].category == "random" for n in program.walk() if n.is_op):
            return "PRNG ops draw other numbers in the float64 twin"
        return None

    def check(self, case: Case) -> Verdict:
        import jax
        import jax.numpy as jnp

        from jaxsynth.fuzz.reduce import Invalid, retype

        program = case.program
        own = self.float_dtype(program)
        rng = case.rng(4)
        float_in = [i for i, t in enumerate(program.input_types) if t.dtype is own]
        float_out = [k for k, t in enumerate(program.output_types) if t.dtype is own]
        weights = [rng.uniform(-1, 1, program.output_types[k].shape) for k in float_out]
        h = self.H
        base = [x.astype(np.float64) if i in float_in else x for i, x in enumerate(case.inputs)]
        halves = [(program.input_ranges[i].hi - program.input_ranges[i].lo) / 2 for i in float_in]
        drawn = [rng.uniform(-1, 1, case.inputs[i].shape) * half for i, half in zip(float_in, halves, strict=True)]

        def directions_at(step: float) -> list[np.ndarray]:
            """The drawn directions, 0 at the elements whose finite-difference points leave the input's range."""
            out = []
            for i, v in zip(float_in, drawn, strict=True):
                r, x = program.input_ranges[i], base[i]
                inside = (x - 2 * step * np.abs(v) >= r.lo) & (x + 2 * step * np.abs(v) <= r.hi)
                out.append(np.where(inside, v, 0.0))
            return out

        directions = directions_at(h)
        if not any(np.any(v != 0) for v in directions):
            return Verdict(True, detail="no direction inside the input ranges", skipped=True)
        try:
            program64 = pin_integers(retype(program, {DType.float32: DType.float64}))
        except Invalid as exc:
            raise InternalError(f"grad: cannot retype to float64: {exc}") from exc

        # finite differences of the float64 reference, with kink detection
        watch = frozenset(n.id for n in program.walk() if n.op in _KINK or n.id in _disc_ids(program))

        def loss_ref(t: float, along: list[np.ndarray]) -> tuple[float, float, dict[int, list], list[np.ndarray]]:
            xs = list(base)
            for i, v in zip(float_in, along, strict=True):
                xs[i] = xs[i] + t * v
            with case.own_step("grad reference"):
                run = reference.run(program, xs, record=watch, summarize=_kink_summary, budget=case.budget)
            outs = [run.outputs[k].astype(np.float64) for k in float_out]
            total = sum(float(np.sum(w * o)) for w, o in zip(weights, outs, strict=True))
            size = sum(float(np.sum(np.abs(w * o))) for w, o in zip(weights, outs, strict=True))
            return total, size, run.records, outs

        def differences(step: float, along: list[np.ndarray]) -> tuple[float, float, float, list[np.ndarray]] | None:
            """Richardson-extrapolated central differences at ``step``: the estimate, its truncation error bound,
            one ulp of each of the loss's terms and the outputs at the base point; None if a kink is in reach."""
            evaluations = {t: loss_ref(t, along) for t in (0.0, step, -step, step / 2, -step / 2)}
            if _kinked(watch, evaluations):
                return None
            c1 = (evaluations[step][0] - evaluations[-step][0]) / (2 * step)
            c2 = (evaluations[step / 2][0] - evaluations[-step / 2][0]) / step
            ulp = np.finfo(np.float64).eps * evaluations[0.0][1]
            return (4 * c2 - c1) / 3, 4 * abs(c2 - c1), ulp, evaluations[0.0][3]

        found = differences(h, directions)
        if found is None:
            return Verdict(True, detail="kink or tie within the finite-difference step", skipped=True)
        fd, truncation, rounding, outputs0 = found
        fd_error = truncation + 8 * rounding / h

        def loss_of(fn: Callable, dtype: Any) -> Callable:
            ws = [jnp.asarray(w, dtype=dtype) for w in weights]

            def loss(*xs: Any) -> Any:
                outs = _as_tuple(fn(*xs), case.n_outputs)
                return sum(jnp.sum(outs[k] * w) for k, w in zip(float_out, ws, strict=True))

            return loss

        argnums = tuple(float_in)
        source64 = render(program64)
        data = {"weights": weights, "directions": directions, "float_in": float_in, "float_out": float_out}
        case.stage("plan", dict(data, mode="f64", source=source64))
        fn64 = build_function(source64, program.name)
        case.stage("grad64")
        try:
            g64 = self._grad64(case, fn64, loss_of, argnums, float_in)
        except Exception as exc:
            # The twin is the harness's own program (a float64 program's twin is itself with its integer results
            # pinned): if the gradient of the real program works, a failure of the twin is ours (never a
            # finding); if it fails too, that is the finding.
            plan = dict(mode="f32", source=case.source) if own is DType.float32 else dict(mode="f64", source=source64)
            case.stage("plan", dict(data, **plan))
            case.compile(jax.grad(loss_of(case.fn, own.name), argnums=argnums), case.device_inputs)
            raise InternalError(f"grad: the float64 twin failed: {_first_line(exc)}") from exc
        d64 = _directional(g64, directions)
        if not math.isfinite(d64):
            return Verdict(True, detail="singular derivative (non-finite float64 gradient)", skipped=True)
        out_scale = sum(float(np.sum(np.abs(w) * np.maximum(1.0, np.abs(o))))
                        for w, o in zip(weights, outputs0, strict=True))

        def scales(along: list[np.ndarray]) -> tuple[float, float]:
            """The size of the float64 directional derivative's terms, and how far the direction reaches."""
            return (sum(float(np.sum(np.abs(g * v))) for g, v in zip(g64, along, strict=True)),
                    max(float(np.max(np.abs(v), initial=0.0)) for v in along))

        s64, v_scale = scales(directions)

        def tolerance64(scale: tuple[float, float], estimate: float, error: float) -> float:
            size, reach = scale
            return self.RTOL64 * (size + abs(estimate)) + self.ABS64 * out_scale * reach + error

        tol64 = tolerance64((s64, v_scale), fd, fd_error)
        ratio64 = _ratio(abs(d64 - fd), tol64)
        second = ""
        if ratio64 > 1:
            # A second look before calling the gradient wrong. An ill-conditioned output rounds to far more than
            # one ulp of itself in float64 (``log(tanh(v))`` with ``tanh(v)`` within 1e-4 of 1: thousands of
            # ulps), and the finite differences divide that by the step. Difference again at a 100x wider step,
            # where that weighs 100x less, with the loss's rounding measured (the float64 twin's spread, summed
            # over the outputs: a bound); a gradient is wrong only if both looks say so. Where a kink is in
            # reach of the wide step, the first look takes the measured rounding instead (a looser check).
            spread = case.analyse(base, program=program64).spread
            noise = max(rounding, sum(float(np.sum(np.abs(w) * spread[k]))
                                      for w, k in zip(weights, float_out, strict=True)))
            along = directions_at(self.H_WIDE)
            wide = differences(self.H_WIDE, along) if any(np.any(v != 0) for v in along) else None
            if wide is None:
                tol64 = tolerance64((s64, v_scale), fd, truncation + 8 * noise / h)
                ratio64 = _ratio(abs(d64 - fd), tol64)
            else:
                d_wide = _directional(g64, along)
                wide_tol = tolerance64(scales(along), wide[0], wide[1] + 8 * noise / self.H_WIDE)
                ratio64 = min(ratio64, _ratio(abs(d_wide - wide[0]), wide_tol))
                second = f"; at a {self.H_WIDE / h:g}x wider step {d_wide!r} vs {wide[0]!r} (tolerance {wide_tol:.3g})"
        if ratio64 > 1:
            return Verdict(False, abs(d64 - fd), tol64, ratio=ratio64, detail=
                           f"float64 jax.grad directional derivative {d64!r} vs finite differences {fd!r}{second}",
                           data=dict(data, mode="f64", source=source64, expected=fd, tol=tol64,
                                     mismatch=tolerance.mismatch_class(d64, fd)))  # noqa: E501
        if own is DType.float64:  # the program is its own float64 twin: the check above was the whole of it
            return Verdict(True, ratio=ratio64)
        case.stage("plan", dict(data, mode="f32", source=case.source))
        grad32 = case.compile(jax.grad(loss_of(case.fn, jnp.float32), argnums=argnums), case.device_inputs)
        case.stage("run")
        g32 = [np.asarray(g, dtype=np.float64) for g in grad32(*case.device_inputs)]
        d32 = _directional(g32, directions)
        # absolute floor: float32 rounding of the forward values the backward pass reuses, per unit weight
        tol32 = self.RTOL32 * (s64 + abs(d64)) + self.ABS32 * out_scale * v_scale + fd_error
        ratio32 = _ratio(abs(d32 - d64), tol32)
        if not (abs(d32 - d64) <= tol32):
            return Verdict(False, abs(d32 - d64) if math.isfinite(d32) else math.inf, tol32, ratio=ratio32, detail=
                           f"float32 jax.grad directional derivative {d32!r} vs float64 {d64!r} (finite differences "
                           f"{fd!r})", data=dict(data, mode="f32", source=case.source, expected=d64, tol=tol32,
                                                mismatch=tolerance.mismatch_class(d32, d64)))
        return Verdict(True, ratio=max(ratio64, ratio32 if math.isfinite(ratio32) else 0.0))


    @staticmethod
    def _grad64(case: Case, fn64: Callable, loss_of: Callable, argnums: tuple[int, ...], float_in: list[int]
                ) -> list[np.ndarray]:
        """The float64 twin's gradient under x64 (its integer results are pinned: see :func:`pin_integers`)."""
        import jax
        import jax.numpy as jnp

        from jaxsynth import compat

        with compat.enable_x64(True):
            xs64 = [jnp.asarray(x.astype(np.float64), dtype=jnp.float64) if i in float_in else jnp.asarray(x)
                    for i, x in enumerate(case.inputs)]
            grad64 = case.compile(jax.grad(loss_of(fn64, jnp.float64), argnums=argnums), xs64)
            return [np.asarray(g, dtype=np.float64) for g in grad64(*xs64)]


_SLICES = frozenset({"dynamic_slice", "dynamic_update_slice"})  #: ops whose start indices pin_integers types


def pin_integers(program: Program) -> Program:
    """``program`` with every integer-valued result cast to its declared dtype (``.astype``), and every
    start index of a ``lax.dynamic_slice`` or ``lax.dynamic_update_slice`` cast to int32.

    Under x64, ``jnp.sum`` of int32, ``argmax`` and a ``fori_loop`` index are int64, so the float64 twin
    would change integer semantics (a ``cond`` whose branches then differ in type fails to trace: a false
    alarm). Declared dtypes are JAX's without x64, so a cast back restores them (exactly: wraparound
    agrees modulo 2**32); in a program without x64 every cast is the identity. A Python integer start
    (``0`` on an axis that is not sliced, or a literal index) is int64 under x64, and the slice rejects
    a mix of int64 and int32 starts, so the twin renders every start as ``jnp.int32(...)``."""
    from jaxsynth.fuzz.reduce import rewrite
    from jaxsynth.synth.program import ITEM, LEAF_KINDS, Node

    next_id = max(n.id for n in program.walk()) + 1
    inline: dict[int, list[Node]] = {}
    for node in program.walk():
        params = node.params
        if node.op in _SLICES and params.get("style") == "full":
            params = dict(params, typed_starts=True)
            inline[node.id] = [Node(node.id, node.op, node.args, node.types, node.intervals, params, node.regions)]
        if node.op in LEAF_KINDS or len(node.types) != 1 or not node.type.dtype.is_int:
            continue
        if node.op != ITEM and not node.is_op:
            continue
        moved = Node(next_id, node.op, node.args, node.types, node.intervals, params, node.regions)
        cast = Node(node.id, "astype", (next_id,), node.types, node.intervals, {"dtype": node.type.dtype})
        inline[node.id] = [moved, cast]
        next_id += 1
    return rewrite(program, inline=inline) if inline else program


def _disc_ids(program: Program) -> frozenset[int]:
    return tolerance._discontinuity_nodes(program)


def _kink_summary(node: Node, args: tuple[np.ndarray, ...]) -> tuple[object, bool]:
    """What the grad oracle keeps of one execution of a watched node: a digest of its branch pattern
    (:func:`_kink_key`) and whether its inputs sit on a kink. The pattern itself can be as large as the
    arguments, once per step of a loop body (``lax.map`` of a 512-step body over f32[1408, 512] held 9 GB
    per evaluation); only its equality across the evaluations matters."""
    key, tie = _kink_key(node.op, node.params, args)
    key = np.asarray(key)  # tobytes() is in C order whatever the layout
    if key.dtype.kind == "f":
        if np.isnan(key).any():
            return object(), tie  # NaN != NaN: such a pattern never matches another, as np.array_equal had it
        key = key + 0.0  # -0.0 and 0.0 are one branch
    digest = hashlib.blake2b(repr((key.dtype.str, key.shape)).encode(), digest_size=16)
    digest.update(key.tobytes())
    return digest.digest(), tie


def _directional(grads: Sequence[np.ndarray], along: Sequence[np.ndarray]) -> float:
    """The directional derivative along ``along`` of a loss whose gradient is ``grads``."""
    return sum(float(np.sum(g * v)) for g, v in zip(grads, along, strict=True))


def _ratio(error: float, tol: float) -> float:
    """``error / tol``: 0 for no error, infinite for an error where nothing is tolerated."""
    return error / tol if tol > 0 else (0.0 if error == 0 else math.inf)


def _kinked(watch: frozenset[int], evaluations: dict[float, tuple]) -> bool:
    """Whether a watched node's inputs sit on a kink at the base point, or its branch pattern (or how many
    times it ran) differs between the finite-difference evaluations."""
    base = evaluations[0.0][2]
    for node_id in watch:
        if any(tie for _, tie in base.get(node_id, [])):
            return True
        keys0 = [key for key, _ in base.get(node_id, [])]
        for t, (_, _, records, _) in evaluations.items():
            if t != 0.0 and [key for key, _ in records.get(node_id, [])] != keys0:
                return True
    return False


@dataclass(frozen=True)
class Limitation:
    """Documented JAX behaviour that an oracle would otherwise report (known failures are data)."""

    oracle: str
    description: str
    matches: Callable[[Program, Verdict], bool]


KNOWN_LIMITATIONS: tuple[Limitation, ...] = (
    Limitation(
        "eager",
        "under jax.disable_jit, lax.fori_loop runs a Python loop and passes its index as a Python int, "
        "which has no array methods (jit passes an int32 array); nor has what Python makes of it: "
        "`(i >= 2).reshape(1)` fails on a bool (control-flow seed 90, program 696)",
        lambda program, v: v.kind == "error"
        and v.detail.startswith(("AttributeError: 'int' object", "AttributeError: 'bool' object",
                                 "AttributeError: 'float' object"))
        and any(n.op == "fori_loop" for n in program.walk()),
    ),
)


ORACLES: dict[str, Oracle] = {
    o.name: o
    for o in (ReferenceOracle(), EagerOracle(), PassesOracle(), GradOracle(), VmapOracle(), LowPrecisionOracle())
}

# The reference-free oracles build on the classes above and add themselves to ORACLES (either module may be
# imported first).
from jaxsynth.fuzz import metamorphic as _metamorphic  # noqa: E402, F401


def parse_oracles(spec: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"reference,grad"``, ``"all"`` or ``"all,-eager"`` -> oracle names in canonical order; ValueError
    naming the bad one. ``-NAME`` leaves an oracle out; exclusions alone (``"-eager,-grad"``) start from all."""
    if spec is None:
        return tuple(ORACLES)
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else list(spec)) if s.strip()]
    left_out = {s[1:].strip() for s in items if s.startswith("-")}
    names = {s for s in items if not s.startswith("-")}
    for name in sorted(names - {"all"} | left_out):
        if name not in ORACLES:
            raise ValueError(f"unknown oracle {name!r}; allowed: {', '.join(ORACLES)}, all, -NAME to leave one out")
    if "all" in names or (left_out and not names):
        names = set(ORACLES)
    chosen = tuple(n for n in ORACLES if n in names and n not in left_out)
    if not chosen:
        raise ValueError(f"no oracle selected; allowed: {', '.join(ORACLES)}, all, -NAME to leave one out")
    return chosen


def run_oracles(case: Case, names: Sequence[str]) -> dict[str, Verdict]:
    """Run the named oracles that apply to the case's program (JAX errors become ``error`` verdicts)."""
    from jaxsynth.fuzz.special import SPECIAL_ORACLES

    verdicts: dict[str, Verdict] = {}
    for name in names:
        oracle = ORACLES[name]
        if not oracle.applies(case.program):
            continue
        reason = oracle.skip_reason(case.program)
        if reason is not None:
            verdicts[name] = Verdict(True, detail=f"construct: {reason}", skipped=True, kind="unsupported")
            continue
        if case.special and name not in SPECIAL_ORACLES:
            verdicts[name] = Verdict(True, detail="special-value inputs: not judged by this oracle", skipped=True,
                                     kind="unsupported")
            continue
        case.oracle = name
        case.plan = {}
        shared_before, start = case.shared_seconds, time.monotonic()
        try:
            verdicts[name] = oracle.check(case)
        except InternalError as exc:  # jaxsynth's own failure: reported, never a finding
            verdicts[name] = Verdict(True, detail=str(exc), skipped=True, kind="internal")
        except reference.OverBudget as exc:  # the program is too costly to judge against the reference
            verdicts[name] = Verdict(True, detail=str(exc), skipped=True, kind="unsupported")
        except Exception as exc:
            verdicts[name] = Verdict(False, math.inf, 0.0, _first_line(exc), kind="error", data=dict(case.plan))
        case.seconds[name] = time.monotonic() - start - (case.shared_seconds - shared_before)
    return verdicts
