"""Argument type strings in JAXPR notation: ``"f32[16,4]"`` <-> ``jax.ShapeDtypeStruct``.

A dtype is spelled as JAXPR prints it (``f32``, ``bf16``, ``i8``, ``bool``, ...)
or by its numpy name (``float32``, ``bfloat16``, ``int8``); both are accepted
everywhere. A scalar is written with empty brackets: ``"f32[]"``. 64-bit types
parse fine, but lowering them needs ``jax_enable_x64`` (see ``lower``).

:func:`parse_arg` reads one argument of ``jaxsynth lower --arg``: a type, a pytree
of types written as a Python/JSON literal (``{"w": "f32[8,4]", "b": "f32[4]"}``,
``["f32[2]", "f32[]"]`` for a list, ``("f32[2]", "i32[]")`` for a tuple; quotes
around the types may be left out), or ``static:LITERAL`` for a static argument.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["DTYPE_NAMES", "Static", "bind_static", "format_type", "parse_arg", "parse_type"]

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
#: Every accepted spelling: the short names and the numpy names (``float32``, ``bfloat16``, ``bool``).
_SPELLINGS: dict[str, np.dtype] = {**DTYPE_NAMES, **{dt.name: dt for dt in DTYPE_NAMES.values()}}
_TYPE_RE = re.compile(r"^\s*([A-Za-z0-9_]+|key<fry>)\s*\[([^\[\]]*)\]\s*$")
#: JAX's typed PRNG key (threefry), as JAXPR prints it; parsed into a key-typed ShapeDtypeStruct.
KEY_NAME = "key<fry>"


@functools.lru_cache(maxsize=1)
def key_dtype() -> object:
    """The dtype of ``jax.random.key`` arrays (traced abstractly, nothing runs)."""
    return jax.eval_shape(lambda: jax.random.key(0)).dtype


def _allowed() -> str:
    names = [f"{name} ({dt.name})" if dt.name != name else name for name, dt in DTYPE_NAMES.items()]
    return ", ".join([*names, KEY_NAME])


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
    if name not in _SPELLINGS and name != KEY_NAME:
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
    return jax.ShapeDtypeStruct(shape, key_dtype() if name == KEY_NAME else _SPELLINGS[name])


def _to_dtype(dtype: object) -> np.dtype:
    if isinstance(dtype, str) and dtype in _SPELLINGS:
        return _SPELLINGS[dtype]
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


class Static(NamedTuple):
    """A static argument of ``jaxsynth lower``: passed to the function as is, not traced."""

    value: object


_BARE_TYPE = re.compile(r"(?<![\w'\"])([A-Za-z][A-Za-z0-9_]*\[[0-9,\s]*\])(?![\w'\"])")


def _tree_of_types(value: object, text: str, path: str) -> Any:
    if isinstance(value, str):
        try:
            return parse_type(value)
        except ValueError as exc:
            raise ValueError(f"bad argument {text!r} at {path or 'top'}: {exc}") from None
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"bad argument {text!r}: dict keys must be strings, got {key!r}")
        return {k: _tree_of_types(v, text, f"{path}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_tree_of_types(v, text, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise ValueError(
        f"bad argument {text!r} at {path or 'top'}: expected a type such as 'f32[4]', a dict, a list or a "
        f"tuple, got {value!r} (write static:{value!r} for a static argument)"
    )


def parse_arg(text: str) -> Any:
    """One ``--arg``: a type (``"f32[4]"``), a pytree of types, or ``static:LITERAL`` (see the module
    docstring). Returns a ``ShapeDtypeStruct``, a dict/list/tuple of them, or a :class:`Static`.
    Raises ``ValueError`` naming the bad part."""
    stripped = text.strip()
    if stripped.startswith("static:"):
        literal = stripped[len("static:"):].strip()
        try:
            return Static(ast.literal_eval(literal))
        except (ValueError, SyntaxError):
            raise ValueError(
                f"bad static argument {text!r}: expected a Python literal such as static:3, static:True "
                "or static:'same'"
            ) from None
    if not stripped.startswith(("{", "[", "(")):
        return parse_type(stripped)
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError):
        try:  # allow bare types inside the literal: {"w": f32[8,4]}
            value = ast.literal_eval(_BARE_TYPE.sub(r"'\1'", stripped))
        except (ValueError, SyntaxError):
            raise ValueError(
                f"bad argument {text!r}: not a type or a dict/list/tuple of types such as "
                "'{\"w\": \"f32[8,4]\", \"b\": \"f32[4]\"}'"
            ) from None
    return _tree_of_types(value, text, "")


def bind_static(fn: Any, args: Sequence[Any]) -> tuple[Any, list[Any]]:
    """``(fn', dynamic)``: ``fn'`` takes only the non-:class:`Static` arguments of ``args`` and calls
    ``fn`` with the static values back in place; it keeps ``fn``'s name (which names the IR modules).
    Without static arguments ``fn`` itself is returned."""
    if not any(isinstance(a, Static) for a in args):
        return fn, list(args)
    specs = list(args)

    def bound(*dynamic: Any) -> Any:
        values = iter(dynamic)
        return fn(*[a.value if isinstance(a, Static) else next(values) for a in specs])

    bound.__name__ = getattr(fn, "__name__", "f")
    bound.__qualname__ = getattr(fn, "__qualname__", bound.__name__)
    return bound, [a for a in specs if not isinstance(a, Static)]
