"""XLA:CPU constant-folds ``clz`` of a negative signed integer to ``-(64 - bits)`` (int32 -32) instead of 0.

Found by ``jaxsynth fuzz --config numerics --seed 11`` (program 134; reference, eager, passes and sharding
oracles all disagree with jit). ``lax.clz(x)`` of a negative integer is 0 (the sign bit is set). Under jit, when
the operand is a compile-time constant, the result is -32 for int32, -48 for int16 and -56 for int8 (as if
counted over 64 bits of the sign-extended value, then narrowed); with the same value as a runtime argument, or
in eager mode, it is 0. ``jaxsynth fuzz --config all --seed 100`` found it again as
``lax.clz(jnp.squeeze(-1 | x0, axis=0))`` (low-precision-ints 17: ``algsimp`` makes ``-1 | x`` the constant -1)
and as an index into ``.at[].get(mode='fill')`` (control-flow 32: the index -32 is out of bounds, so the fill
value NaN). No upstream issue found (searched openxla/xla and jax-ml/jax for clz constant folding).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import sys

import jax
import jax.lax as lax
import jax.numpy as jnp

ok = True
for dtype in (jnp.int32, jnp.int16, jnp.int8):
    folded = int(jax.jit(lambda dtype=dtype: lax.clz(dtype(-2)))())
    runtime = int(jax.jit(lax.clz)(dtype(-2)))
    with jax.disable_jit():
        eager = int(lax.clz(dtype(-2)))
    print(f"{jnp.dtype(dtype).name} clz(-2): jit on a constant {folded}, jit on an argument {runtime}, eager {eager} "
          "(expected 0)")
    ok &= folded == runtime == eager == 0
sys.exit(0 if ok else 1)
