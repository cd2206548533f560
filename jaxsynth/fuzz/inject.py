"""TEST-ONLY fault injection, to prove that the fuzzer finds, isolates and reduces bugs.

Active only when the environment variable ``JAXSYNTH_FUZZ_INJECT`` is set; it is read by fuzz
worker processes at start-up (and by ``python -m jaxsynth.fuzz.inject SCRIPT``), never by the CLI or
the campaign process. Do not set it for real campaigns: summary.json records it when it is set.

``wrong-add``
    the lowering of ``add_p`` (behind ``+`` and ``jnp.add``) adds an extra 0.01 to float results:
    a deliberately broken backend path, so jit *and* eager are wrong and the reference oracle fires.
``abort[:OP]``
    calling ``jnp.OP`` (default ``sin``) aborts the process (SIGABRT), as a crashing compiler would.
``hang[:OP]``
    calling ``jnp.OP`` (default ``sin``) blocks forever.

``python -m jaxsynth.fuzz.inject SCRIPT [ARGS...]`` installs the injection named by the variable and
runs SCRIPT as ``__main__`` (its exit status passes through): a standalone ``repro.py`` exits 1 under
the injected bug and 0 without it.
"""

from __future__ import annotations

import os
import sys

ENV = "JAXSYNTH_FUZZ_INJECT"
KINDS = ("wrong-add", "abort", "hang")


def active() -> str | None:
    return os.environ.get(ENV) or None


def install(spec: str | None = None) -> str | None:
    """Install the injection named by ``spec`` (default: the environment variable); returns it."""
    spec = spec if spec is not None else active()
    if not spec:
        return None
    kind, _, op = spec.partition(":")
    if kind not in KINDS:
        raise ValueError(f"{ENV}={spec!r}: unknown injection; allowed: {', '.join(KINDS)}")
    import jax.numpy as jnp

    if kind == "wrong-add":
        # A broken lowering rule: every add_p (``+``, ``jnp.add``; jit and eager alike) computes
        # x - (-y), exact, plus 0.01 for floats. Lowering rules are looked up at compile time, so
        # this works in every jax version, whatever captured ``lax.add`` at import.
        from jax import lax
        from jax._src.interpreters import mlir

        def wrong_add(x, y):
            result = lax.sub(x, lax.neg(y))
            if jnp.issubdtype(result.dtype, jnp.floating):
                result = lax.sub(result, lax.neg(lax.full_like(result, 0.01)))
            return result

        mlir.register_lowering(lax.add_p, mlir.lower_fun(wrong_add, multiple_results=False))
        return spec
    name = op or "sin"
    if not hasattr(jnp, name):
        raise ValueError(f"{ENV}={spec!r}: jax.numpy has no {name!r}")
    if kind == "abort":

        def aborting(*args, **kwargs):
            os.abort()

        setattr(jnp, name, aborting)
    else:

        def hanging(*args, **kwargs):
            import time

            while True:
                time.sleep(3600)

        setattr(jnp, name, hanging)
    return spec


def main(argv: list[str] | None = None) -> None:
    import runpy

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(f"usage: {ENV}=KIND python -m jaxsynth.fuzz.inject SCRIPT [ARGS...]", file=sys.stderr)
        sys.exit(2)
    install()
    sys.argv = list(args)
    runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
