"""XLA:CPU dies of SIGSEGV running ``softmax(log_softmax(x, axis=0), axis=2)`` on a float32[160, 160, 1] (also
[64, 64, 8] and [160, 160, 24]) compiled with the HLO passes ``algsimp`` and ``reshape-mover`` disabled. The three
reductions become ``__ynn_fusion``s. Intermittent: about half of fresh processes crash, and a run that does not
crash gives the right values.

Found by ``jaxsynth fuzz --config all --seed 92`` (``models`` program 39, the ``passes`` oracle, reduced to
``softmax(log_softmax(x0, axis=0) - 0.5, axis=2) / 0.5``), then narrowed by hand to two ops and two passes.
Neither pass alone, nor ``algsimp`` with ``fusion`` or ``cse``, crashed in 4 tries each. With YNN's reduce fusion
off (``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-LIBRARY_FUSION_TYPE_REDUCE``), 0 of 6 processes crashed,
against 3 of 6 with it on. Related, not the same: ``xla_cpu_ynn_transpose_segfault.py`` (a YNN executable built
at run time crashes, with ``algsimp`` and ``cse`` disabled). No upstream issue for this case was found.

Found again by seed 1018 (``models`` program 38, the ``passes`` oracle) in another form:
``jnp.sum(jax.nn.sigmoid(jax.nn.sigmoid(x)), axis=0)`` of a bfloat16[512, 512] dies of SIGSEGV while running, with
``algsimp,cse,constant_folding`` disabled (2 of 3 fresh processes; 3 of 3 with the oracle's nine passes), never with
two of those three passes, in float32, at 64x64, or with YNN's reduce fusion off.

Runs the program in up to 8 fresh child processes, with the fuzz worker's ``XLA_FLAGS``. Exits 1 if one dies of
SIGSEGV (the bug), 0 if all 8 finish, 3 if a child fails another way. jax/jaxlib 0.10.2: exits 1.
"""
import os
import signal
import subprocess
import sys

FLAGS = "--xla_force_host_platform_device_count=8 --xla_cpu_multi_thread_eigen=false"  # as the fuzz worker


def child() -> None:
    import jax
    import numpy as np

    def f(x):
        return jax.nn.softmax(jax.nn.log_softmax(x, axis=0), axis=2)

    x = np.random.default_rng(0).standard_normal((160, 160, 1)).astype(np.float32)
    executable = jax.jit(f).lower(x).compile({"xla_disable_hlo_passes": "algsimp,reshape-mover"})
    for _ in range(3):
        jax.block_until_ready(executable(x))


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        child()
        sys.exit(0)
    env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} {FLAGS}".strip())
    for attempt in range(8):
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "child"], capture_output=True, text=True,
                              env=env)
        if done.returncode == -signal.SIGSEGV:
            print(f"child {attempt + 1} died of SIGSEGV: the bug is present")
            sys.exit(1)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            print("repro.py itself failed (exit 3): this is not evidence of the finding", file=sys.stderr)
            sys.exit(3)
    print("8 children finished: not observed")
    sys.exit(0)
