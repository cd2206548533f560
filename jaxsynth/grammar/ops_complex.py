"""Complex values and FFTs: ``lax.complex``, ``jnp.real/imag/conj/abs``, complex products, and
``jnp.fft.fft/ifft/rfft/irfft`` along the last axis, ``jnp.fft.fftshift/ifftshift`` over one or every axis.

Interval rule (see ``types.COMPLEX``): a complex value's Interval bounds both its real and its
imaginary part. Sums and differences of complex values then follow the real rules (``add`` and
``subtract`` accept complex operands), ``|z| <= sqrt(2) * mag``, and a product's parts are a difference
and a sum of two real products. The FFT bounds come from the L1 norm: every output part of
``fft`` over ``n`` points is at most ``sum |z_k| <= n * sqrt(2) * mag``; ``ifft`` divides by ``n``;
``rfft`` of real input is at most ``n * mag``; ``irfft`` returns ``(1/n) * sum`` of ``n`` terms of
modulus at most ``sqrt(2) * mag``.

Complex types appear only where a config lists them: every proposal picks its complex or float
partner type through ``ctx.pick_dtype``.
"""

from __future__ import annotations

import math

import libcst as cst
import numpy as np

from jaxsynth.grammar.ops_elementwise import broadcast_type, propose_elementwise
from jaxsynth.grammar.opspec import Context, Operand, OpSpec, Proposal, binop, call
from jaxsynth.grammar.types import COMPLEX, FLOATS, DType, Interval, TensorType

SQRT2 = math.sqrt(2.0)
#: Float types that have a complex counterpart.
COMPLEX_PARTS = frozenset({DType.float32, DType.float64})


def _complex_of(t: TensorType, ctx: Context) -> DType | None:
    """The configured complex type whose parts are ``t``'s float type, if any."""
    if t.dtype not in COMPLEX_PARTS:
        return None
    return ctx.pick_dtype(frozenset({t.dtype.complex_dtype}))


def _real_of(t: TensorType, ctx: Context) -> DType | None:
    if t.dtype not in COMPLEX:
        return None
    return ctx.pick_dtype(frozenset({t.dtype.real_dtype}))


# ---------------------------------------------------------------- making and taking apart


def _propose_make(t: TensorType, ctx: Context) -> Proposal | None:
    part = _real_of(t, ctx)
    if part is None:
        return None
    return Proposal((Operand(t.with_dtype(part)), Operand(t.with_dtype(part))))


def _make_type(types, params) -> TensorType:
    a, b = types
    if a != b or a.dtype not in COMPLEX_PARTS:
        raise TypeError(f"lax.complex needs two equal float32/float64 types, got {a}, {b}")
    return a.with_dtype(a.dtype.complex_dtype)


def _propose_part(t: TensorType, ctx: Context) -> Proposal | None:
    source = _complex_of(t, ctx)
    return None if source is None else Proposal((Operand(t.with_dtype(source)),))


def _part_type(types, params) -> TensorType:
    return types[0].with_dtype(types[0].dtype.real_dtype)


def _propose_same(t: TensorType, ctx: Context) -> Proposal | None:
    return Proposal((Operand(t),)) if t.dtype in COMPLEX else None


def _conj_range(ins, types, out, params) -> Interval:
    x = ins[0]
    return x.hull(Interval(-x.hi, -x.lo))


