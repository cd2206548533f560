"""XLA:CPU computes ``jax.nn.logsumexp(x, axis=1)`` of an f32[80, 80, 1] array wrong (errors around 1e-2 on values
near 4.4) when the HLO pass ``algsimp`` is disabled; the default pipeline is right to 4e-7. ``jnp.log(jnp.sum(
jnp.exp(x), axis=1))`` is right either way, so the culprit is in the max-shifted form JAX lowers logsumexp to
(``reduce-max``, ``is-finite``/``select``, ``exp(x - max)``, ``reduce-add``, ``log``, ``+ max``) once the
algebraic simplifier has not rewritten it. Disabling an optimization pass must not change results beyond
rounding (``--xla_disable_hlo_passes`` is a supported flag), so either pass order leaves a bug: a wrong
computation that ``algsimp`` happens to rewrite away.

Found by ``jaxsynth fuzz --config models --seed 45`` (program 257, the ``passes`` oracle; reduced from a mixed
bf16/f32 model block to ``logsumexp`` under ``vmap`` plus a constant, then by hand to the line below). No upstream
issue for this case was found. ``jax.nn.softmax`` (``exp(x - max) / sum``) goes wrong the same way: over axis 0 of
f32[64, 64, 64] it is off by 3.6% of its largest value with ``algsimp`` disabled (``--seed 51``, program 135, where
the ``passes`` oracle had disabled ``algsimp`` and seven more passes). ``jax.nn.log_softmax`` over axis 0 of
f32[48, 48, 192] is right with ``algsimp`` alone disabled, but off by 0.3 on values near 5 once ``reshape-mover``
is disabled too (``--seed 55``, programs 202 and 535, both found with ``algsimp`` and ``reshape-mover`` among the
disabled passes); this script checks all three.

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""
import sys

import jax
import numpy as np

x = np.random.default_rng(0).uniform(-0.04, 0.25, (80, 80, 1)).astype(np.float32)
expected = np.log(np.sum(np.exp(x.astype(np.float64)), axis=1))
lowered = jax.jit(lambda x: jax.nn.logsumexp(x, axis=1)).lower(x)
default = np.asarray(lowered.compile({})(x))
without = np.asarray(lowered.compile({"xla_disable_hlo_passes": "algsimp"})(x))
print(f"default pipeline: max error {np.abs(default - expected).max():.2e}")
print(f"algsimp disabled: max error {np.abs(without - expected).max():.2e}")
tolerance = 1e-5  # 80 terms of size ~1 in float32: a few ulps of 4.4
ok = np.abs(without - expected).max() <= tolerance and np.abs(default - expected).max() <= tolerance

y = np.random.default_rng(0).uniform(-0.1, 0.1, (64, 64, 64)).astype(np.float32)
e = np.exp(y.astype(np.float64) - y.max(axis=0))
expected = e / e.sum(axis=0)
lowered = jax.jit(lambda y: jax.nn.softmax(y, axis=0)).lower(y)
for name, options in (("default pipeline", {}), ("algsimp disabled", {"xla_disable_hlo_passes": "algsimp"})):
    error = np.abs(np.asarray(lowered.compile(options)(y), dtype=np.float64) - expected).max() / expected.max()
    print(f"softmax, {name}: max error {error:.2e} of the largest value")
    ok = ok and error <= 1e-5  # 64 terms: a few ulps
z = np.random.default_rng(0).uniform(-1.0, 1.0, (48, 48, 192)).astype(np.float32)
z64 = z.astype(np.float64)
expected = z64 - np.log(np.sum(np.exp(z64), axis=0))
lowered = jax.jit(lambda z: jax.nn.log_softmax(z, axis=0)).lower(z)
for name, options in (("default pipeline", {}), ("algsimp disabled", {"xla_disable_hlo_passes": "algsimp"}),
                      ("algsimp, reshape-mover disabled", {"xla_disable_hlo_passes": "algsimp,reshape-mover"})):
    error = np.abs(np.asarray(lowered.compile(options)(z), dtype=np.float64) - expected).max()
    print(f"log_softmax, {name}: max error {error:.2e}")
    ok = ok and error <= 1e-5  # 48 terms of size ~1: a few ulps of 4
sys.exit(0 if ok else 1)
