"""Windows and convolution: ``lax.conv_general_dilated`` and ``lax.conv_transpose`` (1-D and 2-D),
``lax.reduce_window`` pooling and ``jnp.convolve`` / ``jnp.correlate``, with numpy references written out by hand
(no scipy).

Tensors have rank <= 3 in every config, so a 2-D convolution takes an unbatched image (``x[None]`` adds the
batch axis, ``[0]`` drops it) and a kernel stored with its two input/output feature axes merged (the
rendering reshapes it to rank 4); an unbatched 1-D convolution does the same with rank 2. A composite
(``conv_block``, ``decoder``) may pass a batched rank-4 image and a kernel already of rank 4 (``full_kernel``: no
reshape).
"""

from __future__ import annotations

import math

import libcst as cst
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from jaxsynth.grammar.opspec import (
    Context,
    Operand,
    OpSpec,
    Proposal,
    binop,
    call,
    dotted,
    literal,
    method,
    subscript,
)
from jaxsynth.grammar.types import FLOATS, NUMERIC, DType, Interval, TensorType

CONV_DTYPES = FLOATS
#: (lhs, rhs, out) dimension-number strings by spatial rank and layout.
LAYOUTS = {
    (1, "channels_first"): ("NCH", "OIH", "NCH"),
    (1, "channels_last"): ("NHC", "HIO", "NHC"),
    (2, "channels_first"): ("NCHW", "OIHW", "NCHW"),
    (2, "channels_last"): ("NHWC", "HWIO", "NHWC"),
}


def same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    """XLA's ``SAME`` padding (``lax.padtype_to_pads``): output ``ceil(size / stride)``, extra on the high side."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def window_out(size: int, window: int, stride: int, pads: tuple[int, int], dilation: int = 1) -> int:
    """Output length of a strided window over ``size`` elements (dilated by ``dilation``) plus padding."""
    span = (size - 1) * dilation + 1 + pads[0] + pads[1]
    return (span - window) // stride + 1 if span >= window else 0


def _pick_input(out: int, window: int, stride: int, ctx: Context, mode: str, dilation: int = 1):
    """An input length and padding giving ``out`` windows, or None. ``mode``: VALID, SAME or explicit."""
    if mode == "SAME":
        size = out * stride - ctx.draw.randint(0, stride - 1)
        return (size, same_pads(size, window, stride)) if size >= 1 else None
    pads = (0, 0) if mode == "VALID" else (ctx.draw.randint(0, window - 1), ctx.draw.randint(0, window - 1))
    for r in range(stride):
        span = (out - 1) * stride + window + r - pads[0] - pads[1]
        if span >= 1 and (span - 1) % dilation == 0:
            size = (span - 1) // dilation + 1
            if window_out(size, window, stride, pads, dilation) == out:
                return size, pads
    return None


# ---------------------------------------------------------------- conv_general_dilated


def _propose_conv(t: TensorType, ctx: Context) -> Proposal | None:
    """Output rank 2: unbatched 1-D; rank 3: batched 1-D or unbatched 2-D."""
    if t.dtype not in CONV_DTYPES or t.rank not in (2, 3):
        return None
    nd = 2 if t.rank == 3 and ctx.draw.bernoulli(0.5) else 1
    batched = t.rank == 3 and nd == 1
    layout = ctx.draw.choice(("channels_first", "channels_last"))
    feature = t.shape[int(batched)] if layout == "channels_first" else t.shape[-1]
    out_spatial = t.shape[-nd:] if layout == "channels_first" else t.shape[-nd - 1 : -1]
    lhs_dil = tuple(2 if ctx.draw.bernoulli(0.15) else 1 for _ in range(nd))
    rhs_dil = tuple(2 if ctx.draw.bernoulli(0.2) else 1 for _ in range(nd))
    strides = tuple(2 if ctx.draw.bernoulli(0.3) else 1 for _ in range(nd))
    mode = ctx.draw.choice(("VALID", "SAME", "explicit"))
    if any(d > 1 for d in lhs_dil):
        mode = "explicit"  # string padding is not accepted with lhs dilation
    kernel, spatial, pads = [], [], []
    for o, s, ld, rd in zip(out_spatial, strides, lhs_dil, rhs_dil, strict=True):
        k = ctx.draw.randint(1, 3)
        picked = _pick_input(o, (k - 1) * rd + 1, s, ctx, mode, ld)
        if picked is None:
            return None
        kernel.append(k)
        spatial.append(picked[0])
        pads.append(picked[1])
    groups = ctx.draw.choice([g for g in (1, 2, 3, feature) if feature % g == 0])
    per_group = ctx.draw.randint(1, 3)
    channels = groups * per_group
    batch = (t.shape[0],) if batched else ()
    if layout == "channels_first":
        lhs = batch + (channels,) + tuple(spatial)
        rhs = (feature, per_group * math.prod(kernel)) if nd == 2 else (feature, per_group, kernel[0])
    else:
        lhs = batch + tuple(spatial) + (channels,)
        rhs = (kernel[0], kernel[1], per_group * feature) if nd == 2 else (kernel[0], per_group, feature)
    params = {"nd": nd, "batched": batched, "layout": layout, "kernel": tuple(kernel), "in_per_group": per_group,
              "features": feature, "strides": strides, "pads": tuple(pads), "padding": mode, "lhs_dilation": lhs_dil,
              "rhs_dilation": rhs_dil, "groups": groups}
    return Proposal((Operand(t.with_shape(lhs)), Operand(t.with_shape(rhs))), params)


def _conv_rhs_shape(params) -> tuple[int, ...]:
    """The kernel as conv_general_dilated sees it (rank nd + 2), in the layout's order."""
    k, i, o = params["kernel"], params["in_per_group"], params["features"]
    return (o, i) + k if params["layout"] == "channels_first" else k + (i, o)


