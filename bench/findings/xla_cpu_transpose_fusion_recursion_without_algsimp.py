"""XLA:CPU dies of a stack overflow (SIGSEGV) while compiling ``jnp.maximum(y, 0) + jnp.exp(-jnp.abs(y))`` with
``y = x.T`` on a bfloat16[2, 2] array once the HLO pass ``algsimp`` is disabled. The default pipeline compiles
it, and float32 or float16 compile either way. gdb shows thousands of frames of
``emitters::HloToMlir`` -> ``SubgraphConverter::ProvideOperand`` -> ``HloToMlir`` ... ending in
``ComputeOutputToInputTransposeOpIndexing`` -> ``OperandIndexing::VerifyOrDie``: the fusion emitter recurses
without end over the fused transpose (``CpuCompiler::RunBackend`` -> ``ThunkEmitter::EmitEntryComputation``).
``--xla_disable_hlo_passes`` is a supported flag; a pass pipeline without ``algsimp`` must not crash the
compiler. This is ``jax.nn.softplus(x.T)`` in bfloat16, the ``logaddexp`` JAX lowers softplus to. The same
recursion (about 3,770 frames) is reached by ``sigmoid(sigmoid(jnp.transpose(c.at[:, i].set(u), (2, 1, 0))))``,
``c`` and ``u`` float32 constants, ``i`` an int32 input (``jaxsynth fuzz --config all --seed 909 --oracles
reference,passes,sharding``, default program 1180, ``algsimp`` disabled), by
``rsqrt(square(-exp(sigmoid(erf(jnp.cross(x, c))))))`` on float32[6, 1, 3] (``jnp.cross`` moves its axis with a
transpose; default program 391 of ``--seed 1001``) and by a bfloat16 ``log1p(exp(v))`` of a ``vmap(...,
out_axes=1)`` result (models program 193 of ``--seed 1001``); gdb shows the same ~3,770 frames in both.
A bfloat16 chain of ``cumsum``, ``silu``, ``matmul``, ``einsum`` and ``dot`` with constant operands (models
program 10 of ``--seed 1012``) reaches it through a broadcast: 3,773 frames ending in
``ComputeOutputToInputBroadcastOpIndexing`` -> ``OperandIndexing::VerifyOrDie``.

The cause is before the emitter (found in session 30 by dumping the HLO after each pass,
``XLA_FLAGS="--xla_dump_to=DIR --xla_dump_hlo_as_text --xla_dump_hlo_pass_re=.*"``): without ``algsimp`` to cancel
``transpose(transpose(x))``, the ``reshape-mover`` pass of the ``simplification`` fixed-point pipeline moves the
transpose across the bfloat16/float32 converts on every iteration and leaves the old ones behind, so the module
grows by about 24 transposes per iteration (3 after the first ``reshape-mover``, 825 after the 39th, 991
transpose/copy pairs in the optimized HLO of the line below) and the pipeline never reaches its fixed point. The
emitter then recurses over a fusion thousands of instructions deep until the thread's stack runs out. With
``algsimp,reshape-mover`` disabled it compiles. Seed 1019's ``models`` program 59 (``passes`` oracle, reduced to 12
ops: a bfloat16 ``einsum('ij->ji')`` of a [40, 32] input through ``abs``, ``expm1``, ``cos``, ``exp``, ``cos`` and a
dot) is the same: 1,739 transpose/copy pairs, a crash with 6,770 frames of ``ElementalIrEmitter`` ->
``FusedIrEmitter`` (the legacy emitter this time, ending in ``IrArray::Index::SourceIndexOfTranspose``), right with
``reshape-mover`` also disabled, in float32, float16, or with the default pipeline.

Found by ``jaxsynth fuzz --config models --seed 51`` (program 41, the ``passes`` oracle, which had disabled
``algsimp``, ``cse``, ``simplify-fp-conversions`` and ``transpose-folding``: a bfloat16 softmax/standardize
block over a transposed concatenation), reduced by hand to the line below. No upstream issue for it was found.

Compiles in a child process. Exits 1 if the child dies of a signal (the bug), 0 if it compiles, 3 if it fails
another way. jax/jaxlib 0.10.2: exits 1.
"""
import os
import subprocess
import sys


def child() -> None:
    import jax
    import jax.numpy as jnp

    def f(x):
        y = x.T
        return jnp.maximum(y, 0.0) + jnp.exp(-jnp.abs(y))

    x = jnp.ones((2, 2), jnp.bfloat16)
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
