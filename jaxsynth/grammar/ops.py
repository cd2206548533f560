"""The op table: every op the grammar can sample, built once, names unique."""

from __future__ import annotations

from jaxsynth.grammar.ops_bits import BITS_OPS, GRADIENT_OPS
from jaxsynth.grammar.ops_complex import COMPLEX_OPS, FFT_OPS
from jaxsynth.grammar.ops_control import CONTROL_OPS, ControlSpec
from jaxsynth.grammar.ops_elementwise import ELEMENTWISE_OPS
from jaxsynth.grammar.ops_index import INDEX_OPS
from jaxsynth.grammar.ops_indexing import INDEXING_OPS
from jaxsynth.grammar.ops_linalg import LINALG_OPS
from jaxsynth.grammar.ops_nn import NN_OPS
from jaxsynth.grammar.ops_random import RANDOM_OPS
from jaxsynth.grammar.ops_sort import SORT_OPS
from jaxsynth.grammar.ops_tensor import TENSOR_OPS
from jaxsynth.grammar.ops_transform import TRANSFORM_OPS
from jaxsynth.grammar.ops_window import WINDOW_OPS
from jaxsynth.grammar.opspec import CATEGORIES, OpSpec, available

Spec = OpSpec | ControlSpec

OPS: tuple[OpSpec, ...] = (
    ELEMENTWISE_OPS + TENSOR_OPS + NN_OPS + BITS_OPS + GRADIENT_OPS + INDEX_OPS + COMPLEX_OPS + FFT_OPS
    + INDEXING_OPS + SORT_OPS + WINDOW_OPS + LINALG_OPS + RANDOM_OPS
)
CONTROL: tuple[ControlSpec, ...] = CONTROL_OPS + TRANSFORM_OPS


def _build_registry() -> dict[str, Spec]:
    registry: dict[str, Spec] = {}
    for spec in OPS + CONTROL:
        if spec.name in registry:
            raise ValueError(f"duplicate op name {spec.name!r} in the op table")
        if spec.category not in CATEGORIES:
            raise ValueError(f"op {spec.name!r}: unknown category {spec.category!r}")
        registry[spec.name] = spec
    return registry


REGISTRY: dict[str, Spec] = _build_registry()
OPS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    category: tuple(name for name, spec in REGISTRY.items() if spec.category == category) for category in CATEGORIES
}


def get_op(name: str) -> Spec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; known ops: {', '.join(sorted(REGISTRY))}") from None


def unavailable_ops() -> dict[str, str]:
    """Ops whose rendering calls an API newer than the installed JAX, each with the release it needs
    (``"0.10.1"``): configs give them weight 0 here (``OpSpec.since``)."""
    return {name: ".".join(map(str, spec.since)) for name, spec in REGISTRY.items() if not available(spec.since)}
