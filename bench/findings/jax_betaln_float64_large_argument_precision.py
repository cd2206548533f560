"""`jax.scipy.special.betaln(a, b)` in float64 is off by up to 1.3e-6 (relative 1.7e-4 where the result is near 0)
wherever the larger argument is 8 or more: `betaln(0.3969, 8.0895)` is -0.0100357 where scipy and mpmath give
-0.0100362. Found while adding `betaln` to jaxsynth's grammar (session 42): measuring its float64 error for the op's
error scale gave 2.5e8 ulps of its terms where float32 gave 17.

The cause is a transcription slip in `jax/_src/third_party/scipy/betaln.py`, `algdiv(a, b)` (the `b >= 8` branch,
derived from scipy's cdflib `algdiv.f`): for `a <= b` cdflib sets `h = a/b`, `c = h/(1 + h)` and `x = 1/(1 + h)`,
and JAX sets `x = h/(1 + h)`, the same as `c`. `x` feeds the series `s3 ... s11` of the Stirling correction, so the
error is of the order of that correction's second term (`c1 * s3 / b**3`), below float32's resolution of the
result's terms (within the 17 ulps measured there) and five orders of magnitude above float64's. With `x = 1/(1 + h)`
the same formula agrees with scipy to 2e-14 over 100,000 points of a in [0.1, 8), b in [8, 50).

Upstream: no issue found (jax-ml/jax#40653 and #39106 are other `algdiv` edge cases: a subnormal `a/b`, an
infinite argument). Present in jaxlib 0.10.2 and 0.4.38 (the same value). Exits 1 while present.
"""
import sys

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
import scipy.special  # noqa: E402
from jax.scipy.special import betaln  # noqa: E402

cases = [(0.3968559648653261, 8.089451849777616), (1.0, 8.0), (2.5, 12.0), (0.5, 30.0), (7.9, 8.1)]
worst = 0.0
for a, b in cases:
    got = float(betaln(np.float64(a), np.float64(b)))
    want = float(scipy.special.betaln(a, b))
    print(f"betaln({a}, {b}): jax {got!r}, scipy {want!r}, off by {got - want:.3e}")
    worst = max(worst, abs(got - want))
print(f"largest error {worst:.3e} (float64 eps {np.finfo(np.float64).eps:.3e})")
sys.exit(1 if worst > 1e-12 else 0)
