"""Composite productions: model and training idioms that expand into ordinary op nodes of the table.

A composite (``dense``, ``layer_norm``, ``attention``, ``lstm``, ``adam``, ...) is sampled like an op,
where the config gives it a weight (``[composites]``): asked for a value of type ``t``, it builds the
value from ops of the table through the sampler's own checked ``apply`` (type rule, range rule and
the config's op weights hold for every node, so a weight of 0 still means never), creates parameter
inputs with init-scale ranges (a kernel of fan-in ``d`` lies in ``[-1/d, 1/d]``), and asks the sampler
for its data operands (which may be composites again: stacked layers). The result is a plain
``Program``: interpreter, lowering, fuzzer and reducer need no special case.

Where a composite knows a sound bound that interval arithmetic cannot see (``x - max(x) <= 0``,
``sum(exp(x - max(x))) >= 1``, ``|layer_norm(x)| <= sqrt(n)``) it *refines* the node's interval with
it (the intersection of both). Each bound is an identity of exact arithmetic that rounding cannot break
by more than the margin added, so the fuzzer's interval checks still hold.

Every decision draws from the program's one ``Draw``, so a program stays a function of
(config, seed, index). Names (``logits``, ``attn_weights``) are hints the renderer uses when
``style.names = "idiomatic"``; a parameter's hint is a path (``dense_0/kernel``), and the sampler groups
those into one nested ``params`` dict argument (``params["dense_0"]["kernel"]``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jaxsynth.grammar.config import SPELLINGS, ConfigError, GrammarConfig
from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_nn import ATTENTION_DTYPES
from jaxsynth.grammar.ops_window import same_pads, window_out
from jaxsynth.grammar.types import DType, Interval, TensorType

INF = math.inf


class Builder(Protocol):
    """What a composite may use of the sampler (``synth.sample._Builder``)."""

    draw: Any
    dims: tuple[int, ...]
    config: GrammarConfig

    def gen(self, t: TensorType, budget: int, depth: int, need: Interval | None = None) -> int | None: ...
    def type_of(self, node: int) -> TensorType: ...
    def interval_of(self, node: int) -> Interval: ...
    def param(self, t: TensorType, interval: Interval, hint: str) -> int: ...
    def op(self, name: str, args: list[int], params: dict[str, Any] | None = None, hint: str | None = None,
           refine: Interval | None = None) -> int | None: ...
    def const(self, dtype: DType, value: float) -> int: ...
    def spelling(self, key: str) -> str: ...
    def counter(self, prefix: str) -> str: ...
    def scan(self, carries: list[int], xs: int, body: Callable[..., tuple[list[int], int] | None], hint: str
             ) -> list[int] | None: ...
    def extra_output(self, node: int) -> None: ...
    def transform(self, name: str, args: list[int], body: Callable[[list[int]], list[int]], params: dict[str, Any],
                  hint: str) -> list[int] | None: ...


class Fail(Exception):
    """This composite cannot produce the wanted value here (an expected rejection, not a bug)."""


def need(node: int | None) -> int:
    if node is None:
        raise Fail
    return node


@dataclass(frozen=True, slots=True)
class Composite:
    """One production: ``build(builder, t, budget, depth)`` returns a node of type ``t`` or raises ``Fail``.

    ``cost`` is about how many op nodes it adds itself (the rest of the budget goes to its inputs);
    ``function`` names a function whose result it is (``style.names = "idiomatic"``); ``ranks`` are the
    result ranks it can build (the sampler picks a function's result type from them); ``shape(builder)``, where
    given, draws the shape of a function result it builds (one the production can hold: a decoder's image size,
    attention scores and sequences that fit ``max_elements``) instead of a dim per rank, or raises ``Fail``."""

    name: str
    build: Callable[[Builder, TensorType, int, int], int]
    cost: int
    function: str
    ranks: tuple[int, ...] = (1, 2, 3)
    shape: Callable[[Builder], tuple[int, ...]] | None = None


# ------------------------------------------------------------------------------------------------ helpers


def _float(t: TensorType) -> bool:
    return t.dtype.is_float and t.dtype is not DType.float16


def _lit(b: Builder, dtype: DType, value: float) -> int:
    return b.const(dtype, value)


def _matmul(b: Builder, x: int, w: int, hint: str | None = None) -> int:
    """``x @ w`` for ``x`` of shape (..., k) and ``w`` of shape (k, n), in one of the seed's spellings."""
    xt, wt = b.type_of(x), b.type_of(w)
    k = wt.shape[0]
    spelling = b.spelling("matmul")
    if spelling == "jnp.einsum":
        letters = "abcdefgh"[: xt.rank - 1]
        spec = f"{letters}k,kn->{letters}n"
        return need(b.op("einsum", [x, w], {"spec": spec, "k": k}, hint))
    if spelling == "jnp.dot":
        return need(b.op("dot", [x, w], {"k": k}, hint))
    params = {"k": k} if spelling == "@" else {"k": k, "style": "fn"}
    return need(b.op("matmul", [x, w], params, hint))


def _reduce(b: Builder, name: str, x: int, axis: int | None, keepdims: bool, hint: str | None = None,
            refine: Interval | None = None, **extra: Any) -> int:
    if axis is not None and axis < 0:  # the reduction rows take a non-negative axis
        axis += b.type_of(x).rank
    params: dict[str, Any] = {"axis": axis, "keepdims": keepdims, **extra}
    if b.spelling("reductions") == "method":
        params["style"] = "method"
    return need(b.op(name, [x], params, hint, refine))


def _activation(b: Builder, x: int, hint: str | None = None) -> int:
    """relu (``jnp.maximum(x, 0)`` or ``jax.nn.relu``), tanh, sigmoid or gelu (tanh form, spelled out)."""
    dtype = b.type_of(x).dtype
    kind = b.draw.choice(("relu", "relu", "tanh", "sigmoid", "gelu"))
    if kind == "relu":
        if b.spelling("relu") == "jax.nn.relu" and "relu" in REGISTRY:
            return need(b.op("relu", [x], {}, hint))
        return need(b.op("maximum", [x, _lit(b, dtype, 0.0)], {"literal_args": (1,)}, hint))
    if kind == "gelu" and b.spelling("gelu") == "jax.nn.gelu" and "gelu" in REGISTRY:
        return need(b.op("gelu", [x], {"approximate": b.draw.bernoulli(0.5)}, hint))
    if kind == "gelu":  # 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x**3)))
        cube = need(b.op("pow_scalar", [x], {"exponent": 3}))
        inner = need(b.op("add", [x, need(b.op("scale", [_lit(b, dtype, 0.044715), cube], {"literal_args": (0,)}))]))
        t = need(b.op("tanh", [need(b.op("scale", [_lit(b, dtype, 0.7978845608), inner], {"literal_args": (0,)}))]))
        half = need(b.op("scale", [_lit(b, dtype, 0.5), x], {"literal_args": (0,)}))
        return need(b.op("multiply", [half, need(b.op("offset", [t, _lit(b, dtype, 1.0)], {"literal_args": (1,)}))],
                         {}, hint))
    return need(b.op(kind, [x], {}, hint))


def _kernel(b: Builder, prefix: str, fan_in: int, fan_out: int, dtype: DType) -> int:
    scale = 1.0 / fan_in
    return b.param(TensorType(dtype, (fan_in, fan_out)), Interval(-scale, scale), f"{prefix}/kernel")


def _bias(b: Builder, prefix: str, n: int, dtype: DType) -> int:
    return b.param(TensorType(dtype, (n,)), Interval(-0.1, 0.1), f"{prefix}/bias")


#: Interval of a data input a composite creates itself (activations, gradients): a unit-scale range.
DATA_RANGE = Interval(-1.0, 1.0)


def _input_of(b: Builder, t: TensorType, budget: int, depth: int, hint: str, need_range: Interval | None = None
              ) -> int:
    """The composite's data operand: a fresh input named ``hint`` (more often the smaller the budget), or a
    value the sampler builds (possibly another composite: stacked layers)."""
    if budget < 3 or b.draw.bernoulli(0.25):
        interval = DATA_RANGE if need_range is None else need_range
        return b.param(t, Interval(max(interval.lo, -1.0), min(interval.hi, 1.0)), hint)
    return need(b.gen(t, budget, depth - 1, need_range))


def _eps(dtype: DType) -> float:
    """A norm's or Adam's epsilon: twice the dtype's domain margin (rsqrt and division keep that far from 0;
    rounding of the rest must not eat the gap), so 2e-3 in float32 rather than the usual 1e-5."""
    return 2 * dtype.margin


# ------------------------------------------------------------------------------------------------ layers


def dense(b: Builder, t: TensorType, budget: int, depth: int, activation: bool | None = None) -> int:
    """``act(x @ kernel + bias)`` for ``t`` of shape (..., n)."""
    if not _float(t) or t.rank < 1 or t.rank > 3:
        raise Fail
    n = t.shape[-1]
    k = _width(b, n, t.size // n)
    prefix = b.counter('dense')
    x = _input_of(b, t.with_shape(t.shape[:-1] + (k,)), budget - 3, depth, "x")
    kernel = _kernel(b, prefix, k, n, t.dtype)
    y = _matmul(b, x, kernel, "h" if activation is not False else "logits")
    y = need(b.op("add", [y, _bias(b, prefix, n, t.dtype)], {}, "h"))
    if activation is None:
        activation = b.draw.bernoulli(0.7)
    return _activation(b, y, "h") if activation else y


def mlp(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """Two dense layers with an activation between them; a residual connection when shapes allow."""
    if not _float(t) or t.rank < 1 or t.rank > 3:
        raise Fail
    n = t.shape[-1]
    hidden = _width(b, n, t.size // n)
    prefix = b.counter('mlp')
    x = _input_of(b, t, budget - 7, depth, "x")
    h = _matmul(b, x, _kernel(b, f"{prefix}/fc1", n, hidden, t.dtype), "h")
    h = need(b.op("add", [h, _bias(b, f"{prefix}/fc1", hidden, t.dtype)], {}, "h"))
    h = _activation(b, h, "h")
    y = _matmul(b, h, _kernel(b, f"{prefix}/fc2", hidden, n, t.dtype), "out")
    y = need(b.op("add", [y, _bias(b, f"{prefix}/fc2", n, t.dtype)], {}, "out"))
    if b.draw.bernoulli(0.5):
        y = need(b.op("add", [x, y], {}, "out"))
    return y


def _pick(b: Builder, options: list[int]) -> int:
    """One of ``options`` (those that fit), drawn; ``Fail`` where none does."""
    if not options:
        raise Fail
    return b.draw.choice(options)


def _width(b: Builder, *others: int) -> int:
    """A feature width from the config's dims whose product with each of ``others`` fits ``max_elements``: drawn
    before the layer's input, whose building was otherwise wasted on a kernel too large to create."""
    limit = b.config.types.max_elements
    return _pick(b, [d for d in b.dims if all(d * other <= limit for other in others)])


def _plus_eps(b: Builder, x: int, eps: float) -> int:
    """``x + eps`` for a nonnegative ``x`` (a variance, a mean square, Adam's ``sqrt(nu_hat)``), known to be at least
    ``eps`` as the dtype rounds it: rounding is monotone, so ``x + eps`` rounds to no less than ``eps`` does. Interval
    arithmetic cannot see it: its rounding slack grows with ``x``'s upper bound, and in bfloat16 a variance up to 1
    came out as ``[-0.013, 1.08]``, outside ``rsqrt``'s domain (a pinned ``layer_norm`` then failed after building
    its input, tens of thousands of times a program)."""
    dtype = b.type_of(x).dtype
    return need(b.op("offset", [x, _lit(b, dtype, eps)], {"literal_args": (1,)},
                     refine=Interval(eps * (1 - 2 * dtype.eps), INF)))


def _norm_bound(n: int) -> Interval:
    bound = math.sqrt(n) * 1.01 + 1e-2
    return Interval(-bound, bound)


def layer_norm(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """``(x - mean) * rsqrt(var + eps) * scale + bias`` over the last axis (``var`` spelled out, or ``jnp.var``)."""
    if not _float(t) or t.rank < 1:
        raise Fail
    n = t.shape[-1]
    prefix = b.counter('layer_norm')
    x = _input_of(b, t, budget - 9, depth, "x")
    mean = _reduce(b, "mean", x, -1, True, "mean")
    centered = need(b.op("subtract", [x, mean], {}, "centered"))
    if b.spelling("variance") == "jnp.var" and b.config.allows("var"):
        var = _reduce(b, "var", x, -1, True, "var", refine=Interval(0.0, INF), ddof=0)
    else:
        var = _reduce(b, "mean", need(b.op("square", [centered])), -1, True, "var", refine=Interval(0.0, INF))
    inv = need(b.op("rsqrt", [_plus_eps(b, var, _eps(t.dtype))]))
    y = need(b.op("multiply", [centered, inv], {}, "normed", refine=_norm_bound(n)))
    scale = b.param(TensorType(t.dtype, (n,)), Interval(0.5, 1.5), f"{prefix}/scale")
    y = need(b.op("multiply", [y, scale], {}, "normed"))
    return need(b.op("add", [y, _bias(b, prefix, n, t.dtype)], {}, "normed"))


def rms_norm(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """``x * rsqrt(mean(x**2) + eps) * scale`` over the last axis."""
    if not _float(t) or t.rank < 1:
        raise Fail
    n = t.shape[-1]
    prefix = b.counter('rms_norm')
    x = _input_of(b, t, budget - 6, depth, "x")
    ms = _reduce(b, "mean", need(b.op("square", [x])), -1, True, "mean_square", refine=Interval(0.0, INF))
    inv = need(b.op("rsqrt", [_plus_eps(b, ms, _eps(t.dtype))]))
    y = need(b.op("multiply", [x, inv], {}, "normed", refine=_norm_bound(n)))
    scale = b.param(TensorType(t.dtype, (n,)), Interval(0.5, 1.5), f"{prefix}/scale")
    return need(b.op("multiply", [y, scale], {}, "normed"))


def _softmax(b: Builder, scores: int, hint: str) -> int:
    """``jax.nn.softmax(s, axis=-1)`` or, spelled out, ``exp(s - max(s)) / sum(exp(s - max(s)))`` with its
    sound bounds. The op refuses scores whose spread reaches past ``exp``'s underflow (a mask's ``-1e4``: every
    masked attention), and those are spelled out whatever the seed's spelling."""
    dtype = b.type_of(scores).dtype
    if b.spelling("softmax") == "jax.nn.softmax" and "softmax" in REGISTRY:
        node = b.op("softmax", [scores], {"axis": b.type_of(scores).rank - 1}, hint)
        if node is not None:
            return node
    peak = _reduce(b, "max", scores, -1, True)
    shifted = need(b.op("subtract", [scores, peak], {}, refine=Interval(-INF, 0.0)))
    e = need(b.op("exp", [shifted]))
    total = _reduce(b, "sum", e, -1, True, refine=Interval(1.0 - 4 * dtype.eps, INF))
    return need(b.op("divide", [e, total], {}, hint, refine=Interval(0.0, 1.0 + 4 * dtype.eps)))


def _logsumexp(b: Builder, x: int, hint: str) -> int:
    dtype = b.type_of(x).dtype
    peak = _reduce(b, "max", x, -1, True)
    shifted = need(b.op("subtract", [x, peak], {}, refine=Interval(-INF, 0.0)))
    total = _reduce(b, "sum", need(b.op("exp", [shifted])), -1, True, refine=Interval(1.0 - 4 * dtype.eps, INF))
    return need(b.op("add", [need(b.op("log", [total])), peak], {}, hint))


def attention(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """Multi-head self-attention over (batch, seq, d_model): projections, heads split by reshape and
    transpose (or ``.swapaxes(1, 2)``), grouped-query attention now and then (fewer key/value heads, each
    shared by a group of query heads through ``jnp.repeat``), scaled scores, an optional mask
    (``jnp.where(mask, s, -1e4)``: the grammar caps float magnitudes at 1e6), softmax, output projection."""
    if not _float(t) or t.rank != 3:
        raise Fail
    batch, seq, d = t.shape
    # the scores, (batch, heads, seq, seq), must fit before the input is built
    limit = b.config.types.max_elements
    heads = _pick(b, [h for h in ([h for h in (1, 2, 4, 8) if d % h == 0 and d // h >= 2] or [1])
                      if batch * h * seq * seq <= limit])
    dh = d // heads
    prefix = b.counter('attention')
    # |q|, |k| <= |x| (kernels within 1/fan_in), so the scores stay within dh * |x|**2 under the dtype's cap
    reach = math.sqrt(t.dtype.bounds.hi / (2 * dh))
    x = _input_of(b, t, budget - 16, depth, "x", Interval(-reach, reach))
    swap = heads > 1 and b.config.allows("swapaxes") and b.draw.bernoulli(0.4)
    groups = (b.draw.choice([g for g in (2, 4) if heads % g == 0])
              if heads > 1 and b.config.allows("repeat") and b.draw.bernoulli(0.3) else 1)

    def heads_axis_swapped(y: int, name: str) -> int:  # (batch, seq, heads, dh) <-> (batch, heads, seq, dh)
        if swap:
            return need(b.op("swapaxes", [y], {"axes": (1, 2), "style": "method"}, name))
        return need(b.op("transpose", [y], {"perm": (0, 2, 1, 3)}, name))

    def project(name: str, n_heads: int = heads) -> int:
        y = _projection(b, t, x, prefix, name, n_heads, dh, split=heads > 1)
        if heads == 1:
            return y
        y = heads_axis_swapped(y, name)
        if n_heads < heads:  # each key/value head serves ``groups`` query heads
            y = need(b.op("repeat", [y], {"repeats": heads // n_heads, "axis": 1}, name))
        return y

    if (heads > 1 and t.dtype in ATTENTION_DTYPES and b.config.allows("dot_product_attention")
            and b.spelling("attention") == "jax.nn.dot_product_attention"):
        return _attention_output(b, t, x, _fused_attention(b, t, x, prefix, heads, groups), prefix)
    q, k, v = project("q"), project("k", heads // groups), project("v", heads // groups)
    spec = "bqd,bkd->bqk" if heads == 1 else "bhqd,bhkd->bhqk"
    scores = need(b.op("einsum", [q, k], {"spec": spec, "k": dh}, "scores"))
    scores = need(b.op("scale", [_lit(b, t.dtype, round(1 / math.sqrt(dh), 6)), scores], {"literal_args": (0,)},
                       "scores"))
    if b.draw.bernoulli(0.6):
        causal = b.draw.bernoulli(0.5)
        mask = None
        if causal and b.config.allows("tri"):  # jnp.tri(seq, dtype=bool): position q sees keys k <= q
            mask = b.op("tri", [], {"shape": (seq, seq), "k": 0, "dtype": DType.bool}, "causal_mask")
        if mask is None:  # a padding mask (batch, 1, [1,] seq), or a causal one given as an input
            mask_shape = (seq, seq) if causal else (batch,) + (1,) * (heads > 1) + (1, seq)
            mask = b.param(TensorType(DType.bool, mask_shape), Interval(0, 1), "mask")
        scores = need(b.op("where", [mask, scores, _lit(b, t.dtype, -1e4)], {}, "scores"))
    weights = _softmax(b, scores, "attn_weights")
    spec = "bqk,bkd->bqd" if heads == 1 else "bhqk,bhkd->bhqd"
    out = need(b.op("einsum", [weights, v], {"spec": spec, "k": seq}, "attn_out"))
    if heads > 1:
        out = heads_axis_swapped(out, "attn_out")
        out = need(b.op("reshape", [out], {"shape": (batch, seq, d), "style": "method"}, "attn_out"))
    return _attention_output(b, t, x, out, prefix)


def _attention_shape(b: Builder) -> tuple[int, ...]:
    """(batch, seq, d_model) whose one-head scores, (batch, seq, seq), fit ``max_elements``."""
    limit = b.config.types.max_elements
    seq = b.draw.choice([s for s in b.dims if s * s * min(b.dims) <= limit] or [0])
    if not seq:
        raise Fail
    return (_width(b, seq * seq), seq, b.draw.choice(b.dims))


def _projection(b: Builder, t: TensorType, x: int, prefix: str, name: str, heads: int, dh: int,
                split: bool = True) -> int:
    """A query, key or value projection of (batch, seq, d_model) ``x`` to ``heads * dh`` features (a kernel
    ``params[prefix][name]``), split into (batch, seq, heads, dh) where ``split``."""
    batch, seq, d = t.shape
    y = _matmul(b, x, _kernel(b, f"{prefix}/{name}", d, heads * dh, t.dtype), name)
    if not split:
        return y
    return need(b.op("reshape", [y], {"shape": (batch, seq, heads, dh), "style": "method"}, name))


def _attention_output(b: Builder, t: TensorType, x: int, out: int, prefix: str) -> int:
    """The output projection of the heads' concatenated (batch, seq, d_model) result, and a residual now and then."""
    d = t.shape[-1]
    out = _matmul(b, out, _kernel(b, f"{prefix}/out", d, d, t.dtype), "attn_out")
    if b.draw.bernoulli(0.5):
        out = need(b.op("add", [x, out], {}, "hidden"))
    return out


def _fused_attention(b: Builder, t: TensorType, x: int, prefix: str, heads: int, groups: int) -> int:
    """The heads' (batch, seq, d_model) result of the same attention as one ``jax.nn.dot_product_attention`` over
    (batch, seq, heads, dh) projections, as recent model code writes it: key/value heads shared natively (no
    ``jnp.repeat``), ``is_causal=True`` now and then (a padding mask is the spelled-out form's)."""
    batch, seq, d = t.shape
    dh = d // heads
    q, k, v = (_projection(b, t, x, prefix, name, n, dh) for name, n in
               (("q", heads), ("k", heads // groups), ("v", heads // groups)))
    out = need(b.op("dot_product_attention", [q, k, v], {"is_causal": b.draw.bernoulli(0.4)}, "attn_out"))
    return need(b.op("reshape", [out], {"shape": (batch, seq, d), "style": "method"}, "attn_out"))


def dropout(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """``keep = jax.random.bernoulli(rng, keep_prob, x.shape)``; ``jnp.where(keep, x / keep_prob, 0)``, the key
    a program input; where the config excludes ``bernoulli``, the keep mask is an input instead."""
    if not _float(t) or t.rank < 1:
        raise Fail
    keep_prob = b.draw.choice((0.5, 0.8, 0.9))
    x = _input_of(b, t, budget - 2, depth, "x")
    keep = None
    if b.config.allows("bernoulli"):
        rng = b.param(TensorType(DType.key, ()), DType.key.bounds, "rng")
        keep = b.op("bernoulli", [rng], {"out": TensorType(DType.bool, t.shape), "p": keep_prob}, "keep")
    if keep is None:
        keep = b.param(TensorType(DType.bool, t.shape), Interval(0, 1), "keep_mask")
    scaled = need(b.op("div_scalar", [x, _lit(b, t.dtype, keep_prob)], {"literal_args": (1,)}))
    return need(b.op("where", [keep, scaled, _lit(b, t.dtype, 0.0)], {}, "dropped"))


def _vocab_sizes(b: Builder, d: int) -> list[int]:
    """Vocabulary sizes for an embedding of width ``d``: multiples of the program's dims whose table fits."""
    limit = b.config.types.max_elements
    return sorted({v for dim in b.dims for v in (dim, 4 * dim, 16 * dim) if v >= 2 and v * d <= limit}) or [2]


def embedding(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """flax ``nn.Embed``: a table ``params["embed_N"]["embedding"]`` of shape (vocab, d_model) looked up at int32
    token ids (batch, seq), ``jnp.take(table, tokens, axis=0)`` or ``table[tokens]`` (a JAXPR ``gather``), giving
    (batch, seq, d_model). The ids range over [0, vocab - 1], so the gather's range rule proves them in bounds
    and the result's interval is the table's. Sometimes the tied output projection instead (``t`` is then
    (batch, seq, vocab)): ``logits = (embedded + x) @ table.T``."""
    if not _float(t) or t.rank not in (2, 3):
        raise Fail
    tied = b.draw.bernoulli(0.25)
    if tied:
        vocab, d = t.shape[-1], b.draw.choice(b.dims)
    else:
        d = t.shape[-1]
        vocab = b.draw.choice(_vocab_sizes(b, d))
    prefix = b.counter("embed")
    scale = 1.0 / math.sqrt(d)  # nn.Embed's default init: variance 1 / d_model
    table = b.param(TensorType(t.dtype, (vocab, d)), Interval(-scale, scale), f"{prefix}/embedding")
    tokens = b.param(TensorType(DType.int32, t.shape[:-1]), Interval(0, vocab - 1), "tokens")
    params: dict[str, Any] = {"axis": 0}
    if b.spelling("embedding") == "jnp.take":
        params["style"] = "take"
    embedded = need(b.op("gather", [table, tokens], params, "embedded"))
    if not tied:
        return embedded
    x = _input_of(b, t.with_shape(t.shape[:-1] + (d,)), budget - 4, depth, "x")
    h = need(b.op("add", [embedded, x], {}, "h"))
    return _matmul(b, h, need(b.op("transpose", [table], {"perm": (1, 0)})), "logits")


#: Image sides (feature maps, MNIST, CIFAR) and channel counts of a CNN layer.
IMAGE_SIDES = (8, 16, 28, 32)
CHANNELS = (8, 16, 32, 64)
#: Multiply-adds of one convolution at most (its numpy reference serves the interpreter and the fuzzer).
MAX_CONV_MACS = 50_000_000


def _conv_sides(batch: int, side: int, c_in: int, layers, n: int, limit: int) -> int | None:
    """The side of the last pooled feature map if every value of the block fits ``limit`` elements (and the
    kernels and the dense head too), else ``None``."""
    c = c_in
    for k, stride, padding, c_out, _ in layers:
        out = window_out(side, k, stride, same_pads(side, k, stride) if padding == "SAME" else (0, 0))
        if out < 2 or batch * side * side * c > limit or batch * out * out * c_out > limit:
            return None
        if batch * out * out * k * k * c * c_out > MAX_CONV_MACS:
            return None
        side, c = out // 2, c_out
    return side if side * side * c * n <= limit else None


def conv_block(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """A flax CNN: one or two layers of ``nn.Conv`` over NHWC images (an HWIO kernel ``params["conv_N"]["kernel"]``
    and a bias; ``SAME`` or ``VALID`` padding, stride 1 or 2) as ``lax.conv_general_dilated``, an activation, and
    ``nn.max_pool`` / ``nn.avg_pool`` (window 2, stride 2) as ``lax.reduce_window``; then flattened and a dense
    head: (batch, n). The images are an input (values of rank 4 lie beyond the sampler's ranks)."""
    if not _float(t) or t.rank != 2:
        raise Fail
    batch, n = t.shape
    layers = [(b.draw.choice((3, 3, 5, 1)), b.draw.choice((1, 1, 2)), b.draw.choice(("SAME", "VALID")),
               b.draw.choice(CHANNELS), b.draw.choice(("max", "avg"))) for _ in range(b.draw.choice((1, 1, 2)))]
    c_in = b.draw.choice((1, 3))
    limit = b.config.types.max_elements
    sides = [s for s in IMAGE_SIDES if _conv_sides(batch, s, c_in, layers, n, limit) is not None]
    if not sides:
        raise Fail
    side, c, dtype = b.draw.choice(sides), c_in, t.dtype
    x = b.param(TensorType(dtype, (batch, side, side, c_in)), DATA_RANGE, "images")
    for k, stride, padding, c_out, pool in layers:
        prefix = b.counter("conv")
        fan_in = k * k * c
        kernel = b.param(TensorType(dtype, (k, k, c, c_out)), Interval(-1 / fan_in, 1 / fan_in), f"{prefix}/kernel")
        pads = same_pads(side, k, stride) if padding == "SAME" else (0, 0)
        params = {"nd": 2, "batched": True, "layout": "channels_last", "kernel": (k, k), "in_per_group": c,
                  "features": c_out, "strides": (stride, stride), "pads": (pads, pads), "padding": padding,
                  "lhs_dilation": (1, 1), "rhs_dilation": (1, 1), "groups": 1, "full_kernel": True}
        y = need(b.op("conv", [x, kernel], params, "conv"))
        y = need(b.op("add", [y, _bias(b, prefix, c_out, dtype)], {}, "conv"))
        y = _activation(b, y, "conv")
        window = (1, 2, 2, 1)
        x = need(b.op(f"{pool}_pool", [y], {"window": window, "strides": window, "pads": ((0, 0),) * 4,
                                            "padding": "VALID", "dtype": dtype}, "pooled"))
        side, c = b.type_of(x).shape[1], c_out
    flat = need(b.op("reshape", [x], {"shape": (batch, side * side * c), "style": "method"}, "flat"))
    head = b.counter("dense")
    logits = _matmul(b, flat, _kernel(b, head, side * side * c, n, dtype), "logits")
    return need(b.op("add", [logits, _bias(b, head, n, dtype)], {}, "logits"))


#: A decoder's first feature map side, its upsampling layers (stride 2 each) and its output channels.
DECODER_SIDES = (1, 2, 4, 7, 8)
DECODER_LAYERS = (1, 2)
DECODER_OUT_CHANNELS = (1, 3, 2, 4)


#: Every (first side, layers, output channels) a decoder may take, in one fixed order.
DECODER_CHOICES = tuple((s0, layers, c) for s0 in DECODER_SIDES for layers in DECODER_LAYERS
                        for c in DECODER_OUT_CHANNELS)


def _decoder_elements(s0: int, layers: int, c: int) -> int:
    """Elements of the flattened output image of a decoder from a side-``s0`` map through ``layers`` layers."""
    return (s0 * 2**layers) ** 2 * c


def _decoder_shapes(n: int) -> list[tuple[int, int, int]]:
    """(first side, layers, output channels) whose output image, flattened, has ``n`` elements."""
    return [choice for choice in DECODER_CHOICES if _decoder_elements(*choice) == n]


def _decoder_shape(b: Builder) -> tuple[int, ...]:
    """(batch, side x side x channels) of an image a decoder makes."""
    choice = b.draw.choice(DECODER_CHOICES)
    return (b.draw.choice(b.dims), _decoder_elements(*choice))


def decoder(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """A flax image decoder (a VAE's or a GAN generator's): a dense layer from a latent ``z`` to a small feature map,
    reshaped to NHWC, then one or two ``nn.ConvTranspose`` layers (stride 2, ``SAME``: each doubles the side; an
    HWIO kernel ``params["deconv_N"]["kernel"]`` and a bias) as ``lax.conv_transpose``, an activation between them
    and a sigmoid (pixel intensities) or tanh at the end; the image flattened: (batch, n), where ``n`` is
    side x side x channels of the image."""
    if not _float(t) or t.rank != 2:
        raise Fail
    batch, n = t.shape
    shapes = _decoder_shapes(n)
    if not shapes:
        raise Fail
    side, layers, c_out = b.draw.choice(shapes)
    dtype, limit = t.dtype, b.config.types.max_elements
    c = b.draw.choice(CHANNELS)
    d = b.draw.choice(b.dims)
    if batch * side * side * c > limit or d * side * side * c > limit:
        raise Fail
    z = _input_of(b, TensorType(dtype, (batch, d)), budget - 6 - 5 * layers, depth, "z")
    head = b.counter("dense")
    h = need(b.op("add", [_matmul(b, z, _kernel(b, head, d, side * side * c, dtype)),
                          _bias(b, head, side * side * c, dtype)], {}, "h"))
    x = need(b.op("reshape", [_activation(b, h)], {"shape": (batch, side, side, c), "style": "method"}, "x"))
    for layer in range(layers):
        last = layer == layers - 1
        c_next = c_out if last else b.draw.choice(tuple(k for k in CHANNELS if k <= c))
        k = b.draw.choice((3, 4))
        if batch * (2 * side) ** 2 * k * k * c * c_next > MAX_CONV_MACS or batch * (2 * side) ** 2 * c_next > limit:
            raise Fail
        prefix = b.counter("deconv")
        fan_in = k * k * c
        kernel = b.param(TensorType(dtype, (k, k, c, c_next)), Interval(-1 / fan_in, 1 / fan_in), f"{prefix}/kernel")
        params = {"nd": 2, "batched": True, "layout": "channels_last", "kernel": (k, k), "in_per_group": c,
                  "features": c_next, "strides": (2, 2), "padding": "SAME", "transpose_kernel": False,
                  "full_kernel": True}
        y = need(b.op("conv_transpose", [x, kernel], params, "y"))
        y = need(b.op("add", [y, _bias(b, prefix, c_next, dtype)], {}, "y"))
        if last:  # pixel intensities in [0, 1] (or [-1, 1])
            x = need(b.op(b.draw.choice(("sigmoid", "sigmoid", "tanh")), [y], {}, "image"))
        else:
            x = _activation(b, y, "y")
        side, c = 2 * side, c_next
    return need(b.op("reshape", [x], {"shape": (batch, n), "style": "method"}, "flat"))


def _cell_params(b: Builder, prefix: str, d_in: int, hidden: int, gates: int, dtype: DType) -> tuple[int, int, int]:
    wx = b.param(TensorType(dtype, (d_in, gates * hidden)), Interval(-1 / d_in, 1 / d_in), f"{prefix}/w_x")
    wh = b.param(TensorType(dtype, (hidden, gates * hidden)), Interval(-1 / hidden, 1 / hidden), f"{prefix}/w_h")
    return wx, wh, _bias(b, prefix, gates * hidden, dtype)


def _recurrent_shape(b: Builder) -> tuple[int, ...]:
    """(batch, hidden) with room for a sequence of inputs, (seq, batch, d_in), under ``max_elements``."""
    return (_width(b, min(b.dims) ** 2), b.draw.choice(b.dims))


def _recurrent(kind: str):
    """An RNN (tanh), GRU or LSTM cell over a time-major sequence (seq, batch, d_in) under ``lax.scan``;
    the result is the final hidden state (batch, hidden). LSTM's cell state is clipped to [-1, 1]
    (``cell_clip``), GRU's new state likewise, so each carry keeps its interval over any trip count."""
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]

    def build(b: Builder, t: TensorType, budget: int, depth: int) -> int:
        if not _float(t) or t.rank != 2:
            raise Fail
        batch, hidden = t.shape
        seq = _width(b, batch * min(b.dims))
        d_in = _width(b, seq * batch, gates * hidden)  # the inputs, (seq, batch, d_in), and wx, (d_in, gates * hidden)
        prefix = b.counter(kind)
        xs = _input_of(b, TensorType(t.dtype, (seq, batch, d_in)), budget - 8 - 4 * gates, depth, "xs")
        wx, wh, bias = _cell_params(b, prefix, d_in, hidden, gates, t.dtype)
        # the state's loop invariant is [-2, 2] (whole numbers around its range): tanh and clip stay inside
        h0 = b.param(t, Interval(-1.5, 1.5), "h0")
        carries = [h0]
        if kind == "lstm":
            carries.append(b.param(t, Interval(-1.5, 1.5), "c0"))

        def gate(z: int, i: int, hint: str) -> int:
            if gates == 1:
                return z
            return need(b.op("slice", [z], {"axis": 1, "start": i * hidden, "stop": (i + 1) * hidden, "step": 1}, hint))

        def body(carry: list[int], x: int) -> tuple[list[int], int]:
            h = carry[0]
            z = need(b.op("add", [_matmul(b, x, wx), _matmul(b, h, wh)], {}, "z"))
            z = need(b.op("add", [z, bias], {}, "z"))
            one = _lit(b, t.dtype, 1.0)
            if kind == "rnn":
                new_h = need(b.op("tanh", [z], {}, "h"))
                return [new_h], new_h
            if kind == "gru":
                r = need(b.op("sigmoid", [gate(z, 0, "r")], {}, "r"))
                u = need(b.op("sigmoid", [gate(z, 1, "u")], {}, "u"))
                n = need(b.op("tanh", [need(b.op("multiply", [r, gate(z, 2, "n")]))], {}, "n"))
                keep = need(b.op("multiply", [need(b.op("rsub", [one, u], {"literal_args": (0,)})), h]))
                new_h = need(b.op("add", [keep, need(b.op("multiply", [u, n]))], {}, "h"))
                new_h = need(b.op("clip", [new_h], {"lo": -1.0, "hi": 1.0}, "h"))
                return [new_h], new_h
            c = carry[1]
            i_g = need(b.op("sigmoid", [gate(z, 0, "i")], {}, "i"))
            f_g = need(b.op("sigmoid", [gate(z, 1, "f")], {}, "f"))
            g_g = need(b.op("tanh", [gate(z, 2, "g")], {}, "g"))
            o_g = need(b.op("sigmoid", [gate(z, 3, "o")], {}, "o"))
            new_c = need(b.op("add", [need(b.op("multiply", [f_g, c])), need(b.op("multiply", [i_g, g_g]))], {}, "c"))
            new_c = need(b.op("clip", [new_c], {"lo": -1.0, "hi": 1.0}, "c"))
            new_h = need(b.op("multiply", [o_g, need(b.op("tanh", [new_c]))], {}, "h"))
            return [new_h, new_c], new_h

        outs = b.scan(carries, xs, body, f"{kind}_scan")
        if outs is None:
            raise Fail
        return outs[0]

    return build


# ------------------------------------------------------------------------------------------------ losses


def mse_loss(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """``jnp.mean((pred - target) ** 2)``: a float scalar."""
    if not _float(t) or t.rank != 0:
        raise Fail
    shape = (b.draw.choice(b.dims), b.draw.choice(b.dims))
    pred = _input_of(b, TensorType(t.dtype, shape), budget - 3, depth, "pred")
    target = b.param(TensorType(t.dtype, shape), Interval(-1.0, 1.0), "targets")
    err = need(b.op("subtract", [pred, target], {}, "err"))
    return _reduce(b, "mean", need(b.op("square", [err])), None, False, "loss")


def cross_entropy(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """``-mean(sum(labels * (logits - logsumexp(logits)), -1))`` with one-hot (or soft) labels: a scalar."""
    if not _float(t) or t.rank != 0:
        raise Fail
    shape = (b.draw.choice(b.dims), b.draw.choice(b.dims))
    logits = _input_of(b, TensorType(t.dtype, shape), budget - 12, depth, "logits")
    labels = None
    if b.config.allows("one_hot") and b.draw.bernoulli(0.7):  # integer class labels, one-hot encoded
        ids = b.param(TensorType(DType.int32, shape[:1]), Interval(0, shape[1] - 1), "labels")
        labels = b.op("one_hot", [ids], {"num_classes": shape[1], "dtype": t.dtype}, "targets")
    if labels is None:  # soft labels
        labels = b.param(TensorType(t.dtype, shape), Interval(0.0, 1.0), "labels")
    if b.spelling("log_softmax") == "jax.nn.log_softmax" and "log_softmax" in REGISTRY:
        log_probs = need(b.op("log_softmax", [logits], {"axis": 1}, "log_probs"))
    else:
        log_probs = need(b.op("subtract", [logits, _logsumexp(b, logits, "lse")], {}, "log_probs",
                              refine=Interval(-INF, 0.0)))
    picked = _reduce(b, "sum", need(b.op("multiply", [labels, log_probs])), -1, False, "nll")
    return need(b.op("negative", [_reduce(b, "mean", picked, None, False)], {}, "loss"))


# ------------------------------------------------------------------------------------------------ optimizers


def sgd_momentum(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """``velocity = momentum * velocity + grads; params = params - lr * velocity``; returns the new params
    (and the new velocity as a further output)."""
    if not _float(t) or t.rank < 1:
        raise Fail
    lr, mu = b.draw.choice((0.1, 0.01, 0.001)), b.draw.choice((0.9, 0.99))
    params = b.param(t, Interval(-1.0, 1.0), "w")
    grads = _input_of(b, t, budget - 4, depth, "grads", Interval(-10.0, 10.0))
    velocity = b.param(t, Interval(-10.0, 10.0), "velocity")
    v = need(b.op("add", [need(b.op("scale", [_lit(b, t.dtype, mu), velocity], {"literal_args": (0,)})), grads], {},
                  "new_velocity"))
    step = need(b.op("scale", [_lit(b, t.dtype, lr), v], {"literal_args": (0,)}, "step"))
    b.extra_output(v)
    return need(b.op("subtract", [params, step], {}, "new_params"))


def adam(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """One Adam step with bias correction at a fixed step count; returns the new params (and the new
    moments as further outputs)."""
    if not _float(t) or t.rank < 1:
        raise Fail
    lr, b1, b2, step = b.draw.choice((1e-3, 3e-4, 1e-2)), 0.9, 0.999, b.draw.randint(1, 100)
    eps = _eps(t.dtype)
    params = b.param(t, Interval(-1.0, 1.0), "w")
    grads = _input_of(b, t, budget - 12, depth, "grads", Interval(-10.0, 10.0))
    mu = b.param(t, Interval(-10.0, 10.0), "mu")
    nu = b.param(t, Interval(0.0, 100.0), "nu")
    dtype = t.dtype

    def ema(decay: float, old: int, new: int, hint: str, refine: Interval | None = None) -> int:
        kept = need(b.op("scale", [_lit(b, dtype, decay), old], {"literal_args": (0,)}, refine=refine))
        fresh = need(b.op("scale", [_lit(b, dtype, round(1 - decay, 6)), new], {"literal_args": (0,)}, refine=refine))
        return need(b.op("add", [kept, fresh], {}, hint, refine))

    nonnegative = Interval(0.0, INF)  # products and sums of nonnegative values (rounding keeps the sign)
    m = ema(b1, mu, grads, "new_mu")
    v = ema(b2, nu, need(b.op("square", [grads], refine=nonnegative)), "new_nu", nonnegative)
    m_hat = need(b.op("div_scalar", [m, _lit(b, dtype, round(1 - b1**step, 6))], {"literal_args": (1,)}, "mu_hat"))
    v_hat = need(b.op("div_scalar", [v, _lit(b, dtype, round(1 - b2**step, 6))], {"literal_args": (1,)}, "nu_hat",
                      nonnegative))
    denom = _plus_eps(b, need(b.op("sqrt", [v_hat], refine=nonnegative)), eps)
    update = need(b.op("divide", [m_hat, denom], {}, "updates"))
    b.extra_output(m)
    b.extra_output(v)
    return need(b.op("subtract", [params, need(b.op("scale", [_lit(b, dtype, lr), update], {"literal_args": (0,)}))],
                     {}, "new_params"))


def train_step(b: Builder, t: TensorType, budget: int, depth: int) -> int:
    """A training step: ``loss, grads = jax.value_and_grad(loss_fn)(w)`` of a regression loss over a small
    weight matrix (the gradient reference takes one finite difference per element), then
    ``w - lr * grads``; returns the loss and the new weights. Where the config excludes ``value_and_grad``
    (or drawn so), the gradient is written out: ``x.T @ (2 * (pred - y) / n)``."""
    if not _float(t) or t.rank != 0:
        raise Fail
    if t.dtype is DType.float32 and b.draw.bernoulli(0.7):
        node = _value_and_grad_step(b, t, budget, depth)
        if node is not None:
            return node
    n, d, k = b.draw.choice(b.dims), b.draw.choice(b.dims), b.draw.choice(b.dims)
    dtype, lr = t.dtype, b.draw.choice((0.1, 0.01))
    x = _input_of(b, TensorType(dtype, (n, d)), budget - 10, depth, "x", Interval(-4.0, 4.0))
    y = b.param(TensorType(dtype, (n, k)), Interval(-1.0, 1.0), "y")
    w = _kernel(b, "linear", d, k, dtype)
    pred = _matmul(b, x, w, "pred")
    err = need(b.op("subtract", [pred, y], {}, "err"))
    loss = _reduce(b, "mean", need(b.op("square", [err])), None, False, "loss")
    xt = need(b.op("transpose", [x], {"perm": (1, 0)}, "x_t"))
    scaled = need(b.op("scale", [_lit(b, dtype, round(2.0 / (n * k), 8)), err], {"literal_args": (0,)}, "d_pred"))
    grad_w = _matmul(b, xt, scaled, "grad_w")
    new_w = need(b.op("subtract", [w, need(b.op("scale", [_lit(b, dtype, lr), grad_w], {"literal_args": (0,)}))],
                      {}, "new_w"))
    b.extra_output(new_w)
    return loss


def _value_and_grad_step(b: Builder, t: TensorType, budget: int, depth: int) -> int | None:
    n, d, k = b.draw.choice(b.dims), b.draw.choice((2, 4, 8)), b.draw.choice((1, 2, 4, 8))
    dtype, lr = t.dtype, b.draw.choice((0.1, 0.01))
    x = _input_of(b, TensorType(dtype, (n, d)), budget - 10, depth, "x", Interval(-4.0, 4.0))
    y = b.param(TensorType(dtype, (n, k)), Interval(-1.0, 1.0), "y")
    w = _kernel(b, "linear", d, k, dtype)

    def loss_fn(params: list[int]) -> list[int]:
        err = need(b.op("subtract", [_matmul(b, x, params[0], "pred"), y], {}, "err"))
        return [_reduce(b, "mean", need(b.op("square", [err])), None, False, "loss")]

    outs = b.transform("value_and_grad", [w], loss_fn, {"bound": b.draw.choice((1.0, 10.0))}, "loss,grads")
    if outs is None:
        return None
    loss, grads = outs
    new_w = need(b.op("subtract", [w, need(b.op("scale", [_lit(b, dtype, lr), grads], {"literal_args": (0,)}))],
                      {}, "new_w"))
    b.extra_output(new_w)
    return loss


COMPOSITES: dict[str, Composite] = {
    c.name: c
    for c in (
        Composite("dense", dense, 3, "dense"),
        Composite("mlp", mlp, 7, "mlp_block"),
        Composite("layer_norm", layer_norm, 9, "layer_norm"),
        Composite("rms_norm", rms_norm, 6, "rms_norm"),
        Composite("attention", attention, 20, "attention_block", (3,), _attention_shape),
        Composite("dropout", dropout, 2, "dropout"),
        Composite("embedding", embedding, 2, "embed", (3,)),
        Composite("conv_block", conv_block, 7, "conv_block", (2,)),
        Composite("decoder", decoder, 10, "decoder", (2,), _decoder_shape),
        Composite("rnn", _recurrent("rnn"), 8, "rnn_forward", (2,), _recurrent_shape),
        Composite("gru", _recurrent("gru"), 20, "gru_forward", (2,), _recurrent_shape),
        Composite("lstm", _recurrent("lstm"), 24, "lstm_forward", (2,), _recurrent_shape),
        Composite("mse_loss", mse_loss, 3, "mse_loss", (0,)),
        Composite("cross_entropy", cross_entropy, 12, "cross_entropy_loss", (0,)),
        Composite("sgd_momentum", sgd_momentum, 4, "sgd_momentum_update"),
        Composite("adam", adam, 14, "adam_update"),
        Composite("train_step", train_step, 12, "train_step", (0,)),
    )
}


def check_composites(config: GrammarConfig) -> None:
    """Config keys ``composites.*`` must name productions of this module."""
    for name in config.composites:
        if name not in COMPOSITES:
            raise ConfigError(f"config key `composites.{name}`: unknown name; allowed: {', '.join(COMPOSITES)}")


def spelling_options(key: str) -> tuple[str, ...]:
    return SPELLINGS[key]
