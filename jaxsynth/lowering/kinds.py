"""IR kinds and the ``emit`` option: which texts :func:`~jaxsynth.lowering.lower` produces.

Imports no JAX, so a command line can parse ``--emit`` before it configures XLA for this process
(``configure_jax_for_workers`` only works before JAX loads).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["DEFAULT_EMIT", "IR_KINDS", "parse_emit"]

#: Every IR kind :func:`~jaxsynth.lowering.lower` can emit, in canonical order.
IR_KINDS: tuple[str, ...] = ("jaxpr", "stablehlo", "optimized_hlo", "hlo")
#: What :func:`~jaxsynth.lowering.lower` emits when not told otherwise.
DEFAULT_EMIT: tuple[str, ...] = ("jaxpr", "stablehlo", "optimized_hlo")


def parse_emit(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Parse ``"jaxpr,stablehlo"`` (or an iterable of names) into a tuple of IR kinds.

    Whitespace and empty items are ignored, duplicates removed, and the result
    ordered as :data:`IR_KINDS`. Raises ``ValueError`` naming the bad item and
    the allowed values, or if nothing is requested.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"IR kind must be a string, got {item!r}; allowed: {', '.join(IR_KINDS)}")
        name = item.strip()
        if not name:
            continue
        if name not in IR_KINDS:
            raise ValueError(f"unknown IR kind {name!r} in emit={spec!r}; allowed: {', '.join(IR_KINDS)}")
        names.add(name)
    if not names:
        raise ValueError(f"emit={spec!r} requests no IR kind; allowed: {', '.join(IR_KINDS)}")
    return tuple(k for k in IR_KINDS if k in names)
