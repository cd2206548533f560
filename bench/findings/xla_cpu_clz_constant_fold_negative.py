"""XLA:CPU constant-folds ``clz`` of a negative int32 to -32 instead of 0.

Found by ``jaxsynth fuzz --config numerics --seed 11`` (program 134; reference, eager, passes and sharding
oracles all disagree with jit). ``lax.clz(x)`` of a negative int32 is 0 (the sign bit is set). Under jit, when
the operand is a compile-time constant, the result is -32; with the same value as a runtime argument, or
in eager mode, it is 0. No upstream issue found (searched openxla/xla and jax-ml/jax for clz constant folding).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import sys

import jax
import jax.lax as lax
import jax.numpy as jnp

folded = int(jax.jit(lambda: lax.clz(jnp.int32(-2)))())
runtime = int(jax.jit(lax.clz)(jnp.int32(-2)))
with jax.disable_jit():
    eager = int(lax.clz(jnp.int32(-2)))
print(f"clz(-2): jit on a constant {folded}, jit on an argument {runtime}, eager {eager} (expected 0)")
sys.exit(0 if folded == runtime == eager == 0 else 1)
