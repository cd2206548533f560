"""``jax.vmap`` over a batch of one of ``x.at[:2, :3].set(x[jnp.array([1, 1])][:, i])`` (a gather of row 1 twice,
then of the columns ``i``, written back into ``x``) is wrong under jit: the second written row repeats the first
gathered element (``[10, 10, 10]`` where ``[10, 8, 9]`` is right for ``x = arange(64).reshape(8, 8)``,
``i = [2, 0, 1]``). ``jit(f)`` on the example alone, a batch of two, ``x[1:3]`` for the rows, and the gather
without the write are all right, and so is the batch of one with the HLO pass ``algsimp`` disabled.

Found by ``jaxsynth fuzz --config all --seed 94`` (structured, program 178, the ``sharding`` oracle:
``shard_map(vmap(f))`` over 8 devices puts one example on each device; the fuzzer reduced it to
``x0.at[jnp.full((7,), 1)].get(mode='promise_in_bounds')[:, x1]`` written back with ``dynamic_update_slice``,
culprit pass ``algsimp``), reduced by hand to the line below. Float32 and int32 alike. No upstream issue for it was
found; ``bench/findings/xla_spmd_scatter_wrong_with_algsimp.py`` is another scatter that ``algsimp`` breaks, under
SPMD. Exits 1 while present: on jax/jaxlib 0.4.35, 0.6.2 and 0.10.2; 0.4.26 is right.
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np


def f(x, i):
    return x.at[:2, :3].set(x[jnp.array([1, 1])][:, i])


x = np.arange(64, dtype=np.float32).reshape(8, 8)
i = np.array([2, 0, 1], np.int32)
want = x.copy()
want[:2, :3] = x[[1, 1]][:, i]
single = np.asarray(jax.jit(f)(x, i))
batched = np.asarray(jax.jit(jax.vmap(f, in_axes=(None, 0)))(x, i[None]))[0]
print("jit(f):                   rows 0-1:", single[:2, :3].tolist())
print("jit(vmap(f)), batch of 1: rows 0-1:", batched[:2, :3].tolist())
print("expected:                 rows 0-1:", want[:2, :3].tolist())
sys.exit(1 if not (batched == want).all() else 0)
