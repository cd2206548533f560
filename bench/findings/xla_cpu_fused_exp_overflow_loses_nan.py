"""XLA:CPU loses the NaN of `inf - exp(b)` when `exp(b)` overflows inside a fusion: float32 `x - jnp.exp(y)` with
`x = inf` and `y = inf` (or any `y` whose `exp` overflows, such as 89 or 100) gives inf under jit, where IEEE gives
`inf - inf = NaN` (numpy, JAX eager, and XLA itself with the `fusion` pass disabled). `-inf + jnp.exp(y)` gives
-inf, and `jnp.exp2` does the same; `jnp.expm1` and float16/float64 are right.

Found by `jaxsynth fuzz --config fuzz-special,structured,default,nn-special,low-precision-ints --seed 97`
(fuzz-special program 1849; the `reference`, `eager` and `passes` oracles; reduced to `x0 - jnp.exp(x1)`, culprit
pass `fusion`). The lone `jnp.exp(y)` is inf, and `1 - jnp.exp(inf)` is -inf, as they should be: only the fused
subtraction of two infinities comes out wrong. One argument is enough: `jnp.exp(x) - x` at `x = inf` gives -inf
under jit (fuzz-special program 554 of `jaxsynth fuzz --config all --seed 98`, reduced to that).

Across releases: wrong on jaxlib 0.4.26, 0.4.35, 0.6.2 and 0.10.2. No upstream issue found (searched openxla/xla
and jax-ml/jax for exp overflow with inf in a fusion). Exits 1 while the bug is present, 0 once it is fixed.
jax/jaxlib 0.10.2: exits 1.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

ok = True
for x, y in ((np.inf, np.inf), (np.inf, 100.0), (-np.inf, np.inf)):
    a, b = np.array([x], np.float32), np.array([y], np.float32)
    if x > 0:
        f, name = (lambda a, b: a - jnp.exp(b)), "x - exp(y)"
    else:
        f, name = (lambda a, b: a + jnp.exp(b)), "x + exp(y)"
    got = float(np.asarray(jax.jit(f)(a, b))[0])
    with jax.disable_jit():
        eager = float(np.asarray(f(jnp.asarray(a), jnp.asarray(b)))[0])
    print(f"float32 {name} for x={x}, y={y}: jit {got}, eager {eager} (IEEE: nan)")
    ok = ok and np.isnan(got)
a = np.array([np.inf], np.float32)
got = float(np.asarray(jax.jit(lambda a: jnp.exp(a) - a)(a))[0])
print(f"float32 exp(x) - x for x=inf: jit {got} (IEEE: nan)")
ok = ok and np.isnan(got)
sys.exit(0 if ok else 1)