def _batched_input(name: str, types, params) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """A convolution's input shape with its batch axis (added where unbatched), its channels and spatial dims;
    ``TypeError`` if the operands' dtypes differ or the input's rank does not fit ``nd``."""
    lhs, rhs = types
    if lhs.dtype is not rhs.dtype:
        raise TypeError(f"{name}: lhs {lhs} and rhs {rhs} dtypes differ")
    full = lhs.shape if params["batched"] else (1,) + lhs.shape
    if len(full) != params["nd"] + 2:
        raise TypeError(f"{name}: input {lhs} does not match the parameters")
    first = params["layout"] == "channels_first"
    return full, full[1] if first else full[-1], full[2:] if first else full[1:-1]


def _conv_output(name: str, lhs: TensorType, batch: int, out: tuple[int, ...], params) -> TensorType:
    """The result type: ``out`` spatial dims and the features, in the layout's order, unbatched where the input was."""
    if any(o < 1 for o in out):
        raise TypeError(f"{name}: empty output")
    first = params["layout"] == "channels_first"
    shape = (batch, params["features"]) + out if first else (batch,) + out + (params["features"],)
    return lhs.with_shape(shape if params["batched"] else shape[1:])


def _conv_type(types, params):
    full, channels, spatial = _batched_input("conv", types, params)
    rhs = types[1]
    if math.prod(rhs.shape) != math.prod(_conv_rhs_shape(params)):
        raise TypeError(f"conv: kernel {rhs} does not match the parameters")
    if params.get("full_kernel") and rhs.shape != _conv_rhs_shape(params):
        raise TypeError(f"conv: kernel {rhs} is not of shape {_conv_rhs_shape(params)}")
    if channels != params["groups"] * params["in_per_group"] or params["features"] % params["groups"]:
        raise TypeError("conv: feature groups do not divide the channels")
    out = tuple(
        window_out(n, (k - 1) * rd + 1, s, p, ld)
        for n, k, s, p, ld, rd in zip(spatial, params["kernel"], params["strides"], params["pads"],
                                      params["lhs_dilation"], params["rhs_dilation"], strict=True)
    )
    return _conv_output("conv", types[0], full[0], out, params)


