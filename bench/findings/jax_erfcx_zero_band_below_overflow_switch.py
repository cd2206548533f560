"""`jax.scipy.special.erfcx(x)` (new in JAX 0.10.1) is exactly 0 for x in [9.1946, 9.4193] in float32 and in about
[26.55, 26.64] in float64, where it is about 0.061 and 0.0212 (it is positive everywhere, about 1 / (x sqrt(pi))
for large x). Found while adding `erfcx` to jaxsynth's grammar (session 44): measuring its error over [0, 50] for
the op's error scale gave 8.4e6 ulps in float32.

JAX computes `exp(x**2) * erfc(x)` directly up to `sqrt(log(finfo.max))` (9.419 in float32, 26.64 in float64),
where `exp(x**2)` would overflow, and switches to the asymptotic series only there; but `erfc(x)` is below the
smallest normal number from 9.1946 (float32) and 26.55 (float64), and XLA:CPU flushes subnormals to zero, so the
product is 0 in between (bfloat16 and float16, computed in float32, have the band too). The gradient follows:
`jax.grad(erfcx)(9.3)` is `-2 / sqrt(pi)`, -1.128, instead of -0.0064. At the switch itself, float32 9.41928
(the largest value that still takes the direct formula), `exp(x**2)` is already inf and `erfcx` is inf * 0, NaN
(`nn-special` seed 5029, program 4, session 56: the `reference` and `grad` oracles).

Upstream: jax-ml/jax#38607 (open; the float64 band), fixes proposed in pull requests #38822 and #40153 (open, not in
0.10.2). Present in jaxlib 0.10.2. Exits 1 while present.
"""
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.special  # noqa: E402
from jax.scipy.special import erfcx  # noqa: E402

cases = [(np.float32, 9.2), (np.float32, 9.3), (np.float32, 9.41), (np.float32, 9.41928), (np.float64, 26.6),
         (jnp.bfloat16, 9.3125)]
worst = 0.0
for dtype, x in cases:
    value = np.asarray(x, dtype=dtype)
    got = float(jax.jit(erfcx)(value))
    want = float(scipy.special.erfcx(float(value)))
    print(f"erfcx({float(value)!r}) in {np.dtype(dtype).name}: jax {got!r}, scipy {want!r}")
    worst = max(worst, abs(got - want) / want if np.isfinite(got) else np.inf)
print(f"largest relative error {worst:.3g}")
sys.exit(1 if worst > 1e-2 else 0)
