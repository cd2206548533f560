"""TEST-ONLY fault injection for the fuzzer: the JAX faults of the one switch, :mod:`jaxsynth.workers.faults`.

Active only when ``JAXSYNTH_INJECT`` (or its older name ``JAXSYNTH_FUZZ_INJECT``) names a JAX
fault; read by fuzz worker processes at start-up (and by ``python -m jaxsynth.fuzz.inject SCRIPT``),
never by the CLI or the campaign process. Do not set it for real campaigns: summary.json records it.

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

import sys

from jaxsynth.workers import faults

__all__ = ["ENV", "KINDS", "active", "install", "main"]

#: The variable the campaign passes on to repro runs (``JAXSYNTH_INJECT`` is read too).
ENV = "JAXSYNTH_FUZZ_INJECT"
KINDS = faults.JAX_KINDS


def active() -> str | None:
    """The JAX faults set in the environment, or None."""
    return ",".join(faults.jax_faults()) or None


def install(spec: str | None = None) -> str | None:
    """Install the JAX faults named by ``spec`` (default: the environment); returns them."""
    return faults.install(spec)


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
