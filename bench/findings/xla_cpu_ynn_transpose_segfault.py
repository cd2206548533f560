"""XLA:CPU dies of SIGSEGV inside YNNPACK (``ynn::define_static_transpose`` in ``ynn_subgraph::fusion``) while
building the executable of a ``__ynn_fusion`` at run time, for a large elementwise/softmax/standardize program
compiled with the HLO passes ``algsimp`` and ``cse`` disabled. Intermittent: about half of fresh processes crash.

Found by ``jaxsynth fuzz --config models --seed 43`` (program 491, the ``passes`` oracle; not reduced). The same
program with either pass alone disabled, or with the default pipeline, ran cleanly in every try. The crash is at
execution (``YnnFusionThunk::Execute`` -> ``CreateYnnExecutable`` -> ``ynn_optimize_subgraph``), so the lazily
built YNN executable is the suspect, not the HLO passes themselves. The inputs below are random (the crash does
not depend on the campaign's values). Related, not the same: ``xla_cpu_ynn_fusion_pool_broadcast_constant.py``
(wrong values from another YNN fusion); no upstream issue for this case was found.

Runs the program in up to 8 fresh child processes. Exits 1 if one dies of SIGSEGV (the bug), 0 if all 8 finish,
3 if a child fails another way. jax/jaxlib 0.10.2: exits 1 (4 of 6 and 2 of 4 processes crashed in two tries).
"""
import os
import signal
import subprocess
import sys

SOURCE = '''
import jax
import jax.numpy as jnp


def compute(params, x, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12):
    h = jnp.dot(x, params["dense_0"]["kernel"]) + params["dense_0"]["bias"]
    v0 = jnp.cos(x)
    v1 = jax.nn.silu(x0) + jax.nn.gelu(jax.nn.silu(v0), approximate=False)
    v2 = jnp.sqrt(jnp.maximum(x0, jax.nn.relu(v1)))
    v3 = jnp.sin(jnp.sin(jnp.minimum(jax.nn.gelu(x1, approximate=False), x1)))
    v4 = jnp.expm1(jax.nn.one_hot(x2, 32, dtype=jnp.float32)) / jnp.sqrt(jnp.sqrt(x3))
    v5 = jnp.maximum(v3, jax.nn.silu(jax.nn.relu(jnp.maximum(v4, x4) / x5)))
    v6 = jnp.cos(jnp.abs(jnp.maximum(2.0, x1) + x1 / x7))
    v7 = jax.nn.leaky_relu(x9 * x1 + jnp.cos(x3), negative_slope=0.01)
    v8 = jnp.abs(v6 * (jax.nn.logsumexp(x8) * v7))
    v9 = x6 + jnp.expm1(jnp.minimum(jnp.cos(v8 / x7), x1))
    v10 = jax.nn.log_softmax(jax.scipy.special.erf(jax.nn.sigmoid(v9)), axis=1)
    v11 = jnp.square(jax.nn.logsumexp(jnp.log1p(v5), axis=0) * v10)
    v12 = jnp.cos(h + jnp.cos(jnp.minimum(v2, jnp.sin(v11))))
    v13 = jax.nn.log_sigmoid(jax.nn.standardize(x10 / x11, axis=0, algorithm="stable"))
    v14 = jnp.expm1(jax.scipy.special.erf(jax.nn.softplus(jax.nn.log_softmax(v0, axis=2))))
    h_1 = jnp.dot(v14, params["mlp_0"]["fc1"]["kernel"])
    h_2 = jax.nn.relu(h_1 + params["mlp_0"]["fc1"]["bias"])
    out = jnp.dot(h_2, params["mlp_0"]["fc2"]["kernel"])
    v15 = jnp.maximum(x, v13) + (out + params["mlp_0"]["fc2"]["bias"])
    v16 = jax.nn.softmax(jnp.minimum(jnp.sqrt(x12), v2), axis=2) * -2.0
    v17 = jax.nn.relu(jnp.cos(v14)) + jax.nn.gelu(jax.scipy.special.erf(v16), approximate=True)
    v18 = jax.nn.standardize(jnp.tanh(v17), axis=-1, algorithm="stable")
    v19 = jnp.maximum(v12, jax.scipy.special.erf(jax.scipy.special.erf(v15) + v18))
    return jnp.maximum(v19, x5)
'''

SHAPES = [(32,), (32, 32), (32,), (32, 32), (32,), (32, 32), (120, 120, 32), (120, 120, 32), (), (1, 120), (),
          (1, 120, 32), (120, 120, 32), (120, 32), (), (32, 120), (), (120, 120, 1), (120, 120, 1), (120, 1, 32)]


def child() -> None:
    import jax
    import numpy as np

    namespace: dict = {}
    exec(SOURCE, namespace)
    rng = np.random.default_rng(0)
    a = [rng.uniform(0.5, 2.0, s).astype(np.float32) for s in SHAPES]
    a[9] = rng.integers(0, 32, SHAPES[9]).astype(np.int32)  # the one_hot indices
    params = {"dense_0": {"bias": a[0], "kernel": a[1]},
              "mlp_0": {"fc1": {"bias": a[2], "kernel": a[3]}, "fc2": {"bias": a[4], "kernel": a[5]}}}
    args = [params, *a[6:]]
    executable = jax.jit(namespace["compute"]).lower(*args).compile({"xla_disable_hlo_passes": "algsimp,cse"})
    for _ in range(10):
        jax.block_until_ready(executable(*args))


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        child()
        sys.exit(0)
    for attempt in range(8):
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "child"], capture_output=True, text=True)
        if done.returncode == -signal.SIGSEGV:
            print(f"child {attempt + 1} died of SIGSEGV: the bug is present")
            sys.exit(1)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            print("repro.py itself failed (exit 3): this is not evidence of the finding", file=sys.stderr)
            sys.exit(3)
    print("8 children finished: not observed")
    sys.exit(0)