def _conv_range(ins, types, out, params):
    terms = params["in_per_group"] * math.prod(params["kernel"])
    a, b = ins
    p = Interval.of(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
    return Interval(min(0.0, terms * p.lo), max(0.0, terms * p.hi))


def _dilate(x: np.ndarray, factors: tuple[int, ...]) -> np.ndarray:
    """Insert ``factor - 1`` zeros between elements along each trailing spatial axis."""
    if all(f == 1 for f in factors):
        return x
    lead = x.ndim - len(factors)
    shape = x.shape[:lead] + tuple((n - 1) * f + 1 for n, f in zip(x.shape[lead:], factors, strict=True))
    out = np.zeros(shape, dtype=x.dtype)
    out[(slice(None),) * lead + tuple(slice(None, None, f) for f in factors)] = x
    return out


def conv_reference(lhs: np.ndarray, rhs: np.ndarray, strides, pads, lhs_dilation, rhs_dilation, groups) -> np.ndarray:
    """Cross-correlation of ``lhs`` (N, C, *spatial) with ``rhs`` (O, I, *kernel), as XLA's convolution."""
    nd = lhs.ndim - 2
    lhs = np.pad(_dilate(lhs, tuple(lhs_dilation)), ((0, 0), (0, 0)) + tuple(tuple(p) for p in pads))
    rhs = _dilate(rhs, tuple(rhs_dilation))
    windows = sliding_window_view(lhs, rhs.shape[2:], axis=tuple(range(2, 2 + nd)))
    windows = windows[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides)]
    n, c = lhs.shape[:2]
    o = rhs.shape[0]
    windows = windows.reshape((n, groups, c // groups) + windows.shape[2:])
    kernel = rhs.reshape((groups, o // groups) + rhs.shape[1:])
    spatial = "xy"[:nd]
    taps = "ab"[:nd]
    out = np.einsum(f"ngc{spatial}{taps},goc{taps}->ngo{spatial}", windows, kernel)
    return out.reshape((n, o) + out.shape[3:])


def _channels_first(args, params, kernel_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A convolution's operands as :func:`conv_reference` takes them: the input batched, (N, C, *spatial), and the
    kernel of ``kernel_shape`` (in the layout's order) as (O, I, *k)."""
    lhs, rhs = args
    if not params["batched"]:
        lhs = lhs[None]
    rhs = rhs.reshape(kernel_shape)
    if params["layout"] != "channels_first":
        lhs = np.moveaxis(lhs, -1, 1)
        rhs = np.moveaxis(np.moveaxis(rhs, -1, 0), -1, 1)  # (*k, I, O) -> (O, I, *k)
    return lhs, rhs


def _in_layout(out: np.ndarray, params) -> np.ndarray:
    """:func:`conv_reference`'s (N, O, *spatial) result in the op's layout, unbatched where its input was."""
    if params["layout"] != "channels_first":
        out = np.moveaxis(out, 1, -1)
    return out if params["batched"] else out[0]


def _conv_reference(args, params):
    lhs, rhs = _channels_first(args, params, _conv_rhs_shape(params))
    return _in_layout(conv_reference(lhs, rhs, params["strides"], params["pads"], params["lhs_dilation"],
                                     params["rhs_dilation"], params["groups"]), params)


def _rendered_operands(args, params, kernel_shape: tuple[int, ...]) -> tuple[cst.BaseExpression, cst.BaseExpression]:
    """A convolution's rendered operands: ``x[None]`` for an unbatched input, a 2-D kernel stored with its channel
    axes merged reshaped to ``kernel_shape`` (rank 4)."""
    lhs, rhs = args
    if not params["batched"]:
        lhs = subscript(lhs, None)
    if params["nd"] == 2 and not params.get("full_kernel"):
        rhs = method(rhs, "reshape", *(literal(d) for d in kernel_shape))
    return lhs, rhs


def _dimension_numbers(nd: int, layout: str) -> cst.Tuple:
    return cst.Tuple([cst.Element(cst.SimpleString(repr(s))) for s in LAYOUTS[nd, layout]])


def _conv_render(args, params):
    lhs, rhs = _rendered_operands(args, params, _conv_rhs_shape(params))
    kwargs: dict = {}
    if params["padding"] == "explicit":
        padding: cst.BaseExpression = literal(params["pads"])
    else:
        padding = cst.SimpleString(repr(params["padding"]))
    if any(d > 1 for d in params["lhs_dilation"]):
        kwargs["lhs_dilation"] = params["lhs_dilation"]
    if any(d > 1 for d in params["rhs_dilation"]):
        kwargs["rhs_dilation"] = params["rhs_dilation"]
    kwargs["dimension_numbers"] = _dimension_numbers(params["nd"], params["layout"])
    if params["groups"] > 1:
        kwargs["feature_group_count"] = params["groups"]
    out = call("lax.conv_general_dilated", lhs, rhs, literal(params["strides"]), padding, **kwargs)
    return out if params["batched"] else subscript(out, 0)


# ---------------------------------------------------------------- conv_transpose

def transpose_pads(k: int, s: int, padding: str) -> tuple[int, int]:
    """The forward convolution's padding of one spatial dim of ``lax.conv_transpose`` with a kernel of ``k`` taps
    (dilated) and stride ``s`` (JAX's ``_conv_transpose_padding`` for ``SAME`` and ``VALID``)."""
    if padding == "SAME":
        total = k + s - 2
        before = k - 1 if s > k - 1 else -(-total // 2)
    else:
        total = k + s - 2 + max(k - s, 0)
        before = k - 1
    return before, total - before


def _propose_conv_transpose(t: TensorType, ctx: Context) -> Proposal | None:
    """An upsampling convolution (a decoder's, flax ``nn.ConvTranspose``): output rank 2 is an unbatched 1-D one,
    rank 3 a batched 1-D or an unbatched 2-D one; stride 2 (or 1), ``SAME`` or ``VALID``; channels last (JAX's
    default dimension numbers) or, now and then, first; ``transpose_kernel=True`` (the gradient of a conv) now and
    then. ``SAME`` with stride ``s`` multiplies each spatial size by ``s``."""
    if t.dtype not in CONV_DTYPES or t.rank not in (2, 3):
        return None
    nd = 2 if t.rank == 3 and ctx.draw.bernoulli(0.5) else 1
    batched = t.rank == 3 and nd == 1
    layout = "channels_first" if ctx.draw.bernoulli(0.3) else "channels_last"
    feature = t.shape[int(batched)] if layout == "channels_first" else t.shape[-1]
    out_spatial = t.shape[-nd:] if layout == "channels_first" else t.shape[-nd - 1 : -1]
    padding = ctx.draw.choice(("SAME", "VALID"))
    kernel, strides, spatial = [], [], []
    for out in out_spatial:
        k, s = ctx.draw.randint(1, 4), 2 if ctx.draw.bernoulli(0.6) else 1
        pads = transpose_pads(k, s, padding)
        size = next((n for n in range(1, out + 1) if window_out(n, k, 1, pads, s) == out), None)
        if size is None:
            return None
        kernel.append(k)
        strides.append(s)
        spatial.append(size)
    channels = ctx.draw.randint(1, 4)
    batch = (t.shape[0],) if batched else ()
    lhs = batch + ((channels,) + tuple(spatial) if layout == "channels_first" else tuple(spatial) + (channels,))
    params = {"nd": nd, "batched": batched, "layout": layout, "kernel": tuple(kernel), "in_per_group": channels,
              "features": feature, "strides": tuple(strides), "padding": padding,
              "transpose_kernel": ctx.draw.bernoulli(0.2)}
    return Proposal((Operand(t.with_shape(lhs)), Operand(t.with_shape(_stored_transpose_kernel(params)))), params)


def _transpose_kernel_shape(params) -> tuple[int, ...]:
    """The kernel as ``conv_transpose`` takes it (rank nd + 2): ``I`` the input channels and ``O`` the features,
    swapped where ``transpose_kernel`` (which flips the taps and swaps the two back)."""
    k, c, o = params["kernel"], params["in_per_group"], params["features"]
    i, o = (o, c) if params["transpose_kernel"] else (c, o)
    return (o, i) + k if params["layout"] == "channels_first" else k + (i, o)


def _stored_transpose_kernel(params) -> tuple[int, ...]:
    """The kernel operand: rank 3 at most (a 2-D kernel's two channel axes merged, reshaped in the rendering)."""
    shape = _transpose_kernel_shape(params)
    if params["nd"] == 1:
        return shape
    if params["layout"] == "channels_first":
        return shape[0], math.prod(shape[1:])
    return shape[:2] + (shape[2] * shape[3],)


def _conv_transpose_type(types, params):
    full, channels, spatial = _batched_input("conv_transpose", types, params)
    kernel = _transpose_kernel_shape(params) if params.get("full_kernel") else _stored_transpose_kernel(params)
    if types[1].shape != kernel:
        raise TypeError(f"conv_transpose: kernel {types[1]} is not of shape {kernel}")
    if channels != params["in_per_group"]:
        raise TypeError("conv_transpose: input channels do not match the kernel")
    out = tuple(window_out(n, k, 1, transpose_pads(k, s, params["padding"]), s)
                for n, k, s in zip(spatial, params["kernel"], params["strides"], strict=True))
    return _conv_output("conv_transpose", types[0], full[0], out, params)


def _conv_transpose_reference(args, params):
    """A convolution of the input dilated by the strides (zeros between its elements), padded as JAX pads it."""
    lhs, rhs = _channels_first(args, params, _transpose_kernel_shape(params))
    nd = params["nd"]
    if params["transpose_kernel"]:
        rhs = np.swapaxes(np.flip(rhs, axis=tuple(range(2, 2 + nd))), 0, 1)
    pads = [transpose_pads(k, s, params["padding"]) for k, s in zip(params["kernel"], params["strides"], strict=True)]
    return _in_layout(conv_reference(lhs, rhs, (1,) * nd, pads, params["strides"], (1,) * nd, 1), params)


def _conv_transpose_render(args, params):
    lhs, rhs = _rendered_operands(args, params, _transpose_kernel_shape(params))
    kwargs: dict = {}
    if params["layout"] == "channels_first":  # (channels last is JAX's default)
        kwargs["dimension_numbers"] = _dimension_numbers(params["nd"], "channels_first")
    if params["transpose_kernel"]:
        kwargs["transpose_kernel"] = True
    out = call("lax.conv_transpose", lhs, rhs, literal(params["strides"]),
               cst.SimpleString(repr(params["padding"])), **kwargs)
    return out if params["batched"] else subscript(out, 0)


# ---------------------------------------------------------------- reduce_window pooling


def _propose_pool(dtypes: frozenset[DType]):
    def propose(t: TensorType, ctx: Context) -> Proposal | None:
        if t.rank == 0 or t.dtype not in dtypes:
            return None
        pooled = ctx.draw.randint(1, min(2, t.rank))
        axes = tuple(range(t.rank - pooled, t.rank)) if ctx.draw.bernoulli(0.7) else tuple(range(pooled))
        mode = ctx.draw.choice(("VALID", "SAME", "explicit"))
        window, strides, pads, shape = [1] * t.rank, [1] * t.rank, [(0, 0)] * t.rank, list(t.shape)
        for axis in axes:
            w, s = ctx.draw.randint(1, 3), ctx.draw.randint(1, 2)
            picked = _pick_input(t.shape[axis], w, s, ctx, mode)
            if picked is None:
                return None
            size, pad = picked
            if (t.shape[axis] - 1) * s - pad[0] > size - 1:
                return None  # the last window would hold padding only
            window[axis], strides[axis], pads[axis], shape[axis] = w, s, pad, size
        params = {"window": tuple(window), "strides": tuple(strides), "pads": tuple(pads), "padding": mode}
        return Proposal((Operand(t.with_shape(tuple(shape))),), params)

    return propose


def _pool_type(types, params):
    (x,) = types
    if x.rank != len(params["window"]):
        raise TypeError(f"reduce_window: window rank {len(params['window'])} for operand {x}")
    shape = tuple(window_out(n, w, s, p) for n, w, s, p in zip(x.shape, params["window"], params["strides"],
                                                                params["pads"], strict=True))
    if any(n < 1 for n in shape):
        raise TypeError("reduce_window: empty output")
    return x.with_shape(shape)


def _padded(params) -> bool:
    return any(p != (0, 0) for p in params["pads"])


def _avg_pool_range(ins, types, out, params):
    return ins[0].hull(Interval(0.0, 0.0)) if _padded(params) else ins[0]


def _pool_init(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _pool_reference(kind: str):
    def reference(args, params):
        x = args[0]
        init = _pool_init(x.dtype) if kind == "max" else 0
        x = np.pad(x, params["pads"], constant_values=init)
        windows = sliding_window_view(x, params["window"])
        windows = windows[tuple(slice(None, None, s) for s in params["strides"])]
        axes = tuple(range(x.ndim, 2 * x.ndim))
        if kind == "max":
            return windows.max(axis=axes)
        return windows.sum(axis=axes) / math.prod(params["window"])

    return reference


def _pool_render(kind: str):
    def render(args, params):
        padding = literal(params["pads"]) if params["padding"] == "explicit" else cst.SimpleString(
            repr(params["padding"]))
        rest = (literal(params["window"]), literal(params["strides"]), padding)
        if kind == "avg":
            total = call("lax.reduce_window", args[0], literal(0.0), dotted("lax.add"), *rest)
            return binop(total, cst.Divide, literal(float(math.prod(params["window"]))))
        dtype = params["dtype"]
        init = unary_minus_inf() if dtype.is_float else call(f"jnp.{dtype.jnp_name}", literal(int(dtype.bounds.lo)))
        return call("lax.reduce_window", args[0], init, dotted("lax.max"), *rest)

    return render


def unary_minus_inf() -> cst.BaseExpression:
    return cst.UnaryOperation(operator=cst.Minus(), expression=dotted("jnp.inf"))


def _with_dtype(propose):
    def wrapped(t, ctx):
        proposal = propose(t, ctx)
        if proposal is not None:
            proposal.params["dtype"] = t.dtype
        return proposal

    return wrapped


# ---------------------------------------------------------------- jnp.convolve / jnp.correlate

CONVOLVE_DTYPES = FLOATS  # jnp.convolve promotes integers to float


def _propose_convolve(t: TensorType, ctx: Context) -> Proposal | None:
    if t.rank != 1 or t.dtype not in CONVOLVE_DTYPES:
        return None
    length = t.shape[0]
    mode = ctx.draw.choice(("full", "same", "valid"))
    if mode == "full":
        m = ctx.draw.randint(1, min(length, 5))
        n = length - m + 1
    elif mode == "same":
        n, m = length, ctx.draw.randint(1, min(length, 5))
    else:
        m = ctx.draw.randint(1, 4)
        n = length + m - 1
    return Proposal((Operand(t.with_shape((n,))), Operand(t.with_shape((m,)))), {"mode": mode})


def _convolve_type(types, params):
    a, v = types
    if a.rank != 1 or v.rank != 1 or a.dtype is not v.dtype:
        raise TypeError(f"convolve: needs two vectors of one dtype, got {a}, {v}")
    n, m = a.shape[0], v.shape[0]
    length = {"full": n + m - 1, "same": max(n, m), "valid": max(n, m) - min(n, m) + 1}[params["mode"]]
    return a.with_shape((length,))


def _convolve_range(ins, types, out, params):
    k = min(types[0].shape[0], types[1].shape[0])
    a, b = ins
    p = Interval.of(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
    return Interval(min(0.0, k * p.lo), max(0.0, k * p.hi))


# ---------------------------------------------------------------- jax.image.resize

#: ``jax.image.resize``'s kernels (``linear``: a triangle; ``cubic``: Keys' with a = -0.5), both continuous, as
#: JAX's ``compute_weight_mat`` (antialiased: a downsampling kernel is widened by the scale).
RESIZE_METHODS = ("linear", "linear", "cubic")


def _resize_kernel(method: str, x: np.ndarray) -> np.ndarray:
    if method == "linear":
        return np.maximum(0.0, 1.0 - np.abs(x))
    inner = ((1.5 * x - 2.5) * x) * x + 1.0
    outer = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, outer, inner))


def _sample_positions(size: int, out: int) -> np.ndarray:
    """Where each output element samples the input axis (half-pixel centres), in input elements."""
    return (np.arange(out) + 0.5) * (size / out) - 0.5


def resize_weights(size: int, out: int, method: str, shift: float = 0.0) -> np.ndarray:
    """The (size, out) matrix that resamples one axis of ``size`` elements to ``out``, in float64 (with every
    sample position moved by ``shift``)."""
    inv_scale = size / out
    sample = _sample_positions(size, out) + shift
    x = np.abs(sample[None, :] - np.arange(size)[:, None]) / max(inv_scale, 1.0)
    weights = _resize_kernel(method, x)
    total = weights.sum(axis=0, keepdims=True)
    eps32 = float(np.finfo(np.float32).eps)
    weights = np.where(np.abs(total) > 1000.0 * eps32, weights / np.where(total != 0, total, 1.0), 0.0)
    return np.where(((sample >= -0.5) & (sample <= size - 0.5))[None, :], weights, 0.0)


def _resample(x: np.ndarray, axis: int, weights: np.ndarray) -> np.ndarray:
    return np.moveaxis(np.tensordot(x, weights, axes=([axis], [0])), -1, axis)


def _resized_axes(shape, params) -> list[int]:
    return [axis for axis, (n, m) in enumerate(zip(shape, params["shape"], strict=True)) if n != m]


def _resize_reference(args, params):
    x = np.asarray(args[0])
    for axis in _resized_axes(x.shape, params):
        x = _resample(x, axis, resize_weights(x.shape[axis], params["shape"][axis], params["method"]))
    return x


#: Step (in input elements) of the one-sided differences that give a resize's slope in its sample positions.
_POSITION_STEP = 1e-6


def _resize_error(args, params, value):
    """Sums of products with weights that are themselves rounded (in the operand's dtype), plus the weights' error
    from their sample positions: JAX computes ``(i + 0.5) * (size / out) - 0.5`` in float32, a few ulps of the
    position (up to 1,000 elements: about 1e-4), and a weight moves by that times the kernel's slope. That moves
    an output by the position's error times the result's slope in it (one-sided: the linear kernel has kinks)."""
    x = np.asarray(args[0])
    axes = _resized_axes(x.shape, params)
    total = np.abs(x)
    for axis in axes:
        total = _resample(total, axis, np.abs(resize_weights(x.shape[axis], params["shape"][axis], params["method"])))
    total = 4.0 * total
    for moved in axes:
        y = x
        for axis in axes:
            if axis != moved:
                y = _resample(y, axis, resize_weights(x.shape[axis], params["shape"][axis], params["method"]))
        size, out = x.shape[moved], params["shape"][moved]
        centre = resize_weights(size, out, params["method"])
        slope = np.zeros(np.shape(value))
        for shift in (_POSITION_STEP, -_POSITION_STEP):
            step = (resize_weights(size, out, params["method"], shift) - centre) / _POSITION_STEP
            slope = np.maximum(slope, np.abs(_resample(y, moved, step)))
        position = 2.0 * (np.abs(_sample_positions(size, out)) + 1.0)
        total = total + slope * position.reshape([-1 if k == moved else 1 for k in range(x.ndim)])
    return total


def _propose_resize(t: TensorType, ctx: Context) -> Proposal | None:
    """``jax.image.resize(x, shape, method)``: one or two axes (of the last two, an image's) resized up or down."""
    if t.dtype not in FLOATS or t.rank == 0:
        return None
    axes = range(max(0, t.rank - 2), t.rank) if t.rank >= 2 and ctx.draw.bernoulli(0.6) else (t.rank - 1,)
    shape = list(t.shape)
    for axis in axes:
        size = ctx.pick_dim()  # another length: an axis of the same length is not resized
        shape[axis] = size if size != t.shape[axis] else size + 1
    params = {"shape": t.shape, "method": ctx.draw.choice(RESIZE_METHODS), "image": len(axes) == 2}
    return Proposal((Operand(t.with_shape(tuple(shape))),), params)


def _resize_type(types, params):
    (x,) = types
    if x.rank != len(params["shape"]) or x.rank == 0:
        raise TypeError(f"resize: {x} is not of rank {len(params['shape'])}")
    return x.with_shape(tuple(params["shape"]))


def _resize_range(ins, types, out, params):
    """A linear resize is a convex combination; a cubic one's weights sum to 1 with negative ones: its result
    is at most the largest sum of their magnitudes per axis times the operand's magnitude."""
    x = ins[0]
    if params["method"] == "linear":
        return x
    gain = math.prod(float(np.abs(resize_weights(n, m, "cubic")).sum(axis=0).max())
                     for n, m in zip(types[0].shape, params["shape"], strict=True) if n != m)
    return Interval(-gain * x.mag, gain * x.mag)


def _resize_render(args, params):
    """An image's two axes resized are ``bilinear``/``bicubic`` (the same kernels), as image code writes them."""
    method = ("bi" + params["method"]) if params["image"] else params["method"]
    return call("jax.image.resize", args[0], literal(tuple(params["shape"])), cst.SimpleString(repr(method)))


def sum_of_terms(reference):
    """Error model of a sum: the same op on the terms' magnitudes (reassociation error scales with it)."""
    return lambda args, params, value: reference([np.abs(a) for a in args], params)


def _window(name, family, dtypes, propose, type_rule, range_rule, reference, render, differentiable=True,
            summed=True):
    return OpSpec(name=name, category="window", family=family, dtypes=dtypes, propose=propose, type_rule=type_rule,
                  range_rule=range_rule, reference=reference, render=render, differentiable=differentiable,
                  error_scale=sum_of_terms(reference) if summed else None)


WINDOW_OPS: tuple[OpSpec, ...] = (
    _window("conv", "conv", CONV_DTYPES, _propose_conv, _conv_type, _conv_range, _conv_reference, _conv_render),
    _window("conv_transpose", "conv_transpose", CONV_DTYPES, _propose_conv_transpose, _conv_transpose_type, _conv_range,
            _conv_transpose_reference, _conv_transpose_render),
    # max pooling's gradient jumps where two elements of a window tie (common after broadcasts)
    _window("max_pool", "max_pool", NUMERIC, _with_dtype(_propose_pool(NUMERIC)), _pool_type,
            lambda i, t, o, p: i[0], _pool_reference("max"), _pool_render("max"), differentiable=False, summed=False),
    _window("avg_pool", "avg_pool", FLOATS, _with_dtype(_propose_pool(FLOATS)), _pool_type, _avg_pool_range,
            _pool_reference("avg"), _pool_render("avg")),
    _window("convolve", "convolve", CONVOLVE_DTYPES, _propose_convolve, _convolve_type, _convolve_range,
            lambda a, p: np.convolve(a[0], a[1], mode=p["mode"]),
            lambda a, p: call("jnp.convolve", a[0], a[1], mode=cst.SimpleString(repr(p["mode"])))),
    _window("correlate", "convolve", CONVOLVE_DTYPES, _propose_convolve, _convolve_type, _convolve_range,
            lambda a, p: np.correlate(a[0], a[1], mode=p["mode"]),
            lambda a, p: call("jnp.correlate", a[0], a[1], mode=cst.SimpleString(repr(p["mode"])))),
    OpSpec(name="resize", category="window", family="resize", dtypes=FLOATS, propose=_propose_resize,
           type_rule=_resize_type, range_rule=_resize_range, reference=_resize_reference, render=_resize_render,
           error_scale=_resize_error, weight=0.5),
)
