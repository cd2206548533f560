"""XLA:CPU dies of a stack overflow (SIGSEGV) while compiling ``sigmoid(sigmoid(jnp.take(x, idx, axis=1)))`` on a
float32[2, 2] array with constant in-range indices ``[0, 1]`` once the HLO pass ``algsimp`` is disabled. The
default pipeline compiles it; so do one ``sigmoid``, and ``jnp.take(..., mode="clip")`` (the crash needs the
default ``mode="fill"``, whose gather is followed by a select of NaN for out-of-range indices). gdb shows about
3,800 frames of ``emitters::HloToMlir`` -> ``SubgraphConverter::EmitInstruction`` ->
``SubgraphConverter::ProvideOperand`` -> ``HloToMlir`` ... on a compile thread
(``PjRtCpuClient::CompileInternal``), ending in ``CreateDenseElementsAttrFromLiteral``: the fusion emitter
recurses over the fused gather until the thread's stack runs out. ``--xla_disable_hlo_passes`` is a supported
flag; a pass pipeline without ``algsimp`` must not crash the compiler. Probably the same emitter recursion as
``xla_cpu_transpose_fusion_recursion_without_algsimp.py``, with a gather instead of a transpose.

It is: the HLO dumped after each pass shows ``reshape-mover`` growing the module on every iteration of the
``simplification`` pipeline once ``algsimp`` is disabled (the gather's expansion holds transposes: 60 after one
``reshape-mover``, 78 after the next, 1,107 after the last; 976 transpose/copy pairs in the optimized HLO), and
the line below compiles with ``algsimp,reshape-mover`` disabled (the transpose repro's docstring has the details).

Found by ``jaxsynth fuzz --config all --seed 94`` (nn-special, program 173, the ``passes`` oracle:
``sigmoid(rsqrt(expm1(tanh(jnp.take(x0, idx, axis=2)))))`` on float32[5, 1, 5] with ``algsimp`` and
``constant_folding`` among the disabled passes; the fuzzer reduced it to 5 ops), reduced by hand to the line
below. No upstream issue for it was found.

Compiles in a child process. Exits 1 if the child dies of a signal (the bug), 0 if it compiles, 3 if it fails
another way. jax/jaxlib 0.10.2: exits 1. It compiles on 0.4.26, 0.4.35 and 0.6.2 (``algsimp`` disabled through
``XLA_FLAGS`` on the older two), so it is a regression since 0.6.2.
"""
import os
import subprocess
import sys


def child() -> None:
    import jax
    import jax.numpy as jnp

    def f(x):
        return jax.nn.sigmoid(jax.nn.sigmoid(jnp.take(x, jnp.array([0, 1]), axis=1)))

    x = jnp.ones((2, 2), jnp.float32)
    jax.jit(f).lower(x).compile({"xla_disable_hlo_passes": "algsimp"})


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        child()
        sys.exit(0)
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "child"], capture_output=True, text=True)
    if done.returncode < 0:
        print(f"the compiler died of signal {-done.returncode}")
        sys.exit(1)
    if done.returncode != 0:
        print(done.stderr[-2000:])
        sys.exit(3)
    print("compiled")
    sys.exit(0)
