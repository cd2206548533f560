"""Lowering: a JAX function and abstract argument types -> normalized IR texts.

Public API::

    from jaxsynth.lowering import lower, parse_type, parse_emit
    texts = lower(fn, [parse_type("f32[16,4]")], emit=parse_emit("jaxpr,stablehlo"))

Modules: ``core`` (tracing, lowering, compiling), ``kinds`` (IR kinds, ``emit``; no JAX), ``normalize`` (pure text
normalizers), ``argtypes`` (``"f32[16,4]"`` strings), ``workers`` (worker
process environment), ``samples`` (a fixed function set for tests/benchmarks).

Attributes are loaded lazily, so ``from jaxsynth.lowering import
configure_jax_for_workers`` does not import JAX: a worker can configure XLA
before JAX is even imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_EMIT",
    "FAST_COMPILE_OPTIONS",
    "IR_KINDS",
    "LOWER_KINDS",
    "TRANSFORM_KINDS",
    "LoweredTexts",
    "clear_caches",
    "configure_jax_for_workers",
    "format_type",
    "grad_jaxpr",
    "lower",
    "parse_arg",
    "parse_emit",
    "parse_type",
    "vmap_jaxpr",
]

_SOURCES = {
    "DEFAULT_EMIT": "kinds",
    "FAST_COMPILE_OPTIONS": "core",
    "IR_KINDS": "kinds",
    "LOWER_KINDS": "kinds",
    "TRANSFORM_KINDS": "kinds",
    "LoweredTexts": "core",
    "grad_jaxpr": "core",
    "vmap_jaxpr": "core",
    "clear_caches": "core",
    "lower": "core",
    "parse_emit": "kinds",
    "format_type": "argtypes",
    "parse_type": "argtypes",
    "parse_arg": "argtypes",
    "configure_jax_for_workers": "workers",
}

if TYPE_CHECKING:  # pragma: no cover
    from .argtypes import format_type, parse_arg, parse_type
    from .core import FAST_COMPILE_OPTIONS, LoweredTexts, clear_caches, grad_jaxpr, lower, vmap_jaxpr
    from .kinds import DEFAULT_EMIT, IR_KINDS, LOWER_KINDS, TRANSFORM_KINDS, parse_emit
    from .workers import configure_jax_for_workers


def __getattr__(name: str) -> Any:
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    mod = importlib.import_module(f"{__name__}.{module}")
    for attr, source in _SOURCES.items():  # bind all names of that module at once
        if source == module:
            globals()[attr] = getattr(mod, attr)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
