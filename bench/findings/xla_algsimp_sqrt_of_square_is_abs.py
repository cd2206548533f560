"""XLA's algebraic simplifier rewrites `sqrt(x * x)` to `abs(x)`, which is not IEEE arithmetic where the square
overflows or underflows: under jit `jnp.sqrt(jnp.square(x))` returns |x| where op-by-op execution (and numpy) give
inf for a square that overflows and 0 for one that underflows. Found by `jaxsynth fuzz --config all --seed 94`
(fuzz-special, program 99: `jnp.sign(jnp.sin(jnp.abs(jnp.sqrt(jnp.square(x2)))))` in float16, where the square of a
subnormal -6e-08 is 0 op by op, so `sign(sin(0))` is 0, and jit's `sign(sin(6e-08))` is 1; reference, eager and
passes oracles; `algsimp` disabled gives the op-by-op value).

Upstream: openxla/xla#42732 (the `log(exp(x))` and `sqrt(x*x)` folds ignore intermediate overflow; closed) and
jax-ml/jax#37919 (`sqrt(abs(square(x)))` at float32 max; closed); both show the overflow side only. Still present
in jaxlib 0.10.2, including the underflow side, and in every release tried since 0.4.26.

The `log(exp(x))` fold of that issue is still here too, and it changes more than overflow: float32
`jnp.log(jnp.exp(89.0))` is 89 under jit and inf op by op, and float16 `x / jnp.log(jnp.exp(x))` at x = 2e-07 is 1
under jit where op by op `exp` rounds to 1, `log` to 0 and the quotient is inf (fuzz-special program 280 of
`jaxsynth fuzz --config structured,fuzz-special,default,control-flow --seed 99`; reference, eager and passes
oracles, culprit pass `algsimp`; jax-ml/jax#38099, closed, is the overflow side). openxla/xla#45560 (closed)
proposed gating both folds behind fast-math, as XLA already gates `A - A => 0`. Exits 1 while present.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np


def f(x):
    return jnp.sqrt(jnp.square(x))


wrong = 0
for dtype, value, why in ((np.float16, 300.0, "square overflows"), (np.float16, -6e-08, "square underflows"),
                          (np.float32, 3e19, "square overflows"), (np.float32, 1e-30, "square underflows")):
    x = np.full(4, value, dtype)
    jit = np.asarray(jax.jit(f)(x))[0]
    with jax.disable_jit():
        eager = np.asarray(f(x))[0]
    with np.errstate(over="ignore", under="ignore"):
        ieee = np.sqrt(np.square(x))[0]
    print(f"{np.dtype(dtype).name} {x[0]!r} ({why}): jit {jit!r}, eager {eager!r}, numpy {ieee!r}")
    wrong += jit != ieee


def quotient(x):
    return x / jnp.log(jnp.exp(x))


def log_exp(x):
    return jnp.log(jnp.exp(x))


for g, dtype, value, why in ((log_exp, np.float32, 89.0, "exp overflows"),
                             (quotient, np.float16, 2e-07, "exp rounds to 1")):
    x = np.full(4, value, dtype)
    jit = np.asarray(jax.jit(g)(x))[0]
    with jax.disable_jit():
        eager = np.asarray(g(x))[0]
    with np.errstate(over="ignore", divide="ignore"):
        ieee = np.asarray(x / np.log(np.exp(x)) if g is quotient else np.log(np.exp(x)))[0]
    print(f"{g.__name__} {np.dtype(dtype).name} {x[0]!r} ({why}): jit {jit!r}, eager {eager!r}, numpy {ieee!r}")
    wrong += jit != ieee
sys.exit(1 if wrong else 0)
