"""JAX's own public functions, one small function per entry, as coverage targets (issue 10).

``TARGETS`` lists ``(name, function, [--arg spec, ...])``; ``jaxsynth coverage CORPUS --against-list
tests/realcode/jax_reference.py`` lowers each one and reports how much of their JAXPR primitives,
(primitive, dtype) pairs, StableHLO ops and optimized-HLO opcodes the corpus contains. Families:
jax.nn, jax.scipy.special, jax.random, jnp.linalg, jnp.fft, indexing (gather/scatter/dynamic slices),
sorting and scans, convolution, pooling, transformations (grad, value_and_grad, vmap, jvp, checkpoint,
jit, lax.map, custom_jvp/custom_vjp) and pytrees. Arguments are abstract (no data); a PRNG key is
passed as its raw ``u32[2]`` data.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
from jax import lax

M = "f32[8,16]"
V = "f32[16]"
SQ = "f32[6,6]"
KEY = "u32[2]"
PARAMS = '{"w": "f32[16,8]", "b": "f32[8]"}'


def _spd(a):
    """A well-conditioned symmetric positive definite matrix from any square ``a``."""
    return a @ a.T + 6.0 * jnp.eye(a.shape[0], dtype=a.dtype)


def _key(k):
    return jax.random.wrap_key_data(k)


# ---------------------------------------------------------------- jax.nn
def nn_relu(x):
    return jax.nn.relu(x)


def nn_relu6(x):
    return jax.nn.relu6(x)


def nn_gelu_tanh(x):
    return jax.nn.gelu(x, approximate=True)


def nn_gelu_erf(x):
    return jax.nn.gelu(x, approximate=False)


def nn_silu(x):
    return jax.nn.silu(x)


def nn_softplus(x):
    return jax.nn.softplus(x)


def nn_log_sigmoid(x):
    return jax.nn.log_sigmoid(x)


def nn_elu(x):
    return jax.nn.elu(x)


def nn_leaky_relu(x):
    return jax.nn.leaky_relu(x, 0.1)


def nn_softmax(x):
    return jax.nn.softmax(x, axis=-1)


def nn_log_softmax(x):
    return jax.nn.log_softmax(x, axis=-1)


def nn_logsumexp(x):
    return jax.nn.logsumexp(x, axis=-1)


def nn_standardize(x):
    return jax.nn.standardize(x, axis=-1)


def nn_one_hot(labels):
    return jax.nn.one_hot(labels, 10)


def nn_dense_layer(params, x):
    """A dense layer with a params dict (a pytree argument)."""
    return jax.nn.gelu(x @ params["w"] + params["b"])


# ---------------------------------------------------------------- jax.scipy.special and friends
def special_erfc(x):
    return jsp.erfc(x)


def special_erf_inv(x):
    return jsp.erfinv(jnp.clip(x, -0.9, 0.9))


def special_lgamma(x):
    return jsp.gammaln(jnp.abs(x) + 0.5)


def special_digamma(x):
    return jsp.digamma(jnp.abs(x) + 0.5)


def special_xlogy(x, y):
    return jsp.xlogy(x, jnp.abs(y) + 0.1)


def special_logit(x):
    return jsp.logit(jnp.clip(x, 0.05, 0.95))


def logaddexp(x, y):
    return jnp.logaddexp(x, y)


# ---------------------------------------------------------------- jax.random
def random_normal(k):
    return jax.random.normal(_key(k), (4, 8))


def random_uniform(k):
    return jax.random.uniform(_key(k), (16,), minval=-1.0, maxval=1.0)


def random_bernoulli(k):
    return jax.random.bernoulli(_key(k), 0.3, (16,))


def random_categorical(k, logits):
    return jax.random.categorical(_key(k), logits, axis=-1)


def random_randint(k):
    return jax.random.randint(_key(k), (8,), 0, 10)


def random_permutation(k, x):
    return jax.random.permutation(_key(k), x)


def random_split_fold_in(k):
    a, b = jax.random.split(_key(k))
    return jax.random.normal(jax.random.fold_in(a, 3), (4,)) + jax.random.normal(b, (4,))


def random_key_inside(x):
    key = jax.random.key(0)
    return x + jax.random.normal(key, x.shape)


# ---------------------------------------------------------------- jnp.linalg and jax.scipy.linalg
def linalg_cholesky(a):
    return jnp.linalg.cholesky(_spd(a))


def linalg_solve_triangular(a, b):
    return jax.scipy.linalg.solve_triangular(jnp.linalg.cholesky(_spd(a)), b, lower=True)


def linalg_solve(a, b):
    return jnp.linalg.solve(_spd(a), b)


def linalg_inv(a):
    return jnp.linalg.inv(_spd(a))


def linalg_qr(a):
    return jnp.linalg.qr(a)


def linalg_eigh(a):
    return jnp.linalg.eigh(_spd(a))


def linalg_svd(a):
    return jnp.linalg.svd(a, full_matrices=False)


def linalg_slogdet(a):
    return jnp.linalg.slogdet(_spd(a))


def linalg_lu(a):
    return jax.scipy.linalg.lu(_spd(a))


def linalg_norm(x):
    return jnp.linalg.norm(x, axis=-1)


# ---------------------------------------------------------------- jnp.fft
def fft_fft(x):
    return jnp.fft.fft(x)


def fft_ifft(x):
    return jnp.fft.ifft(x)


def fft_rfft(x):
    return jnp.fft.rfft(x)


def fft_irfft(x):
    return jnp.fft.irfft(jnp.fft.rfft(x))


# ---------------------------------------------------------------- indexing
def index_arange_eye_tri(x):
    ramp = jnp.arange(x.shape[-1], dtype=x.dtype)
    return x + ramp + jnp.eye(x.shape[0], x.shape[1]) + jnp.tril(x) - jnp.triu(x)


def index_dynamic_slice(x, i):
    return lax.dynamic_slice(x, (i, 0), (2, 4))


def index_dynamic_update_slice(x, u, i):
    return lax.dynamic_update_slice(x, u, (i, 0))


def index_dynamic_index_in_dim(x, i):
    return lax.dynamic_index_in_dim(x, i, axis=0, keepdims=False)


def index_gather(x, idx):
    return x[idx]


def index_take_along_axis(x, idx):
    return jnp.take_along_axis(x, idx, axis=1)


def index_scatter_set(x, idx, v):
    return x.at[idx].set(v)


def index_scatter_add(x, idx, v):
    return x.at[idx].add(v)


def index_scatter_mul_min_max(x, idx, v):
    return x.at[idx].multiply(v) + x.at[idx].min(v) + x.at[idx].max(v)


def index_get_clip(x, idx):
    return x.at[idx].get(mode="clip")


# ---------------------------------------------------------------- sorting and scans
def sort_sort(x):
    return jnp.sort(x, axis=-1)


def sort_argsort(x):
    return jnp.argsort(x, axis=-1, stable=True)


def sort_top_k(x):
    return lax.top_k(x, 3)


def scan_cummax_cummin(x):
    return lax.cummax(x, axis=1) + lax.cummin(x, axis=1)


def scan_cumlogsumexp(x):
    return lax.cumlogsumexp(x, axis=1)


def scan_cumsum(x):
    return jnp.cumsum(x, axis=1)


def scan_associative(x):
    return lax.associative_scan(jnp.add, x, axis=1)


def scan_lax_scan(x):
    def body(carry, row):
        carry = 0.9 * carry + row
        return carry, jnp.tanh(carry)

    return lax.scan(body, jnp.zeros(x.shape[1:]), x)


# ---------------------------------------------------------------- convolution and pooling
def conv_1d(x, w):
    return lax.conv_general_dilated(x, w, (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))


def conv_2d_nchw(x, w):
    return lax.conv_general_dilated(x, w, (2, 2), "VALID", rhs_dilation=(1, 1))


def conv_2d_nhwc_groups(x, w):
    return lax.conv_general_dilated(
        x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=2
    )


def pool_max(x):
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def pool_avg(x):
    return lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4.0


def convolve(x, y):
    return jnp.convolve(x, y, mode="same")


# ---------------------------------------------------------------- bits and predicates
def float_predicates(x):
    return jnp.isfinite(x) & ~jnp.isnan(x) & ~jnp.isinf(x)


def bit_ops(x):
    u = lax.bitcast_convert_type(x, jnp.uint32)
    return lax.population_count(u) + lax.clz(u) + lax.shift_right_logical(u, jnp.uint32(3))


def nextafter(x):
    return jnp.nextafter(x, jnp.zeros_like(x))


def complex_abs(x, y):
    return jnp.abs(lax.complex(x, y) * lax.complex(y, x))


# ---------------------------------------------------------------- transformations
def _loss(w, x):
    return jnp.sum(jnp.tanh(x @ w) ** 2)


def tf_grad(w, x):
    return jax.grad(_loss)(w, x)


def tf_value_and_grad(w, x):
    return jax.value_and_grad(_loss)(w, x)


def tf_vmap(w, xs):
    return jax.vmap(lambda x: jnp.tanh(x @ w), in_axes=0, out_axes=1)(xs)


def tf_jvp(w, x):
    return jax.jvp(lambda w: _loss(w, x), (w,), (jnp.ones_like(w),))


def tf_checkpoint(w, x):
    return jax.grad(jax.checkpoint(_loss))(w, x)


def tf_nested_jit(x):
    return jax.jit(lambda y: jnp.sin(y) * 2.0)(x) + 1.0


def tf_lax_map(xs):
    return lax.map(lambda x: jnp.sum(jnp.sin(x)), xs)


def tf_stop_gradient(x):
    return jax.grad(lambda x: jnp.sum(x * lax.stop_gradient(x)))(x)


@jax.custom_jvp
def _soft_clip(x):
    return jnp.tanh(x)


@_soft_clip.defjvp
def _soft_clip_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = jnp.tanh(x)
    return y, t * (1.0 - y * y)


def tf_custom_jvp(x):
    return jax.grad(lambda x: jnp.sum(_soft_clip(x)))(x)


@jax.custom_vjp
def _clip_grad(x):
    return x


def _clip_grad_fwd(x):
    return x, None


def _clip_grad_bwd(_, g):
    return (jnp.clip(g, -1.0, 1.0),)


_clip_grad.defvjp(_clip_grad_fwd, _clip_grad_bwd)


def tf_custom_vjp(x):
    return jax.grad(lambda x: jnp.sum(_clip_grad(x) ** 2))(x)


def tf_while_loop(x):
    return lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 0.5), (0, x))[1]


def tf_cond_switch(x, i):
    return lax.switch(i, [jnp.sin, jnp.cos, jnp.tanh], x)


# ---------------------------------------------------------------- pytrees
def tree_map_update(params, grads):
    """An SGD step over a params dict: jax.tree_util.tree_map over two pytrees."""
    return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)


def tree_adam_state(state, g):
    """An optimizer-state tuple (m, v) in and out."""
    m, v = state
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g * g
    return (m, v), m / (jnp.sqrt(v) + 1e-8)


TARGETS = [
    ("jax.nn.relu", nn_relu, [M]),
    ("jax.nn.relu6", nn_relu6, [M]),
    ("jax.nn.gelu(approximate=True)", nn_gelu_tanh, [M]),
    ("jax.nn.gelu(approximate=False)", nn_gelu_erf, [M]),
    ("jax.nn.silu", nn_silu, [M]),
    ("jax.nn.softplus", nn_softplus, [M]),
    ("jax.nn.log_sigmoid", nn_log_sigmoid, [M]),
    ("jax.nn.elu", nn_elu, [M]),
    ("jax.nn.leaky_relu", nn_leaky_relu, [M]),
    ("jax.nn.softmax", nn_softmax, [M]),
    ("jax.nn.log_softmax", nn_log_softmax, [M]),
    ("jax.nn.logsumexp", nn_logsumexp, [M]),
    ("jax.nn.standardize", nn_standardize, [M]),
    ("jax.nn.one_hot", nn_one_hot, ["i32[8]"]),
    ("dense layer (params dict)", nn_dense_layer, [PARAMS, "f32[4,16]"]),
    ("jax.scipy.special.erfc", special_erfc, [M]),
    ("jax.scipy.special.erfinv", special_erf_inv, [M]),
    ("jax.scipy.special.gammaln", special_lgamma, [M]),
    ("jax.scipy.special.digamma", special_digamma, [M]),
    ("jax.scipy.special.xlogy", special_xlogy, [M, M]),
    ("jax.scipy.special.logit", special_logit, [M]),
    ("jnp.logaddexp", logaddexp, [M, M]),
    ("jax.random.normal", random_normal, [KEY]),
    ("jax.random.uniform", random_uniform, [KEY]),
    ("jax.random.bernoulli", random_bernoulli, [KEY]),
    ("jax.random.categorical", random_categorical, [KEY, M]),
    ("jax.random.randint", random_randint, [KEY]),
    ("jax.random.permutation", random_permutation, [KEY, V]),
    ("jax.random.split + fold_in", random_split_fold_in, [KEY]),
    ("jax.random.key inside", random_key_inside, [V]),
    ("jnp.linalg.cholesky", linalg_cholesky, [SQ]),
    ("jax.scipy.linalg.solve_triangular", linalg_solve_triangular, [SQ, "f32[6,2]"]),
    ("jnp.linalg.solve", linalg_solve, [SQ, "f32[6,2]"]),
    ("jnp.linalg.inv", linalg_inv, [SQ]),
    ("jnp.linalg.qr", linalg_qr, [SQ]),
    ("jnp.linalg.eigh", linalg_eigh, [SQ]),
    ("jnp.linalg.svd", linalg_svd, [SQ]),
    ("jnp.linalg.slogdet", linalg_slogdet, [SQ]),
    ("jax.scipy.linalg.lu", linalg_lu, [SQ]),
    ("jnp.linalg.norm", linalg_norm, [M]),
    ("jnp.fft.fft", fft_fft, [V]),
    ("jnp.fft.ifft", fft_ifft, [V]),
    ("jnp.fft.rfft", fft_rfft, [V]),
    ("jnp.fft.irfft", fft_irfft, [V]),
    ("jnp.arange/eye/tril/triu", index_arange_eye_tri, [M]),
    ("lax.dynamic_slice", index_dynamic_slice, [M, "i32[]"]),
    ("lax.dynamic_update_slice", index_dynamic_update_slice, [M, "f32[2,16]", "i32[]"]),
    ("lax.dynamic_index_in_dim", index_dynamic_index_in_dim, [M, "i32[]"]),
    ("x[idx] (gather)", index_gather, [M, "i32[4]"]),
    ("jnp.take_along_axis", index_take_along_axis, [M, "i32[8,3]"]),
    ("x.at[idx].set", index_scatter_set, [V, "i32[4]", "f32[4]"]),
    ("x.at[idx].add", index_scatter_add, [V, "i32[4]", "f32[4]"]),
    ("x.at[idx].multiply/min/max", index_scatter_mul_min_max, [V, "i32[4]", "f32[4]"]),
    ("x.at[idx].get(mode='clip')", index_get_clip, [V, "i32[4]"]),
    ("jnp.sort", sort_sort, [M]),
    ("jnp.argsort(stable=True)", sort_argsort, [M]),
    ("lax.top_k", sort_top_k, [M]),
    ("lax.cummax + cummin", scan_cummax_cummin, [M]),
    ("lax.cumlogsumexp", scan_cumlogsumexp, [M]),
    ("jnp.cumsum", scan_cumsum, [M]),
    ("lax.associative_scan", scan_associative, [M]),
    ("lax.scan", scan_lax_scan, [M]),
    ("lax.conv_general_dilated 1-D NWC", conv_1d, ["f32[2,16,3]", "f32[3,3,4]"]),
    ("lax.conv_general_dilated 2-D NCHW strided", conv_2d_nchw, ["f32[2,3,8,8]", "f32[4,3,3,3]"]),
    ("lax.conv_general_dilated 2-D NHWC groups", conv_2d_nhwc_groups, ["f32[2,8,8,4]", "f32[3,3,2,4]"]),
    ("max pooling (reduce_window)", pool_max, ["f32[2,8,8,3]"]),
    ("average pooling (reduce_window)", pool_avg, ["f32[2,8,8,3]"]),
    ("jnp.convolve", convolve, [V, "f32[5]"]),
    ("jnp.isfinite/isnan/isinf", float_predicates, [M]),
    ("bitcast/population_count/clz/shift_right_logical", bit_ops, [M]),
    ("jnp.nextafter", nextafter, [M]),
    ("complex64 arithmetic", complex_abs, [V, V]),
    ("jax.grad", tf_grad, ["f32[16,8]", "f32[4,16]"]),
    ("jax.value_and_grad", tf_value_and_grad, ["f32[16,8]", "f32[4,16]"]),
    ("jax.vmap(in_axes, out_axes)", tf_vmap, ["f32[16,8]", "f32[4,16]"]),
    ("jax.jvp", tf_jvp, ["f32[16,8]", "f32[4,16]"]),
    ("jax.checkpoint under grad", tf_checkpoint, ["f32[16,8]", "f32[4,16]"]),
    ("nested jax.jit", tf_nested_jit, [M]),
    ("lax.map", tf_lax_map, [M]),
    ("lax.stop_gradient under grad", tf_stop_gradient, [V]),
    ("jax.custom_jvp under grad", tf_custom_jvp, [V]),
    ("jax.custom_vjp under grad", tf_custom_vjp, [V]),
    ("lax.while_loop", tf_while_loop, [V]),
    ("lax.switch", tf_cond_switch, [V, "i32[]"]),
    ("jax.tree_util.tree_map (params dict)", tree_map_update, [PARAMS, PARAMS]),
    ("optimizer state tuple", tree_adam_state, ['("f32[16]", "f32[16]")', V]),
]
