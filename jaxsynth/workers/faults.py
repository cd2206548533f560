"""TEST-ONLY fault injection: the one switch, and the one parser of it.

``JAXSYNTH_INJECT`` holds comma-separated faults, read by worker processes only (generation pool
workers, fuzz workers, and ``python -m jaxsynth.fuzz.inject SCRIPT`` for a finding's repro.py):

``INDEX:KIND`` (index faults, for pools that take indices: corpus generation)
    the worker that gets index ``INDEX`` dies of SIGSEGV (``crash``), aborts (``abort``), blocks
    forever (``hang``) or raises (``error``) instead of running the task; acted out by :func:`fire`.
``wrong-add`` | ``abort[:OP]`` | ``check[:OP]`` | ``hang[:OP]`` (JAX faults, for fuzz workers)
    the lowering of ``add_p`` adds an extra 0.01 to float results (so jit *and* eager are wrong and
    the reference oracle fires); calling ``jnp.OP`` (default ``sin``) aborts the process silently, fails
    a CHECK as XLA does (absl's FATAL line naming a site, then an abort) or blocks.
``wrong-export`` | ``wrong-jitvmap`` | ``wrong-sharding`` | ``wrong-constraint`` |
``wrong-manual-constraint`` | ``wrong-unroll`` | ``wrong-transpose`` | ``wrong-slice``
    (JAX faults for the metamorphic oracles) break the one path that one oracle compares.

The JAX faults are installed by :mod:`jaxsynth.fuzz.inject` (this module imports no JAX). An unknown
fault is a one-line :class:`FaultError` when the switch is parsed, i.e. when a worker starts. Never
set it for real runs: a fuzz ``summary.json`` records it as ``injected_fault``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["INDEX_KINDS", "INJECT_ENV", "JAX_KINDS", "FaultError", "Faults", "fire", "index_faults", "jax_faults",
           "parse"]

INJECT_ENV = "JAXSYNTH_INJECT"
INDEX_KINDS: tuple[str, ...] = ("crash", "abort", "hang", "error")
#: JAX faults; ``abort``, ``check`` and ``hang`` take an optional ``:OP``.
JAX_KINDS: tuple[str, ...] = ("wrong-add", "abort", "check", "hang", "wrong-export", "wrong-jitvmap",
                              "wrong-sharding", "wrong-constraint", "wrong-manual-constraint", "wrong-unroll",
                              "wrong-transpose", "wrong-slice")
_WITH_OP = ("abort", "check", "hang")


class FaultError(ValueError):
    """``JAXSYNTH_INJECT`` names a fault that does not exist (a one-line message)."""


@dataclass(frozen=True)
class Faults:
    index: dict[int, str] = field(default_factory=dict)  #: index faults: ``{index: kind}``
    jax: tuple[str, ...] = ()  #: JAX faults, as given (``"abort:cos"``)


def parse(text: str | None = None, env: Mapping[str, str] | None = None) -> Faults:
    """The faults in ``text`` (default: ``JAXSYNTH_INJECT`` of ``env``, default the environment).

    Raises :class:`FaultError` for any item that is not a known fault."""
    if text is None:
        text = (os.environ if env is None else env).get(INJECT_ENV, "")
    index: dict[int, str] = {}
    jax: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        head, colon, tail = item.partition(":")
        if head.strip().isdigit():
            if tail.strip() not in INDEX_KINDS:
                raise FaultError(f"{INJECT_ENV}: unknown index fault {item!r}; allowed: INDEX:KIND with KIND one of "
                                 f"{', '.join(INDEX_KINDS)}")
            index[int(head)] = tail.strip()
        elif head in JAX_KINDS and (not colon or (head in _WITH_OP and tail.isidentifier())):
            jax.append(item)
        else:
            allowed = ", ".join(f"{k}[:OP]" if k in _WITH_OP else k for k in JAX_KINDS)
            raise FaultError(f"{INJECT_ENV}: unknown fault {item!r}; allowed: INDEX:KIND ({', '.join(INDEX_KINDS)}), "
                             f"{allowed}")
    return Faults(index, tuple(jax))


def index_faults(text: str | None = None) -> dict[int, str]:
    """``{index: kind}`` of the index faults in ``text`` (default: the environment)."""
    return parse(text).index


def jax_faults(text: str | None = None) -> list[str]:
    """The JAX faults in ``text`` (default: the environment), as given."""
    return list(parse(text).jax)


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
