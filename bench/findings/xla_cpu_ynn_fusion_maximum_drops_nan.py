"""XLA:CPU drops NaN from an elementwise `maximum` or `minimum` that it fuses into a sum inside a `__ynn_fusion`:
`jnp.sum(jax.nn.relu(x), axis=0)` of a float32[64, 64] holding a row and a column of NaN gives finite sums under
jit, where HLO's `maximum` propagates NaN (so numpy, JAX eager and XLA's own result for a 32x32 array give NaN in
every column).

Found by `jaxsynth fuzz --config all --seed 96` (fuzz-special program 764, the `passes` oracle, swarm shape class
`large`): `jnp.mean(jnp.clip(x0, 0.0, 1.0), axis=0)` of a float32[526, 417] with NaN gave 0.477 where NaN is right,
once `algsimp` was disabled. With `algsimp` the `clip` becomes a `clamp`, which XLA does not put into a YNN fusion;
a plain `maximum` or `minimum` (`relu`, `jnp.maximum(x, 0.0)`, `jnp.minimum(x, 1.0)`) is wrong under the default
pipeline. Reduced by hand:
- wrong for float32[64, 64] and larger, in the sum along either axis and in the mean;
- right for float32[32, 32] and smaller, where the optimized HLO has no `__ynn_fusion`;
- right at every size with YNN's reduce fusions off
  (`XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-LIBRARY_FUSION_TYPE_REDUCE`);
- wrong too for `jnp.maximum(x, y)` of two float32[64, 64] arguments, with the NaN in `x`.

Related: `xla_cpu_minmax_drops_nan.py` (min/max reductions of 4096 or more elements); tensorflow/tensorflow#116992
and #119628 (TensorFlow's XLA:CPU `maximum`/`minimum`/`relu6` dropping NaN; both say JAX was right then). No
upstream issue for this JAX/XLA case was found. jax/jaxlib 0.10.2: exits 1; 0.4.26, 0.4.35 and 0.6.2 (no YNN
fusions): exits 0, a regression since 0.6.2. Exits 1 while the bug is present, 0 once it is fixed.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

CASES = {
    "jnp.sum(jax.nn.relu(x), axis=0)": lambda x: jnp.sum(jax.nn.relu(x), axis=0),
    "jnp.sum(jnp.maximum(x, 0.0), axis=1)": lambda x: jnp.sum(jnp.maximum(x, 0.0), axis=1),
    "jnp.mean(jnp.minimum(x, 1.0), axis=0)": lambda x: jnp.mean(jnp.minimum(x, 1.0), axis=0),
}
wrong = []
for n in (32, 64, 256):
    x = np.full((n, n), 0.5, np.float32)
    x[3, :] = np.nan  # one NaN in every column
    x[:, 3] = np.nan  # and in every row
    for name, f in CASES.items():
        got = np.asarray(jax.jit(f)(x))
        with jax.disable_jit():
            eager = np.asarray(f(jnp.asarray(x)))
        fused = "__ynn_fusion" in jax.jit(f).lower(x).compile().as_text()
        print(f"float32[{n}, {n}] {name}: NaN in {int(np.isnan(got).sum())} of {got.size} results under jit, "
              f"{int(np.isnan(eager).sum())} in eager{' (a __ynn_fusion)' if fused else ''}")
        if not np.isnan(got).all():
            wrong.append((n, name))
sys.exit(1 if wrong else 0)
