"""Ops the tests inject faults into (``JAXSYNTH_INJECT``), and seeds whose programs call one where a test needs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jaxsynth.grammar import load_config
from jaxsynth.synth import sample
from jaxsynth.synth.program import Program

#: jnp functions no other op of the table calls internally: an injected fault in one fires only where it is sampled
#: (no digits in their names: a bucket's signature masks numbers).
CHECKABLE = ("sinh", "cosh", "arcsinh", "arccos", "cbrt")


def checkable_seed(config_name: str, called: Sequence[bool],
                   accept: Callable[[Program], bool] = lambda program: True) -> tuple[int, str]:
    """The first seed below 200 of ``config_name`` (drawn as ``sample`` draws it, without swarm) whose programs
    ``0..len(called)-1`` call an op of ``CHECKABLE`` exactly where ``called`` is true, and whose program 0 passes
    ``accept``; with that op. Chosen by that property, so a change to the op table keeps a test's meaning."""
    config = load_config(config_name)
    for seed in range(200):
        first = sample(config, seed, 0)
        if not accept(first):
            continue
        programs = [first, *(sample(config, seed, index) for index in range(1, len(called)))]
        ops = [{n.op for n in program.walk() if n.is_op} for program in programs]
        for op in CHECKABLE:
            if all((op in calls) == wanted for calls, wanted in zip(ops, called, strict=True)):
                return seed, op
    raise AssertionError(f"no {config_name} seed below 200 calls an op of CHECKABLE in programs {list(called)}")
