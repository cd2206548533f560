"""Argument type strings in JAXPR notation: ``"f32[16,4]"`` <-> ``jax.ShapeDtypeStruct``.

The short dtype names are the ones JAXPR prints (``f32``, ``bf16``, ``i8``,
``bool``, ...). A scalar is written with empty brackets: ``"f32[]"``. 64-bit
types parse fine, but lowering them needs ``jax_enable_x64`` (see ``lower``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["DTYPE_NAMES", "format_type", "parse_type"]

#: JAXPR short name -> numpy/JAX dtype, in a fixed documentation order.
DTYPE_NAMES: dict[str, np.dtype] = {
    "f64": jnp.dtype("float64"),
    "f32": jnp.dtype("float32"),
    "f16": jnp.dtype("float16"),
    "bf16": jnp.dtype(jnp.bfloat16),
    "i64": jnp.dtype("int64"),
    "i32": jnp.dtype("int32"),
    "i16": jnp.dtype("int16"),
    "i8": jnp.dtype("int8"),
    "u32": jnp.dtype("uint32"),
    "u8": jnp.dtype("uint8"),
    "bool": jnp.dtype("bool"),
    "c64": jnp.dtype("complex64"),
    "c128": jnp.dtype("complex128"),
}
_SHORT_BY_DTYPE: dict[np.dtype, str] = {dt: name for name, dt in DTYPE_NAMES.items()}
_TYPE_RE = re.compile(r"^\s*([A-Za-z0-9_]+|key<fry>)\s*\[([^\[\]]*)\]\s*$")
#: JAX's typed PRNG key (threefry), as JAXPR prints it; parsed into a key-typed ShapeDtypeStruct.
KEY_NAME = "key<fry>"


@functools.lru_cache(maxsize=1)
def key_dtype() -> object:
    """The dtype of ``jax.random.key`` arrays (traced abstractly, nothing runs)."""
    return jax.eval_shape(lambda: jax.random.key(0)).dtype


def _allowed() -> str:
    return ", ".join([*DTYPE_NAMES, KEY_NAME])


def parse_type(text: str) -> jax.ShapeDtypeStruct:
    """Parse ``"f32[16,4]"`` (or ``"f32[]"`` for a scalar) into a ``ShapeDtypeStruct``.

    Whitespace around tokens is tolerated. Raises ``ValueError`` naming the bad
    input and the allowed dtypes.
    """
    if not isinstance(text, str):
        raise ValueError(f"type must be a string like 'f32[16,4]', got {type(text).__name__}: {text!r}")
    m = _TYPE_RE.match(text)
    if not m:
        raise ValueError(
            f"bad type {text!r}: expected DTYPE[d0,d1,...] such as 'f32[16,4]' or 'f32[]' "
            f"(allowed dtypes: {_allowed()})"
        )
    name, dims = m.group(1), m.group(2).strip()
    if name not in DTYPE_NAMES and name != KEY_NAME:
        raise ValueError(f"bad type {text!r}: unknown dtype {name!r} (allowed dtypes: {_allowed()})")
    shape: tuple[int, ...] = ()
    if dims:
        parts = [p.strip() for p in dims.split(",")]
        if any(not p.isdigit() for p in parts):
            raise ValueError(
                f"bad type {text!r}: dimensions must be non-negative integers separated by commas, "
                "e.g. 'f32[16,4]'"
            )
        shape = tuple(int(p) for p in parts)
    return jax.ShapeDtypeStruct(shape, key_dtype() if name == KEY_NAME else DTYPE_NAMES[name])


def _to_dtype(dtype: object) -> np.dtype:
    if isinstance(dtype, str) and dtype in DTYPE_NAMES:
        return DTYPE_NAMES[dtype]
    try:
        return jnp.dtype(dtype)  # type: ignore[arg-type]
    except TypeError as e:
        raise ValueError(f"unknown dtype {dtype!r} (allowed dtypes: {_allowed()})") from e


def format_type(shape: Sequence[int], dtype: object) -> str:
    """Format a shape and dtype as JAXPR does: ``format_type((16, 4), "float32") == "f32[16,4]"``.

    ``dtype`` may be a numpy/JAX dtype or scalar type, a dtype name
    (``"bfloat16"``) or a short name (``"bf16"``). Raises ``ValueError`` for
    dtypes outside the supported set.
    """
    dt = _to_dtype(dtype)
    if dt not in _SHORT_BY_DTYPE:
        raise ValueError(f"unsupported dtype {dt.name!r} (allowed dtypes: {_allowed()})")
    dims = tuple(shape)
    if any(not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0 for d in dims):
        raise ValueError(f"shape must be a sequence of non-negative ints, got {shape!r}")
    return f"{_SHORT_BY_DTYPE[dt]}[{','.join(str(int(d)) for d in dims)}]"
