"""XLA:CPU with ``--xla_cpu_multi_thread_eigen=false`` returns wrong values for two transposes of one dot.

Found by ``jaxsynth fuzz --config all -n 25 --seed 1110`` (``numerics`` program 15, the ``vmap`` and ``jitvmap``
oracles; the fuzzer's triage: "disabling 'algsimp' removes it") as ``jax.vmap`` of
``jnp.linalg.multi_dot([std(x1, axis=0, ddof=1), x0, c])``, with ``c`` a constant matrix, returned twice: the
batched chain contracts ``c``'s first axis with the batch's last, and vmap's two outputs are two ``transpose``s of
that one ``dot_general``. Rows of equal values came back mixed across rows (6.28 where -1.28 is right). Reduced by
hand to ``d = lax.dot_general(m, w, (((0,), (1,)), ((), ())))`` (a (5, 3) result) and ``return d.T, d.T``. In the
optimized HLO ``algsimp`` has folded both transposes into the dot, whose result is laid out {0,1}, then copied to
{1,0} once for both outputs; run without Eigen's thread pool (the flag jaxsynth's fuzz workers set, so that
optimized HLO does not depend on the machine's cores) the values land in the wrong elements. Right with one
transpose, with a plain ``w @ m`` returned twice, with the default multi-threaded Eigen, and with ``algsimp``
disabled. Wrong on jaxlib 0.6.2 and 0.10.2. No upstream issue found (searched openxla/xla for
``xla_cpu_multi_thread_eigen`` and dot layouts).

Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()

import jax  # noqa: E402
import numpy as np  # noqa: E402

m = np.arange(1, 26, dtype=np.float32).reshape(5, 5) / 25
w = np.arange(1, 16, dtype=np.float32).reshape(3, 5) / 15
dims = (((0,), (1,)), ((), ()))  # contract m's rows with w's columns: a (5, 3) result


def f(m, w):
    d = jax.lax.dot_general(m, w, dims)
    return d.T, d.T


expected = (w.astype(np.float64) @ m.astype(np.float64)).astype(np.float32)
got = jax.jit(f)(m, w)
ok = True
for k, g in enumerate(got):
    g = np.asarray(g)
    good = np.allclose(g, expected, rtol=1e-5, atol=1e-5)
    print(f"output {k}: {'right' if good else 'wrong'}; got row 0 {g[0].tolist()}, expected {expected[0].tolist()}")
    ok &= good
unfused = jax.jit(f).lower(m, w).compile({"xla_disable_hlo_passes": "algsimp"})(m, w)
print("with algsimp disabled:", "right" if all(np.allclose(np.asarray(g), expected, rtol=1e-5, atol=1e-5)
                                               for g in unfused) else "wrong")
sys.exit(0 if ok else 1)
