"""A complex128 FFT inside a partial-manual ``shard_map`` fails XLA's HLO verifier: ``Binary op multiply with
different element types: c64[] and c128[]``. The SPMD partitioner's FFT handling multiplies the complex128 data by
a factor it builds as complex64 (its twiddle factors, by the look of it); the same program in complex64 compiles
and is right, and so does the complex128 FFT under a plain ``jit`` with its FFT dim sharded.

Found by ``jaxsynth fuzz --config x64.toml -n 60 --seed 1121`` (session 42, the first campaign of a
``types.x64 = true`` config run in 64-bit mode: float64, float32, int32 and complex128; program 30, the
``sharding`` oracle's partial-manual variant, reduced to ``jnp.fft.fft(x0)``): ``shard_map(vmap(fft))`` manual
over the batch axis ``b`` of a (4, 2) mesh (``axis_names={'b'}``), ``d0`` left to the partitioner, the
c128[8, 1, 6] input placed on ``('b', None, 'd0')`` (the FFT dim split over ``d0``).

Not the partial-manual FFT bugs of ``xla_spmd_partial_manual_fft.py`` (a shape verifier error, a CHECK in
``fft_handler.cc``): those need a constraint on the FFT dim or an FFT too short to split; this one is the element
type alone. On jaxlib 0.6.2 the complex64 program already aborts (``spmd_partitioner.cc:529 Check failed:
target.IsManualSubgroup() == sharding().IsManualSubgroup()``), so the complex128 one cannot be told apart there.
Upstream: no issue found. jax/jaxlib 0.10.2: exits 1. Exits 0 once the complex128 FFT compiles and matches numpy.
"""
import os
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

mesh = Mesh(np.array(jax.devices()[:8]).reshape((4, 2)), ("b", "d0"))
body = jax.vmap(jnp.fft.fft)
g = jax.jit(jax.shard_map(lambda a: jax.lax.all_gather(body(a), "b", tiled=True), mesh=mesh, out_specs=P(),
                          in_specs=(P("b"),), axis_names={"b"}, check_vma=False))
wrong = 0
for dtype in (np.complex64, np.complex128):
    x = (np.arange(48).reshape(8, 1, 6) * (1 + 0.5j)).astype(dtype)
    placed = jax.device_put(x, NamedSharding(mesh, P("b", None, "d0")))
    try:
        got = np.asarray(g(placed))
        error = float(np.abs(got - np.fft.fft(x)).max())
        ok = error <= 1e-3 * float(np.abs(np.fft.fft(x)).max())
        print(f"{np.dtype(dtype).name}: compiles, max |difference| from numpy {error:.3g}")
    except Exception as exc:  # noqa: BLE001 - the verifier's error is the finding
        ok = False
        print(f"{np.dtype(dtype).name}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    wrong += not ok
sys.exit(1 if wrong else 0)
