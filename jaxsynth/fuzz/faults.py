"""TEST-ONLY faults for the metamorphic oracles, in the style of :mod:`jaxsynth.fuzz.inject`.

Active only when ``JAXSYNTH_FUZZ_FAULT`` is set; read by fuzz worker processes at start-up and by
``python -m jaxsynth.fuzz.faults SCRIPT`` (which also installs ``JAXSYNTH_FUZZ_INJECT``), never by the
CLI or the campaign process. Each fault breaks exactly one path that one oracle compares against
another, by adding 0.01 to floating-point results there:

``wrong-export``    ``Exported.call`` (a broken deserialized module) — the ``export`` oracle;
``wrong-jitvmap``   the batching rule of ``jit`` (so ``vmap(jit(f))`` differs from ``jit(vmap(f))``);
``wrong-sharding``  ``device_put`` onto a partitioned ``NamedSharding``, and ``shard_map`` results;
``wrong-unroll``    ``lax.scan``/``lax.fori_loop`` called with ``unroll`` > 1;
``wrong-transpose`` the lowering of a (non-identity) float ``transpose`` — the ``rewrite`` oracle, whose
                    transposes of transposes meet it where the original program has no transpose.
"""

from __future__ import annotations

import os
import sys
from typing import Any

ENV = "JAXSYNTH_FUZZ_FAULT"
KINDS = ("wrong-export", "wrong-jitvmap", "wrong-sharding", "wrong-unroll", "wrong-transpose")


def active() -> str | None:
    return os.environ.get(ENV) or None


def _perturb(tree: Any) -> Any:
    import jax
    import jax.numpy as jnp

    def one(x: Any) -> Any:
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating):
            return x + jnp.asarray(0.01, dtype=x.dtype)
        return x

    return jax.tree_util.tree_map(one, tree)


def install(spec: str | None = None) -> str | None:
    """Install the fault named by ``spec`` (default: the environment variable); returns it."""
    spec = spec if spec is not None else active()
    if not spec:
        return None
    if spec not in KINDS:
        raise ValueError(f"{ENV}={spec!r}: unknown fault; allowed: {', '.join(KINDS)}")
    import jax

    if spec == "wrong-export":
        from jax._src.export import _export

        call = _export.Exported.call

        def wrong_call(self: Any, *args: Any, **kwargs: Any) -> Any:
            return _perturb(call(self, *args, **kwargs))

        _export.Exported.call = wrong_call
    elif spec == "wrong-jitvmap":
        from jax._src import pjit
        from jax._src.interpreters import batching

        prim = getattr(pjit, "jit_p", None) or pjit.pjit_p
        batcher = batching.fancy_primitive_batchers[prim]

        def wrong_batcher(*args: Any, **kwargs: Any) -> Any:
            vals, dims = batcher(*args, **kwargs)
            return _perturb(list(vals)), dims

        batching.fancy_primitive_batchers[prim] = wrong_batcher
    elif spec == "wrong-sharding":
        import numpy as np
        from jax.sharding import NamedSharding

        device_put = jax.device_put

        def wrong_put(x: Any, device: Any = None, *args: Any, **kwargs: Any) -> Any:
            if isinstance(device, NamedSharding) and any(p is not None for p in device.spec):
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
    elif spec == "wrong-unroll":
        import jax.lax as lax

        scan, fori_loop = lax.scan, lax.fori_loop

        def unrolled(kwargs: dict[str, Any]) -> bool:
            u = kwargs.get("unroll", 1)
            return u is True or (not isinstance(u, bool) and isinstance(u, int) and u > 1)

        def wrong_scan(*args: Any, **kwargs: Any) -> Any:
            carry, ys = scan(*args, **kwargs)
            return (_perturb(carry), ys) if unrolled(kwargs) else (carry, ys)

        def wrong_fori(*args: Any, **kwargs: Any) -> Any:
            out = fori_loop(*args, **kwargs)
            return _perturb(out) if unrolled(kwargs) else out

        lax.scan, lax.fori_loop = wrong_scan, wrong_fori
    else:  # wrong-transpose
        import numpy as np
        from jax import lax
        from jax._src.interpreters import mlir
        from jax._src.lib.mlir.dialects import hlo

        entry = mlir._lowerings[lax.transpose_p]
        rule = getattr(entry, "rule", entry)

        def transpose_rule(ctx: Any, x: Any, *, permutation: Any) -> Any:
            out = rule(ctx, x, permutation=permutation)
            aval = ctx.avals_out[0]
            if len(permutation) >= 2 and tuple(permutation) != tuple(range(len(permutation))) and \
                    np.issubdtype(aval.dtype, np.floating):
                out = [hlo.add(out[0], mlir.full_like_aval(ctx, 0.01, aval))]
            return out

        mlir.register_lowering(lax.transpose_p, transpose_rule)
    return spec


def main(argv: list[str] | None = None) -> None:
    import runpy

    from jaxsynth.fuzz import inject

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(f"usage: {ENV}=KIND python -m jaxsynth.fuzz.faults SCRIPT [ARGS...]", file=sys.stderr)
        sys.exit(2)
    inject.install()
    install()
    sys.argv = list(args)
    runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
