"""A fixed, varied set of hand-written JAX functions with argument types.

Used by the lowering tests and ``bench/bench_compile_flags.py`` to check that
compile options leave the optimized HLO unchanged and to time compilation. The
set covers elementwise math, comparisons and ``where``, reductions, ``dot``,
reshapes/transposes/slices/concatenation, ``lax.scan``, ``lax.while_loop``,
``lax.fori_loop`` and ``lax.cond``, over float32/float16/bfloat16/int8/int32/bool
and scalar, vector, matrix and rank-3 shapes. It is independent of the grammar
package on purpose: lowering is tested without the sampler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["Sample", "sample_functions"]


@dataclass(frozen=True)
class Sample:
    """One test program: a name, a function and its abstract argument types."""

    name: str
    fn: Callable
    arg_types: tuple[jax.ShapeDtypeStruct, ...]


def _t(shape: tuple[int, ...], dtype) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, jnp.dtype(dtype))


# ---------------------------------------------------------------- float templates
def _f_elementwise(x, y):
    return jnp.sin(x) * jnp.cos(y) + jnp.tanh(x - y)


def _f_exp_log(x, y):
    return jnp.log1p(jnp.exp(-jnp.abs(x))) + jnp.sqrt(y * y + 1)


def _f_where(x, y):
    return jnp.where(x > y, x * 2, jnp.maximum(y, 0)).astype(x.dtype)


def _f_reduce(x, y):
    return jnp.sum(x, axis=0) + jnp.max(y, axis=0) - jnp.mean(x * y, axis=0)


def _f_dot(x, y):
    return jnp.dot(x, y.T).sum(axis=-1)


def _f_scan(x, y):
    def body(carry, row):
        carry = carry * 0.5 + row
        return carry, jnp.sum(carry)

    last, ys = lax.scan(body, jnp.zeros_like(x[0]), x + y)
    return last.sum() + ys.sum()


def _f_cond(x, y):
    return lax.cond(jnp.sum(x) > 0, lambda a, b: a * b, lambda a, b: a - b, x, y)


def _f_while(x, y):
    def cond(state):
        i, _ = state
        return i < 5

    def body(state):
        i, v = state
        return i + 1, v * 0.9 + y

    return lax.while_loop(cond, body, (0, x))[1]


def _float_templates() -> list[tuple[str, Callable]]:
    return [
        ("elementwise", _f_elementwise),
        ("exp_log", _f_exp_log),
        ("where", _f_where),
        ("reduce", _f_reduce),
        ("dot", _f_dot),
        ("scan", _f_scan),
        ("cond", _f_cond),
        ("while", _f_while),
    ]


# ---------------------------------------------------------------- int / bool / misc
def _i_arith(x, y):
    return (x * y + (x >> 1)) & 0x3F


def _i_reduce(x, y):
    return jnp.sum(x, axis=-1) + jnp.min(y, axis=-1) + jnp.prod(x[..., :2], axis=-1)


def _i_clip_where(x, y):
    return jnp.where(x < y, jnp.clip(x, -3, 3), y // 2 + 1)


def _i_fori(x, y):
    return lax.fori_loop(0, 4, lambda i, v: v + x * i, y)


def _b_logic(p, q):
    return jnp.logical_xor(p, q) | (p & ~q)


def _b_any_all(p, q):
    return jnp.any(p, axis=0) & jnp.all(q, axis=0)


def _saxpy(a, x, y):
    return a * x + y


def _scalar_only(a, b):
    return jnp.exp(a) / (1 + jnp.exp(b))


def _shape_ops(x, y):
    z = jnp.concatenate([x.reshape(4, 6), y.T.reshape(4, 6)], axis=0)
    return jnp.transpose(z)[::2, 1:5]


def _rank3(x):
    return jnp.einsum("bij,bjk->bik", x, x).sum(axis=(1, 2))


def _matmul_chain(a, b, c):
    return jnp.tanh(a @ b) @ c


def _mixed_dtypes(x, i, p):
    return jnp.where(p, x, i.astype(x.dtype)).sum()


def _cumulative(x):
    return jnp.cumsum(x, axis=0) - jnp.cumprod(jnp.abs(x) + 1, axis=1)


def _argmax_sort(x):
    return jnp.argmax(x, axis=1) + jnp.sort(x, axis=1)[:, 0].astype(jnp.int32)


def _nested_control(x, y):
    def body(carry, xi):
        carry = lax.cond(xi > 0, lambda c: c + xi, lambda c: c * 0.5, carry)
        return carry, carry

    c, ys = lax.scan(body, jnp.float32(0), x)
    return ys * c + y


def _multi_output(x, y):
    return x + y, jnp.sum(x * y), (x > 0).astype(jnp.int32)


def _norm_softmax(x):
    return jax.nn.softmax(x, axis=-1) * jnp.linalg.norm(x)


def _misc_functions() -> list[Sample]:
    f32, i32 = jnp.float32, jnp.int32
    return [
        Sample("i32_arith", _i_arith, (_t((8, 8), i32), _t((8, 8), i32))),
        Sample("i8_arith", _i_arith, (_t((16,), jnp.int8), _t((16,), jnp.int8))),
        Sample("i32_reduce", _i_reduce, (_t((3, 5), i32), _t((3, 5), i32))),
        Sample("i8_reduce", _i_reduce, (_t((4, 4), jnp.int8), _t((4, 4), jnp.int8))),
        Sample("i32_clip_where", _i_clip_where, (_t((7,), i32), _t((7,), i32))),
        Sample("i8_clip_where", _i_clip_where, (_t((2, 3), jnp.int8), _t((2, 3), jnp.int8))),
        Sample("i32_fori", _i_fori, (_t((5,), i32), _t((5,), i32))),
        Sample("bool_logic", _b_logic, (_t((9,), bool), _t((9,), bool))),
        Sample("bool_any_all", _b_any_all, (_t((4, 3), bool), _t((4, 3), bool))),
        Sample("saxpy", _saxpy, (_t((), f32), _t((16,), f32), _t((16,), f32))),
        Sample("scalar_only", _scalar_only, (_t((), f32), _t((), f32))),
        Sample("shape_ops", _shape_ops, (_t((3, 8), f32), _t((6, 4), f32))),
        Sample("rank3_einsum", _rank3, (_t((2, 3, 3), f32),)),
        Sample("matmul_chain", _matmul_chain, (_t((8, 16), f32), _t((16, 4), f32), _t((4, 2), f32))),
        Sample("mixed_dtypes", _mixed_dtypes, (_t((6,), f32), _t((6,), i32), _t((6,), bool))),
        Sample("cumulative", _cumulative, (_t((4, 5), f32),)),
        Sample("argmax_sort", _argmax_sort, (_t((5, 6), f32),)),
        Sample("nested_control", _nested_control, (_t((6,), f32), _t((6,), f32))),
        Sample("multi_output", _multi_output, (_t((3, 2), f32), _t((3, 2), f32))),
        Sample("norm_softmax", _norm_softmax, (_t((4, 10), f32),)),
        Sample("large_elementwise", _f_elementwise, (_t((64, 128), f32), _t((64, 128), f32))),
        Sample("large_dot", _f_dot, (_t((64, 96), f32), _t((32, 96), f32))),
    ]


def sample_functions() -> list[Sample]:
    """Return the fixed sample set (46 functions), in a deterministic order.

    Float templates are instantiated for float32, float16 and bfloat16 with
    shapes chosen per template; integer, bool, scalar and control-flow
    programs follow.
    """
    out: list[Sample] = []
    shapes = {"dot": ((6, 5), (3, 5)), "scan": ((7, 3), (7, 3))}
    for dtype in (jnp.float32, jnp.float16, jnp.bfloat16):
        for name, fn in _float_templates():
            sx, sy = shapes.get(name, ((4, 6), (4, 6)))
            out.append(Sample(f"{jnp.dtype(dtype).name}_{name}", fn, (_t(sx, dtype), _t(sy, dtype))))
    out.extend(_misc_functions())
    return out
