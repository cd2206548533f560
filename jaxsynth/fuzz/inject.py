"""TEST-ONLY fault injection for the fuzzer: installs the JAX faults of the one switch, ``JAXSYNTH_INJECT``.

:mod:`jaxsynth.workers.faults` parses the switch and knows every fault; this module patches JAX for the
JAX faults. It runs in fuzz worker processes at start-up, in ``bench/bench_fuzz.py``'s measuring process and in
``python -m jaxsynth.fuzz.inject SCRIPT``, never in the CLI or the campaign process. Do not set the switch for
real campaigns: summary.json records it.

``wrong-add``
    the lowering of ``add_p`` (behind ``+`` and ``jnp.add``) adds an extra 0.01 to float results:
    a deliberately broken backend path, so jit *and* eager are wrong and the reference oracle fires.
``abort[:OP]``
    calling ``jnp.OP`` (default ``sin``) aborts the process (SIGABRT), as a crashing compiler would.
``check[:OP]``
    the same, after the line an XLA ``CHECK`` failure prints (absl's FATAL log line, with a site:
    ``injected_check.cc:1] Check failed: jnp.OP is never called``), so the crash has a site.
``hang[:OP]``
    calling ``jnp.OP`` (default ``sin``) blocks forever.

The faults of the metamorphic oracles each break exactly one path that one oracle compares against
another, by adding 0.01 to floating-point results there:

``wrong-export``    ``Exported.call`` (a broken deserialized module) — the ``export`` oracle;
``wrong-jitvmap``   the batching rule of ``jit`` (so ``vmap(jit(f))`` differs from ``jit(vmap(f))``);
``wrong-sharding``  ``device_put`` onto a partitioned ``NamedSharding``, and ``shard_map`` results;
``wrong-constraint`` ``jax.lax.with_sharding_constraint`` to a partitioned ``NamedSharding`` (a value resharded
                    inside the program); it also makes the ``sharding`` oracle constrain every named value of
                    every program, not only its usual share, so the broken path is always taken;
``wrong-manual-constraint`` the same, only inside a partial-manual ``shard_map`` (a mesh axis is manual); it
                    makes every ``shard_map`` variant partial-manual and leaves the NamedSharding variant
                    unconstrained, so only the ``sharding`` oracle's ``shard_map`` variant meets it;
``wrong-unroll``    ``lax.scan``/``lax.fori_loop`` called with ``unroll`` > 1 (a scan's carry and stacked results);
``wrong-transpose`` the lowering of a (non-identity) float ``transpose`` — the ``rewrite`` oracle, whose
                    transposes of transposes meet it where the original program has no transpose.
``wrong-slice``     the lowering of a float ``slice`` that leaves out part of its operand — the ``rewrite``
                    oracle, whose reductions and contractions split in two meet it where the original program
                    slices nothing.

``python -m jaxsynth.fuzz.inject SCRIPT [ARGS...]`` installs the faults named by the switch and runs
SCRIPT as ``__main__`` (its exit status passes through): a standalone ``repro.py`` exits 1 under the
injected bug and 0 without it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from jaxsynth.workers import faults

__all__ = ["active", "install", "main"]


def active(env: Mapping[str, str] | None = None) -> str | None:
    """The JAX faults set in ``env`` (default: the environment), comma-separated, or None."""
    return ",".join(faults.parse(env=env).jax) or None


def install(spec: str | None = None) -> str | None:
    """Install the JAX faults named by ``spec`` (default: the environment); returns them, or None."""
    items = faults.parse(spec).jax
    for item in items:
        _install_one(item)
    return ",".join(items) or None


def _install_one(item: str) -> None:
    kind, _, op = item.partition(":")
    if kind == "wrong-add":
        _wrong_add()
    elif kind in ("abort", "check", "hang"):
        _broken_op(kind, op or "sin", item)
    else:
        _oracle_fault(kind)


def _wrong_add() -> None:
    # A broken lowering rule: every add_p (``+``, ``jnp.add``; jit and eager alike) computes
    # x - (-y), exact, plus 0.01 for floats. Lowering rules are looked up at compile time, so
    # this works in every jax version, whatever captured ``lax.add`` at import.
    import jax.numpy as jnp
    from jax import lax
    from jax._src.interpreters import mlir

    def wrong_add(x, y):  # type: ignore[no-untyped-def]
        result = lax.sub(x, lax.neg(y))
        if jnp.issubdtype(result.dtype, jnp.floating):
            result = lax.sub(result, lax.neg(lax.full_like(result, 0.01)))
        return result

    mlir.register_lowering(lax.add_p, mlir.lower_fun(wrong_add, multiple_results=False))


def _broken_op(kind: str, name: str, item: str) -> None:
    import jax.numpy as jnp

    if not hasattr(jnp, name):
        raise faults.FaultError(f"{faults.INJECT_ENV}={item!r}: jax.numpy has no {name!r}")
    if kind in ("abort", "check"):

        def aborting(*args, **kwargs):  # type: ignore[no-untyped-def]
            if kind == "check":  # absl's FATAL line: severity and date, time, thread id, file:line] message
                sys.stderr.write(f"F0101 00:00:00.000000 {os.getpid():>7} injected_check.cc:1] Check failed: "
                                 f"jnp.{name} is never called\n")
                sys.stderr.flush()
            os.abort()

        setattr(jnp, name, aborting)
    else:

        def hanging(*args, **kwargs):  # type: ignore[no-untyped-def]
            while True:
                time.sleep(3600)

        setattr(jnp, name, hanging)


def _perturb(tree: Any) -> Any:
    import jax
    import jax.numpy as jnp

    def one(x: Any) -> Any:
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating):
            return x + jnp.asarray(0.01, dtype=x.dtype)
        return x

    return jax.tree_util.tree_map(one, tree)


def _partitioned(sharding: Any) -> bool:
    """A ``NamedSharding`` that splits at least one dim over the mesh (not replicated)."""
    from jax.sharding import NamedSharding

    return isinstance(sharding, NamedSharding) and any(p is not None for p in sharding.spec)


def _manual(sharding: Any) -> bool:
    """A sharding over a mesh with a manual axis (inside a partial-manual ``shard_map``)."""
    return any("manual" in str(t).lower() for t in getattr(sharding.mesh, "axis_types", ()))


def _oracle_fault(kind: str) -> None:
    import jax

    if kind == "wrong-export":
        from jax._src.export import _export

        call = _export.Exported.call

        def wrong_call(self: Any, *args: Any, **kwargs: Any) -> Any:
            return _perturb(call(self, *args, **kwargs))

        _export.Exported.call = wrong_call
    elif kind == "wrong-jitvmap":
        from jax._src import pjit
        from jax._src.interpreters import batching

        prim = getattr(pjit, "jit_p", None) or pjit.pjit_p
        batcher = batching.fancy_primitive_batchers[prim]

        def wrong_batcher(*args: Any, **kwargs: Any) -> Any:
            vals, dims = batcher(*args, **kwargs)
            return _perturb(list(vals)), dims

        batching.fancy_primitive_batchers[prim] = wrong_batcher
    elif kind == "wrong-sharding":
        import numpy as np

        device_put = jax.device_put

        def wrong_put(x: Any, device: Any = None, *args: Any, **kwargs: Any) -> Any:
            if _partitioned(device):
                a = np.asarray(x)
                if a.dtype.kind == "f":
                    x = (a + np.asarray(0.01, a.dtype)).astype(a.dtype)
            return device_put(x, device, *args, **kwargs)

        jax.device_put = wrong_put
        shard_map = getattr(jax, "shard_map", None)
        if shard_map is not None:
            def wrong_shard_map(f: Any, *args: Any, **kwargs: Any) -> Any:
                mapped = shard_map(f, *args, **kwargs)
                return lambda *xs: _perturb(mapped(*xs))

            jax.shard_map = wrong_shard_map
    elif kind in ("wrong-constraint", "wrong-manual-constraint"):
        from jaxsynth.fuzz import metamorphic

        constraint = jax.lax.with_sharding_constraint
        manual_only = kind == "wrong-manual-constraint"

        def wrong_constraint(x: Any, sharding: Any) -> Any:
            out = constraint(x, sharding)
            return _perturb(out) if _partitioned(sharding) and (not manual_only or _manual(sharding)) else out

        jax.lax.with_sharding_constraint = wrong_constraint
        metamorphic.CONSTRAINED_VALUE_SHARE = 1.0
        if manual_only:
            metamorphic.CONSTRAINED_SHARE, metamorphic.PARTIAL_MANUAL_SHARE = 0.0, 1.0
        else:
            metamorphic.CONSTRAINED_SHARE = 1.0
    elif kind == "wrong-unroll":
        import jax.lax as lax

        scan, fori_loop = lax.scan, lax.fori_loop

        def unrolled(kwargs: dict[str, Any]) -> bool:
            u = kwargs.get("unroll", 1)
            return u is True or (not isinstance(u, bool) and isinstance(u, int) and u > 1)

        def wrong_scan(*args: Any, **kwargs: Any) -> Any:
            carry, ys = scan(*args, **kwargs)
            return (_perturb(carry), _perturb(ys)) if unrolled(kwargs) else (carry, ys)

        def wrong_fori(*args: Any, **kwargs: Any) -> Any:
            out = fori_loop(*args, **kwargs)
            return _perturb(out) if unrolled(kwargs) else out

        lax.scan, lax.fori_loop = wrong_scan, wrong_fori
    elif kind == "wrong-transpose":
        from jax import lax

        # (a permutation of fewer than two axes is the identity)
        _off_lowering(lax.transpose_p, lambda ctx, params: tuple(params["permutation"]) != tuple(
            range(len(params["permutation"]))))
    elif kind == "wrong-slice":
        from jax import lax

        _off_lowering(lax.slice_p, lambda ctx, params: ctx.avals_out[0].shape != ctx.avals_in[0].shape)
    else:
        raise faults.FaultError(f"{faults.INJECT_ENV}: no installer for fault {kind!r}")


def _off_lowering(primitive: Any, wrong: Callable[[Any, dict[str, Any]], bool]) -> None:
    """Re-register ``primitive``'s lowering so that its float result is 0.01 off wherever ``wrong(ctx, params)``
    says so (lowering rules are looked up at compile time, so this works whatever captured the primitive)."""
    import numpy as np
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir.dialects import hlo

    entry = mlir._lowerings[primitive]
    rule = getattr(entry, "rule", entry)

    def lowering(ctx: Any, *args: Any, **params: Any) -> Any:
        out = rule(ctx, *args, **params)
        aval = ctx.avals_out[0]
        if np.issubdtype(aval.dtype, np.floating) and wrong(ctx, params):
            out = [hlo.add(out[0], mlir.full_like_aval(ctx, 0.01, aval))]
        return out

    mlir.register_lowering(primitive, lowering)


def main(argv: list[str] | None = None) -> None:
    import runpy

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(f"usage: {faults.INJECT_ENV}=FAULT[,FAULT...] python -m jaxsynth.fuzz.inject SCRIPT [ARGS...]",
              file=sys.stderr)
        sys.exit(2)
    try:
        install()
    except faults.FaultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.argv = list(args)
    runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