def _product_range(ins, types, out, params) -> Interval:
    a, b = ins
    p = Interval.of(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
    return Interval(p.lo - p.hi, p.hi - p.lo).hull(Interval(2 * p.lo, 2 * p.hi))


# ---------------------------------------------------------------- FFTs along the last axis


def _propose_fft(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in COMPLEX or t.rank == 0:
        return None
    return Proposal((Operand(t),))


def _fft_range(inverse: bool):
    def rule(ins, types, out, params) -> Interval:
        n = types[0].shape[-1]
        b = SQRT2 * ins[0].mag * (1 if inverse else n)
        return Interval(-b, b)

    return rule


def _fft_error(inverse: bool):
    def scale(args, params, value) -> np.ndarray:
        z = np.asarray(args[0])
        n = z.shape[-1]
        terms = np.sum(np.abs(z), axis=-1, keepdims=True) * max(1.0, math.log2(max(n, 1)))
        return np.broadcast_to(terms / n if inverse else terms, z.shape)

    return scale


def _propose_rfft(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in COMPLEX or t.rank == 0:
        return None
    part = ctx.pick_dtype(frozenset({t.dtype.real_dtype}))
    if part is None:
        return None
    m = t.shape[-1]
    n = ctx.draw.choice((2 * (m - 1), 2 * m - 1)) if m > 1 else 1
    return Proposal((Operand(TensorType(part, t.shape[:-1] + (n,))),))


def _rfft_type(types, params) -> TensorType:
    t = types[0]
    if t.dtype not in COMPLEX_PARTS or t.rank == 0:
        raise TypeError(f"rfft needs a float32/float64 array, got {t}")
    return TensorType(t.dtype.complex_dtype, t.shape[:-1] + (t.shape[-1] // 2 + 1,))


def _rfft_range(ins, types, out, params) -> Interval:
    b = types[0].shape[-1] * ins[0].mag
    return Interval(-b, b)


def _rfft_error(args, params, value) -> np.ndarray:
    x = np.asarray(args[0])
    n = x.shape[-1]
    terms = np.sum(np.abs(x), axis=-1, keepdims=True) * max(1.0, math.log2(max(n, 1)))
    return np.broadcast_to(terms, x.shape[:-1] + (n // 2 + 1,))


def _propose_irfft(t: TensorType, ctx: Context) -> Proposal | None:
    if t.dtype not in COMPLEX_PARTS or t.rank == 0 or t.shape[-1] % 2 or t.shape[-1] < 2:
        return None
    source = _complex_of(t, ctx)
    if source is None:
        return None
    return Proposal((Operand(TensorType(source, t.shape[:-1] + (t.shape[-1] // 2 + 1,))),))


def _irfft_type(types, params) -> TensorType:
    t = types[0]
    if t.dtype not in COMPLEX or t.rank == 0 or t.shape[-1] < 2:
        raise TypeError(f"irfft needs a complex array with a last axis >= 2, got {t}")
    return TensorType(t.dtype.real_dtype, t.shape[:-1] + (2 * (t.shape[-1] - 1),))


def _irfft_error(args, params, value) -> np.ndarray:
    z = np.asarray(args[0])
    n = 2 * (z.shape[-1] - 1)
    terms = 2 * np.sum(np.abs(z), axis=-1, keepdims=True) / n * max(1.0, math.log2(n))
    return np.broadcast_to(terms, z.shape[:-1] + (n,))


def _row(name, category, dtypes, propose, type_rule, range_rule, reference, render, error_scale=None, **kwargs):
    return OpSpec(name, category, name, dtypes, propose, type_rule, range_rule, reference, render,
                  error_scale=error_scale, **kwargs)


#: ``jnp.fft.fftshift``/``ifftshift``'s dtypes: the spectra and signals they reorder.
SHIFT_DTYPES = COMPLEX | FLOATS


def _propose_shift(t: TensorType, ctx: Context) -> Proposal | None:
    """Every axis (``axes=None``, the default) or one of them."""
    if t.dtype not in SHIFT_DTYPES or t.rank == 0:
        return None
    return Proposal((Operand(t),), {"axes": None if ctx.draw.bernoulli(0.5) else ctx.draw.randint(0, t.rank - 1)})


def _shift_render(name: str):
    def render(args, params):
        if params["axes"] is None:
            return call(name, args[0])
        return call(name, args[0], axes=params["axes"])

    return render


COMPLEX_OPS = (
    _row("complex", "complex", COMPLEX_PARTS, _propose_make, _make_type, lambda i, t, o, p: i[0].hull(i[1]),
         lambda a, p: a[0] + 1j * a[1], lambda a, p: call("lax.complex", *a)),
    _row("real", "complex", COMPLEX, _propose_part, _part_type, lambda i, t, o, p: i[0],
         lambda a, p: np.real(a[0]), lambda a, p: call("jnp.real", a[0])),
    _row("imag", "complex", COMPLEX, _propose_part, _part_type, lambda i, t, o, p: i[0],
         lambda a, p: np.imag(a[0]), lambda a, p: call("jnp.imag", a[0])),
    _row("conj", "complex", COMPLEX, _propose_same, lambda t, p: t[0], _conj_range,
         lambda a, p: np.conj(a[0]), lambda a, p: call("jnp.conj", a[0])),
    _row("complex_abs", "complex", COMPLEX, _propose_part, _part_type,
         lambda i, t, o, p: Interval(0.0, SQRT2 * i[0].mag), lambda a, p: np.abs(a[0]),
         lambda a, p: call("jnp.abs", a[0])),
    _row("complex_multiply", "complex", COMPLEX, propose_elementwise(COMPLEX, allow_literal=False), broadcast_type,
         _product_range,
         lambda a, p: a[0] * a[1], lambda a, p: binop(a[0], cst.Multiply, a[1])),
)

FFT_OPS = (
    _row("fft", "fft", COMPLEX, _propose_fft, lambda t, p: t[0], _fft_range(False),
         lambda a, p: np.fft.fft(a[0], axis=-1), lambda a, p: call("jnp.fft.fft", a[0]), _fft_error(False)),
    _row("ifft", "fft", COMPLEX, _propose_fft, lambda t, p: t[0], _fft_range(True),
         lambda a, p: np.fft.ifft(a[0], axis=-1), lambda a, p: call("jnp.fft.ifft", a[0]), _fft_error(True)),
    _row("rfft", "fft", COMPLEX_PARTS, _propose_rfft, _rfft_type, _rfft_range,
         lambda a, p: np.fft.rfft(a[0], axis=-1), lambda a, p: call("jnp.fft.rfft", a[0]), _rfft_error),
    _row("irfft", "fft", COMPLEX, _propose_irfft, _irfft_type, lambda i, t, o, p: Interval(-SQRT2 * i[0].mag,
                                                                                           SQRT2 * i[0].mag),
         lambda a, p: np.fft.irfft(a[0], axis=-1), lambda a, p: call("jnp.fft.irfft", a[0]), _irfft_error),
    # half a turn of each axis (``fftshift``: the zero frequency to the middle; ``ifftshift`` undoes it): exact
    _row("fftshift", "fft", SHIFT_DTYPES, _propose_shift, lambda t, p: t[0], lambda i, t, o, p: i[0],
         lambda a, p: np.fft.fftshift(a[0], axes=p["axes"]), _shift_render("jnp.fft.fftshift"), special_values=True),
    _row("ifftshift", "fft", SHIFT_DTYPES, _propose_shift, lambda t, p: t[0], lambda i, t, o, p: i[0],
         lambda a, p: np.fft.ifftshift(a[0], axes=p["axes"]), _shift_render("jnp.fft.ifftshift"),
         special_values=True),
)
