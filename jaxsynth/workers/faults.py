"""TEST-ONLY fault injection: the one switch, read by worker processes only.

``JAXSYNTH_INJECT`` holds comma-separated faults. Two forms:

``INDEX:KIND`` (index faults, for pools that take indices: corpus generation)
    the worker that gets index ``INDEX`` dies of SIGSEGV (``crash``), aborts (``abort``), blocks
    forever (``hang``) or raises (``error``) instead of running the task.
``wrong-add`` | ``abort[:OP]`` | ``hang[:OP]`` (JAX faults, installed in fuzz workers)
    the lowering of ``add_p`` adds an extra 0.01 to float results (so jit *and* eager are wrong and
    the reference oracle fires); calling ``jnp.OP`` (default ``sin``) aborts the process or blocks.

The older names still work: ``JAXSYNTH_INJECT_FAULTS`` (index faults) and ``JAXSYNTH_FUZZ_INJECT``
(JAX faults). Never set any of them for real runs: a fuzz ``summary.json`` records it.
"""

from __future__ import annotations

import os
import signal
import time

__all__ = ["ENVS", "INDEX_KINDS", "INJECT_ENV", "JAX_KINDS", "fire", "index_faults", "install", "jax_faults"]

INJECT_ENV = "JAXSYNTH_INJECT"
#: Every variable read, the one switch first.
ENVS: tuple[str, ...] = (INJECT_ENV, "JAXSYNTH_INJECT_FAULTS", "JAXSYNTH_FUZZ_INJECT")
INDEX_KINDS: tuple[str, ...] = ("crash", "abort", "hang", "error")
JAX_KINDS: tuple[str, ...] = ("wrong-add", "abort", "hang")


def _items(text: str | None) -> list[str]:
    if text is None:
        text = ",".join(os.environ.get(name, "") for name in ENVS)
    return [item.strip() for item in text.split(",") if item.strip()]


def _is_index_fault(item: str) -> bool:
    return item.partition(":")[0].strip().isdigit()


def index_faults(text: str | None = None) -> dict[int, str]:
    """``{index: kind}`` of the index faults in ``text`` (default: the environment)."""
    faults = {}
    for item in filter(_is_index_fault, _items(text)):
        index, _, kind = item.partition(":")
        if kind not in INDEX_KINDS:
            raise ValueError(f"{INJECT_ENV}: unknown index fault {item!r}; allowed kinds: {', '.join(INDEX_KINDS)}")
        faults[int(index)] = kind
    return faults


def jax_faults(text: str | None = None) -> list[str]:
    """The JAX faults in ``text`` (default: the environment), as given."""
    return [item for item in _items(text) if not _is_index_fault(item)]


def fire(kind: str, index: int) -> None:
    """Act out an index fault; ``error`` raises ``RuntimeError`` (the others never return)."""
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif kind == "abort":
        os.abort()
    elif kind == "hang":
        while True:
            time.sleep(3600)
    raise RuntimeError(f"injected error at index {index}")


def install(spec: str | None = None) -> str | None:
    """Install the JAX faults named by ``spec`` (default: the environment); returns them, or None."""
    items = jax_faults(spec)
    if not items:
        return None
    for item in items:
        _install_one(item)
    return ",".join(items)


def _install_one(item: str) -> None:
    kind, _, op = item.partition(":")
    if kind not in JAX_KINDS:
        raise ValueError(f"{INJECT_ENV}={item!r}: unknown injection; allowed: {', '.join(JAX_KINDS)}")
    import jax.numpy as jnp

    if kind == "wrong-add":
        # A broken lowering rule: every add_p (``+``, ``jnp.add``; jit and eager alike) computes
        # x - (-y), exact, plus 0.01 for floats. Lowering rules are looked up at compile time, so
        # this works in every jax version, whatever captured ``lax.add`` at import.
        from jax import lax
        from jax._src.interpreters import mlir

        def wrong_add(x, y):  # type: ignore[no-untyped-def]
            result = lax.sub(x, lax.neg(y))
            if jnp.issubdtype(result.dtype, jnp.floating):
                result = lax.sub(result, lax.neg(lax.full_like(result, 0.01)))
            return result

        mlir.register_lowering(lax.add_p, mlir.lower_fun(wrong_add, multiple_results=False))
        return
    name = op or "sin"
    if not hasattr(jnp, name):
        raise ValueError(f"{INJECT_ENV}={item!r}: jax.numpy has no {name!r}")
    if kind == "abort":

        def aborting(*args, **kwargs):  # type: ignore[no-untyped-def]
            os.abort()

        setattr(jnp, name, aborting)
    else:

        def hanging(*args, **kwargs):  # type: ignore[no-untyped-def]
            while True:
                time.sleep(3600)

        setattr(jnp, name, hanging)
