"""IR kinds and the ``emit`` option: which texts :func:`~jaxsynth.lowering.lower` produces.

Imports no JAX, so a command line can parse ``--emit`` before it configures XLA for this process
(``configure_jax_for_workers`` only works before JAX loads).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["DEFAULT_EMIT", "IR_KINDS", "LOWER_KINDS", "TRANSFORM_KINDS", "parse_emit"]

#: Every IR kind :func:`~jaxsynth.lowering.lower` can emit, in canonical order.
IR_KINDS: tuple[str, ...] = ("jaxpr", "stablehlo", "optimized_hlo", "hlo")
#: JAXPRs of transformed functions that :func:`~jaxsynth.lowering.lower` can emit beside the IR kinds (the
#: corpus stores them in the record fields of the same names when the config's ``[transforms]`` asks).
TRANSFORM_KINDS: tuple[str, ...] = ("grad_jaxpr", "vmap_jaxpr")
#: Everything :func:`~jaxsynth.lowering.lower` can emit: ``emit`` may name any of these.
LOWER_KINDS: tuple[str, ...] = IR_KINDS + TRANSFORM_KINDS
#: What :func:`~jaxsynth.lowering.lower` emits when not told otherwise.
DEFAULT_EMIT: tuple[str, ...] = ("jaxpr", "stablehlo", "optimized_hlo")


def parse_emit(spec: str | Iterable[str], allowed: Sequence[str] = IR_KINDS) -> tuple[str, ...]:
    """Parse ``"jaxpr,stablehlo"`` (or an iterable of names) into a tuple of kinds from ``allowed``
    (the IR kinds; pass :data:`LOWER_KINDS` to allow the transformed JAXPRs too).

    Whitespace and empty items are ignored, duplicates removed, and the result
    ordered as ``allowed``. Raises ``ValueError`` naming the bad item and
    the allowed values, or if nothing is requested.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"IR kind must be a string, got {item!r}; allowed: {', '.join(allowed)}")
        name = item.strip()
        if not name:
            continue
        if name not in allowed:
            raise ValueError(f"unknown IR kind {name!r} in emit={spec!r}; allowed: {', '.join(allowed)}")
        names.add(name)
    if not names:
        raise ValueError(f"emit={spec!r} requests no IR kind; allowed: {', '.join(allowed)}")
    return tuple(k for k in allowed if k in names)
