"""Records of functions of your own (``jaxsynth lower -o``), in the corpus schema.

A record built here mixes with generated corpora: every reader, ``stats``, ``dedup``, ``merge``,
``split`` and ``export`` takes it. What differs from a generated record:

- ``config_name`` is ``"lower"`` and ``config_digest`` a content hash of the function's source, name,
  argument types, emitted kinds and ``grad`` (so records of different functions never collide);
  ``seed`` and ``index`` are 0.
- ``signature`` and ``output_types`` list the *leaves* of pytree arguments and results, in
  ``jax.tree_util`` order; static arguments are not listed.
- ``input_ranges`` is empty: nothing is known about the values a user's function is finite on.
- ``features.ops`` are the JAXPR primitive names (sub-JAXPRs included, repeats kept, sorted);
  ``categories`` is empty, ``node_count`` is the number of equations, ``depth`` the longest chain
  of equations in the outer JAXPR.
- ``graph_hash`` is a hash of the JAXPR text (a structural key for ``dedup``).
- With ``grad``, every IR text is of ``jax.grad(fn)`` and ``function_name`` is ``grad(NAME)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
from jax.extend import core as jex_core

from jaxsynth.corpus.generate import record_id, toolchain
from jaxsynth.corpus.record import SCHEMA_VERSION, Features, Record
from jaxsynth.lowering import format_type, lower, parse_emit
from jaxsynth.lowering.core import LOWER_KINDS
from jaxsynth.lowering.irtext import jaxpr_equations

__all__ = ["function_record"]


def _depth(jaxpr: Any) -> int:
    level: dict[Any, int] = {}
    deepest = 0
    for eqn in jaxpr.eqns:
        d = 1 + max((level.get(v, 0) for v in eqn.invars if not isinstance(v, jex_core.Literal)), default=0)
        for v in eqn.outvars:
            level[v] = d
        deepest = max(deepest, d)
    return deepest


def function_record(
    fn: Callable,
    arg_types: Sequence[Any],
    source: str,
    emit: str | Iterable[str] = ("jaxpr", "stablehlo", "optimized_hlo"),
    grad: bool = False,
    vmap_batch: int = 4,
) -> Record:
    """A corpus record of ``fn`` at ``arg_types`` (pytrees of ``ShapeDtypeStruct``), its IR texts per
    ``emit`` (any of :data:`~jaxsynth.lowering.core.LOWER_KINDS`), ``source`` its Python text."""
    kinds = parse_emit(emit, LOWER_KINDS)
    texts = lower(fn, arg_types, emit=kinds, grad=grad, vmap_batch=vmap_batch)
    target = jax.grad(fn) if grad else fn
    closed = jax.make_jaxpr(target)(*arg_types)
    in_leaves = jax.tree_util.tree_leaves(list(arg_types))
    out_leaves = jax.tree_util.tree_leaves(closed.out_avals)
    name = getattr(fn, "__name__", "f")
    function_name = f"grad({name})" if grad else name
    signature = [format_type(a.shape, a.dtype) for a in in_leaves]
    identity = json.dumps([source, function_name, signature, list(kinds), vmap_batch], sort_keys=True)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    ops = [primitive for primitive, _ in jaxpr_equations(str(closed))]
    return Record(
        schema_version=SCHEMA_VERSION,
        id=record_id(digest, 0, 0),
        index=0,
        seed=0,
        config_digest=digest,
        config_name="lower",
        function_name=function_name,
        python=source,
        signature=signature,
        output_types=[format_type(a.shape, a.dtype) for a in out_leaves],
        input_ranges=[],
        jaxpr=texts.jaxpr,
        stablehlo=texts.stablehlo,
        optimized_hlo=texts.optimized_hlo,
        hlo=texts.hlo,
        features=Features(
            ops=sorted(ops),
            categories=[],
            node_count=len(ops),
            depth=_depth(closed.jaxpr),
            inputs=len(in_leaves),
            outputs=len(out_leaves),
            lines=len(source.splitlines()),
        ),
        graph_hash=hashlib.blake2b(str(closed).encode(), digest_size=16).hexdigest(),
        toolchain=toolchain(),
        grad_jaxpr=texts.grad_jaxpr,
        vmap_jaxpr=texts.vmap_jaxpr,
    )
