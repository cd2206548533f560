"""XLA:CPU fails a RET_CHECK in its FFT thunk on ``fft(conj(fft(x)))`` with ``x`` sharded on its last dim.

Found by ``jaxsynth fuzz --config numerics --seed 21`` (program 184, the ``sharding`` oracle; reduced from 5 to
3 ops). The program runs on one device, and with ``x`` sharded on its first dim; with ``x`` (complex64, 4x8)
placed with ``PartitionSpec(None, 'd1')`` on a 4x2 mesh of virtual CPU devices, execution fails with
``INTERNAL: RET_CHECK failure (xla/backends/cpu/runtime/fft_thunk.cc:168)
LayoutUtil::IsMonotonicWithDim0Major(input_shape_.layout())``: the partitioned module hands the second FFT an
operand in a non-default layout (the transposes around the all-to-all that reshards the FFT dim), which the
thunk does not accept. ``fft(fft(x))`` and a single ``fft`` work at the same sharding; the ``conj`` between
them is what keeps the layout from being normalized. An add does it too: ``ifft(fft(x) + zeros((1, 1)))`` fails
the same way (``jaxsynth fuzz --config all --seed 98``, numerics programs 274 and 415, each reduced to that).
No upstream issue for this case was found.

A lone FFT fails the same check inside a partial-manual ``shard_map`` (``jaxsynth fuzz --config all --seed 4902``,
numerics program 5, reduced from 7 ops to 1; seed 4901's numerics program 10, ``real(ifft(x))``, is the same):
``shard_map`` manual over ``b`` of a 4x2 ``('b', 'd0')`` mesh, each example's ``jnp.fft.fft`` (a complex64 [4, 3])
constrained to ``P('d0', None)`` (its first dim over the automatic axis) and the batch all-gathered. The same
constraint under plain jit works, and so does the ``shard_map`` with ``algsimp`` disabled.

The error is raised when the result is awaited (JAX dispatches asynchronously), hence ``block_until_ready``.
Exits 1 while the bug is present, 0 once it is fixed. jax/jaxlib 0.10.2: exits 1.
"""

import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402


def fft_conj_fft(x):
    return jnp.fft.fft(jnp.conj(jnp.fft.fft(x)))


def ifft_of_fft_plus_zero(x):
    return jnp.fft.ifft(jnp.fft.fft(x) + jnp.zeros((1, 1), jnp.complex64))


x = (np.arange(32, dtype=np.float32).reshape(4, 8) + 1j).astype(np.complex64)
wide = x.astype(np.complex128)
mesh = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("d0", "d1"))
placed = jax.device_put(x, NamedSharding(mesh, PartitionSpec(None, "d1")))
present = False
for f, expected in ((fft_conj_fft, np.fft.fft(np.conj(np.fft.fft(wide)))), (ifft_of_fft_plus_zero, wide)):
    try:
        got = np.asarray(jax.block_until_ready(jax.jit(f)(placed)))
    except Exception as exc:  # noqa: BLE001 - the bug: XLA rejects a valid sharded program
        print(f"{f.__name__}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        present = True
        continue
    ok = np.allclose(got, expected, rtol=1e-4, atol=1e-3)
    verdict = "fixed: the sharded result matches numpy" if ok else "no error, but the sharded result is wrong"
    print(f"{f.__name__}: {verdict}")
    present |= not ok


def fft_constrained(v):
    spec = NamedSharding(jax.sharding.get_abstract_mesh(), PartitionSpec("d0", None))
    return jax.lax.with_sharding_constraint(jnp.fft.fft(v), spec)


if hasattr(jax, "shard_map"):  # a JAX without it (older releases) shows the cases above only
    manual = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("b", "d0"))
    batch = (np.arange(96, dtype=np.float32).reshape(8, 4, 3) + 1j).astype(np.complex64)
    partial_manual = jax.shard_map(lambda xs: jax.lax.all_gather(jax.vmap(fft_constrained)(xs), "b", tiled=True),
                                   mesh=manual, in_specs=PartitionSpec("b"), out_specs=PartitionSpec(),
                                   axis_names={"b"}, check_vma=False)
    try:
        got = np.asarray(jax.block_until_ready(jax.jit(partial_manual)(
            jax.device_put(batch, NamedSharding(manual, PartitionSpec("b"))))))
    except Exception as exc:  # noqa: BLE001 - the bug: XLA rejects a valid sharded program
        print(f"fft in a partial-manual shard_map: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        present = True
    else:
        ok = np.allclose(got, np.fft.fft(batch.astype(np.complex128)), rtol=1e-4, atol=1e-3)
        print(f"fft in a partial-manual shard_map: {'fixed' if ok else 'no error, but the result is wrong'}")
        present |= not ok
sys.exit(1 if present else 0)
