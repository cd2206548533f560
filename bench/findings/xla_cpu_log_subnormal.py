"""XLA:CPU's float32 `log` of a subnormal gives -inf (the log of the flushed zero, as its denormals-are-zero mode
has it) for arrays of 1, 2, 4, 8, 9, 16, ... elements, and -103.97 (the log of 2**-150: neither that nor IEEE's
-102.18 for 3 times the smallest subnormal) for arrays of 3, 5 or 7 elements. Found by `jaxsynth fuzz --config
fuzz-special --seed 91` (programs 1158 and 2329: `jnp.log(x)` of an input with a subnormal element, jit and eager
alike), then narrowed by hand to the array length.

Whatever XLA:CPU's contract for subnormal inputs, one op giving two answers for the same value by array length is a
bug. Related upstream: jax-ml/jax#37670 and jax-ml/jax#37762 (log of a subnormal is -inf under
denormals-are-zero; closed); no upstream issue for the length-dependent value was found. Exits 1 while present.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

x = 3 * np.finfo(np.float32).smallest_subnormal
results = {}
for n in (1, 3, 4, 5, 8):
    got = np.asarray(jax.jit(jnp.log)(np.full(n, x, np.float32)))
    results[n] = sorted({float(v) for v in got})
    print(f"jnp.log of {n} x {x!r}: {results[n]}")
print(f"IEEE: {float(np.log(np.float64(x))):.5f}")
sys.exit(1 if len({tuple(v) for v in results.values()}) > 1 else 0)
